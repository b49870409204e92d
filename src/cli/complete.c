/*
 * tally __complete WORD… — the answers behind the bash, zsh and fish
 * completion scripts (completions/).  WORDs are the command line after
 * `tally`, the last one the word being completed ("" after a space).
 *
 * Prints one candidate per line, "VALUE\tDESCRIPTION" (the description may
 * be empty), then a last line that tells the shell what else to do:
 *   :        nothing (a space follows a completed word)
 *   :nospace the word goes on (a NAME= flag, a query being typed)
 *   :files   the shell's own file names
 *   :dirs    the shell's own directory names
 *
 * Commands and their options come from the same --help texts as the man
 * pages (commands.c); run references, flag, scalar and tag names from the
 * index as it is, never synced (tally_store_complete), so a Tab costs a few
 * milliseconds at 100,000 runs; a script's flags from flag detection.
 */
#include <dirent.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/buf.h"

#define MAX_CANDIDATES 200

/* ---- what was typed ---- */

typedef struct {
	char **words; /* after `tally` and its global options */
	int n;        /* the last is the word being completed */
	const char *runs_dir;
	const char *directive;
} context;

static const char *current(const context *cx)
{
	return cx->words[cx->n - 1];
}

static bool starts_with(const char *text, const char *prefix)
{
	return !strncmp(text, prefix, strlen(prefix));
}

/* What every candidate starts with: "--where=" while completing --where=EXPR. */
static const char *option_head = "";

static void offer(const char *value, const char *description)
{
	printf("%s%s\t%s\n", option_head, value, description ? description : "");
}

/* `head` + value, for candidates completing the tail of a word (a query's last name). */
static void offer_after(const char *head, size_t head_len, const char *value, const char *description)
{
	printf("%s%.*s%s\t%s\n", option_head, (int)head_len, head, value, description ? description : "");
}

/* ---- options, read from a command's --help text ---- */

typedef struct {
	char name[48];     /* "--where", "-w" */
	char metavar[48];  /* "EXPR", "table|csv|json", "" for a switch */
	char summary[96];
} option_spec;

typedef struct {
	option_spec items[96];
	size_t n;
} option_list;

static void copy_text(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* One "-x, --name VALUE" piece of an option line's term. */
static void add_option_piece(option_list *list, const char *piece, size_t len, const char *summary, size_t summary_len)
{
	if (list->n >= sizeof list->items / sizeof *list->items || len < 2 || piece[0] != '-')
		return;
	size_t name_len = strcspn(piece, " =");
	if (name_len > len)
		name_len = len;
	option_spec *o = &list->items[list->n++];
	copy_text(o->name, sizeof o->name, piece, name_len);
	const char *value = piece + name_len;
	size_t value_len = len - name_len;
	while (value_len && (*value == ' ' || *value == '=')) {
		value++;
		value_len--;
	}
	copy_text(o->metavar, sizeof o->metavar, value, value_len);
	copy_text(o->summary, sizeof o->summary, summary, summary_len);
}

/* "  -w, --where EXPR     runs for which EXPR holds": the term, then two spaces. */
static void parse_option_line(option_list *list, const char *line, size_t len)
{
	const char *term = line + strspn(line, " ");
	const char *end = line + len;
	const char *gap = strstr(term, "  ");
	const char *term_end = gap && gap < end ? gap : end;
	const char *summary = term_end;
	while (summary < end && *summary == ' ')
		summary++;
	size_t first = list->n;
	for (const char *p = term; p < term_end;) {
		const char *comma = memchr(p, ',', (size_t)(term_end - p));
		const char *piece_end = comma ? comma : term_end;
		add_option_piece(list, p, (size_t)(piece_end - p), summary, (size_t)(end - summary));
		p = comma ? comma + 1 + strspn(comma + 1, " ") : term_end;
	}
	/* "-w, --where EXPR": the short form takes what the long one takes */
	for (size_t i = first; i + 1 < list->n; i++)
		if (!list->items[i].metavar[0] && list->items[i].name[1] != '-')
			memcpy(list->items[i].metavar, list->items[i + 1].metavar, sizeof list->items[i].metavar);
}

/* Choices written into the synopsis ("[--format table|json]") replace a metavar. */
static void read_synopsis_choices(option_list *list, const char *usage)
{
	for (size_t i = 0; i < list->n; i++) {
		option_spec *o = &list->items[i];
		if (!o->metavar[0] || strchr(o->metavar, '|'))
			continue;
		tally_buf pattern = TALLY_BUF_INIT;
		tally_buf_printf(&pattern, "%s ", o->name);
		for (const char *at = strstr(usage, pattern.ptr); at; at = strstr(at + 1, pattern.ptr)) {
			const char *value = at + pattern.len;
			size_t len = strcspn(value, " ]\n");
			if (memchr(value, '|', len)) {
				copy_text(o->metavar, sizeof o->metavar, value, len);
				break;
			}
		}
		tally_buf_release(&pattern);
	}
}

static void read_more_options(option_list *list, const char *usage)
{
	for (const char *line = usage; *line;) {
		size_t len = strcspn(line, "\n");
		size_t indent = strspn(line, " ");
		if (indent >= 2 && indent <= 6 && indent < len && line[indent] == '-')
			parse_option_line(list, line, len);
		line += len + (line[len] == '\n');
	}
	read_synopsis_choices(list, usage);
}

static void read_options(option_list *list, const char *usage)
{
	list->n = 0;
	read_more_options(list, usage);
}

static const option_spec *find_option(const option_list *list, const char *name)
{
	for (size_t i = 0; i < list->n; i++)
		if (!strcmp(list->items[i].name, name))
			return &list->items[i];
	return NULL;
}

/* ---- the index and the runs directory ---- */

static tally_store *open_store(const context *cx)
{
	tally_store *store = NULL;
	return tally_store_open(&store, cx->runs_dir) == 0 ? store : NULL;
}

static void offer_from_index(const context *cx, tally_complete_kind kind, const char *head, size_t head_len,
                             const char *prefix)
{
	tally_store *store = open_store(cx);
	tally_completion *items = NULL;
	size_t n = 0;
	if (store && tally_store_complete(store, kind, prefix, MAX_CANDIDATES, &items, &n) == 0)
		for (size_t i = 0; i < n; i++)
			offer_after(head, head_len, items[i].value, items[i].description);
	tally_completions_free(items, n);
	tally_store_free(store);
}

static void offer_runs(const context *cx)
{
	offer_from_index(cx, TALLY_COMPLETE_RUNS, "", 0, current(cx));
}

/* The entries of RUNS/SUBFOLDER (dot-names aside) starting with the word,
 * as run ids' random parts when `short_ids`. */
static void offer_folder_entries(const context *cx, const char *subfolder, bool short_ids, const char *description)
{
	tally_store *store = open_store(cx);
	if (!store)
		return;
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/%s", tally_store_path(store), subfolder);
	DIR *dir = opendir(path.ptr);
	size_t offered = 0;
	for (struct dirent *e; dir && offered < MAX_CANDIDATES && (e = readdir(dir));) {
		const char *value = short_ids ? tally_run_id_short(e->d_name) : e->d_name;
		if (e->d_name[0] != '.' && starts_with(value, current(cx))) {
			offer(value, description);
			offered++;
		}
	}
	if (dir)
		closedir(dir);
	tally_buf_release(&path);
	tally_store_free(store);
}

/* Archived runs: the archive's own index is built only when it is listed,
 * so its folder is read instead (archives stay small enough for that). */
static void offer_archived_runs(const context *cx)
{
	offer_folder_entries(cx, ".archive", true, "archived");
}

static void offer_sweeps(const context *cx)
{
	offer_folder_entries(cx, ".sweeps", false, "sweep");
}

/* ---- queries: names inside --where, --sort and --columns ---- */

static const char *const query_attributes[] = {
	"status", "started", "stopped", "duration", "label", "script", "host", "exit_status",
	"id", "name", "marked", "tags", "sweep", "trial",
};
static const char *const column_attributes[] = {
	"id", "name", "started", "stopped", "time", "status", "label", "script",
	"exit_status", "tags", "flags", "scalars", "dir",
};

static bool is_name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '.' ||
	       c == '/';
}

/* Complete the name at the end of the word (after "val_acc > 0.9 and ", "-", ","):
 * attributes, then the flags and scalars runs have. */
static void offer_query_names(context *cx, const char *const *attributes, size_t n_attributes)
{
	const char *word = current(cx);
	size_t len = strlen(word), start = len;
	while (start > 0 && is_name_char(word[start - 1]))
		start--;
	const char *prefix = word + start;
	for (size_t i = 0; i < n_attributes; i++)
		if (starts_with(attributes[i], prefix))
			offer_after(word, start, attributes[i], "attribute");
	offer_from_index(cx, TALLY_COMPLETE_FLAGS, word, start, prefix);
	offer_from_index(cx, TALLY_COMPLETE_SCALARS, word, start, prefix);
	cx->directive = ":nospace";
}

/* ---- a script's flags: NAME= after `tally run SCRIPT` ---- */

static json_t *script_flags(const char *script)
{
	char *text = NULL;
	if (tally_describe_flags(script, &text))
		return NULL;
	json_t *doc = json_loads(text, 0, NULL);
	free(text);
	return doc;
}

static void default_text(json_t *flag, tally_buf *out)
{
	json_t *def = json_object_get(flag, "default");
	const char *text = json_string_value(json_object_get(def, "text"));
	if (text)
		tally_buf_adds(out, text);
}

static void offer_flag_names(context *cx, json_t *flags, const char *prefix)
{
	tally_buf value = TALLY_BUF_INIT, description = TALLY_BUF_INIT;
	size_t i;
	json_t *flag;
	json_array_foreach(flags, i, flag) {
		const char *name = json_string_value(json_object_get(flag, "name"));
		if (!name || !starts_with(name, prefix))
			continue;
		tally_buf_clear(&value);
		tally_buf_printf(&value, "%s=", name);
		tally_buf_clear(&description);
		tally_buf_adds(&description, "default ");
		default_text(flag, &description);
		const char *help = json_string_value(json_object_get(flag, "description"));
		if (help && *help)
			tally_buf_printf(&description, " — %s", help);
		offer(value.ptr, description.ptr);
	}
	tally_buf_release(&value);
	tally_buf_release(&description);
	cx->directive = ":nospace";
}

/* After NAME=: its choices, true/false for a bool, else its default. */
static void offer_flag_values(json_t *flags, const char *word)
{
	const char *eq = strchr(word, '=');
	size_t name_len = (size_t)(eq - word);
	size_t i;
	json_t *flag;
	json_array_foreach(flags, i, flag) {
		const char *name = json_string_value(json_object_get(flag, "name"));
		if (!name || strlen(name) != name_len || strncmp(name, word, name_len))
			continue;
		json_t *choices = json_object_get(flag, "choices");
		const char *type = json_string_value(json_object_get(flag, "type"));
		tally_buf value = TALLY_BUF_INIT, text = TALLY_BUF_INIT;
		if (json_array_size(choices)) {
			size_t k;
			json_t *choice;
			json_array_foreach(choices, k, choice) {
				tally_buf_clear(&value);
				tally_buf_clear(&text);
				/* a choice is a value like a default: {"type", "text", "value"} */
				const char *choice_text = json_string_value(json_object_get(choice, "text"));
				tally_buf_adds(&text, choice_text ? choice_text : json_string_value(choice) ? json_string_value(choice) : "");
				tally_buf_printf(&value, "%.*s%s", (int)name_len + 1, word, text.ptr);
				if (starts_with(value.ptr, word))
					offer(value.ptr, "choice");
			}
		} else if (type && !strcmp(type, "bool")) {
			static const char *const bools[] = {"true", "false"};
			for (size_t k = 0; k < 2; k++) {
				tally_buf_clear(&value);
				tally_buf_printf(&value, "%.*s%s", (int)name_len + 1, word, bools[k]);
				if (starts_with(value.ptr, word))
					offer(value.ptr, "");
			}
		} else {
			default_text(flag, &text);
			tally_buf_printf(&value, "%.*s%s", (int)name_len + 1, word, text.ptr);
			if (text.len && starts_with(value.ptr, word))
				offer(value.ptr, "default");
		}
		tally_buf_release(&value);
		tally_buf_release(&text);
	}
}

static void offer_script_flags(context *cx, const char *script)
{
	json_t *doc = script_flags(script);
	json_t *flags = json_object_get(doc, "flags");
	const char *word = current(cx);
	if (strchr(word, '='))
		offer_flag_values(flags, word);
	else
		offer_flag_names(cx, flags, word);
	json_decref(doc);
}

/* `--NAME` for each flag (argparse's habit: tally run train.py --lr 0.1). */
static void offer_script_options(const char *script, const char *word)
{
	json_t *doc = script_flags(script);
	size_t i;
	json_t *flag;
	tally_buf option = TALLY_BUF_INIT, description = TALLY_BUF_INIT;
	json_array_foreach(json_object_get(doc, "flags"), i, flag) {
		const char *name = json_string_value(json_object_get(flag, "name"));
		tally_buf_clear(&option);
		tally_buf_printf(&option, "--%s", name ? name : "");
		if (!name || !starts_with(option.ptr, word))
			continue;
		tally_buf_clear(&description);
		tally_buf_adds(&description, "default ");
		default_text(flag, &description);
		offer(option.ptr, description.ptr);
	}
	tally_buf_release(&option);
	tally_buf_release(&description);
	json_decref(doc);
}

/* ---- option values ---- */

static void offer_choices(const char *choices, const char *word)
{
	for (const char *p = choices; *p;) {
		size_t len = strcspn(p, "|");
		if (!strncmp(p, word, strlen(word)) && strlen(word) <= len)
			printf("%s%.*s\t\n", option_head, (int)len, p);
		p += len + (p[len] == '|');
	}
}

static void offer_option_value(context *cx, const char *command, const option_spec *o)
{
	const char *m = o->metavar, *n = o->name, *word = current(cx);
	if (strchr(m, '|'))
		offer_choices(m, word);
	else if (!strcmp(n, "--color"))
		offer_choices("auto|always|never", word);
	else if (!strcmp(m, "DIR"))
		cx->directive = ":dirs";
	else if (strstr(m, "FILE") || !strcmp(m, "PATH") || !strcmp(m, "SCRIPT") || !strcmp(m, "ARCHIVE"))
		cx->directive = ":files";
	else if (!strcmp(n, "--where"))
		offer_query_names(cx, query_attributes, sizeof query_attributes / sizeof *query_attributes);
	else if (!strcmp(n, "--sort"))
		offer_query_names(cx, query_attributes, sizeof query_attributes / sizeof *query_attributes);
	else if (!strcmp(n, "--columns"))
		offer_query_names(cx, column_attributes, sizeof column_attributes / sizeof *column_attributes);
	else if (!strcmp(n, "--sweep") || !strcmp(n, "--resume"))
		offer_sweeps(cx);
	else if (!strcmp(m, "RUN"))
		offer_runs(cx);
	else if (!strcmp(n, "--tag") && strcmp(command, "scalars") && strcmp(command, "plot"))
		offer_from_index(cx, TALLY_COMPLETE_TAGS, "", 0, word);
	else if (!strcmp(m, "SCALAR") || !strcmp(m, "GLOB") || !strcmp(m, "TAG"))
		offer_from_index(cx, TALLY_COMPLETE_SCALARS, "", 0, word);
	else if (!strcmp(m, "WHEN"))
		offer_choices("today|yesterday|last hour|last day|last week|last 3 days", word);
}

/* ---- positional arguments ---- */

static bool takes_script(const char *command)
{
	return !strcmp(command, "run") || !strcmp(command, "tune") || !strcmp(command, "flags");
}

static void offer_positional(context *cx, const char *command, char **positionals, int n_positionals)
{
	if (takes_script(command)) {
		if (n_positionals == 0 || !strcmp(command, "flags"))
			cx->directive = ":files";
		else
			offer_script_flags(cx, positionals[0]);
	} else if (!strcmp(command, "import")) {
		cx->directive = ":files";
	} else if (!strcmp(command, "restore") || !strcmp(command, "purge")) {
		offer_archived_runs(cx);
	} else if (!strcmp(command, "ls") || !strcmp(command, "open") || !strcmp(command, "lookup")) {
		if (n_positionals == 0)
			offer_runs(cx);
	} else if (!strcmp(command, "plot")) {
		offer_runs(cx);
		offer_from_index(cx, TALLY_COMPLETE_SCALARS, "", 0, current(cx));
	} else if (!strcmp(command, "show")) {
		offer_runs(cx);
		offer_sweeps(cx);
	} else if (strcmp(command, "runs") && strcmp(command, "sweeps") && strcmp(command, "reindex")) {
		offer_runs(cx);
	}
}

/* ---- the command line ---- */

static void offer_commands(const char *word, bool topics)
{
	for (size_t i = 0; i < cli_n_commands; i++)
		if (starts_with(cli_commands[i].name, word))
			offer(cli_commands[i].name, cli_commands[i].summary);
	if (starts_with("help", word))
		offer("help", "a command's manual page, or a topic");
	if (topics) {
		static const char *const names[] = {"query", "run-format"};
		for (size_t i = 0; i < 2; i++)
			if (starts_with(names[i], word))
				offer(names[i], "topic");
	}
}

static void offer_options(const option_list *options, const char *word)
{
	for (size_t i = 0; i < options->n; i++) {
		const option_spec *o = &options->items[i];
		/* long names only, unless a short one is all that was typed */
		if ((o->name[1] == '-' || !strcmp(word, o->name)) && starts_with(o->name, word))
			offer(o->name, o->summary);
	}
}

static void complete_command(context *cx, const cli_command *command)
{
	option_list *options = calloc(1, sizeof *options);
	if (!options)
		return;
	read_options(options, command->usage);
	if (command->usage_more)
		read_more_options(options, command->usage_more);
	char **positionals = calloc((size_t)cx->n, sizeof *positionals);
	int n_positionals = 0;
	bool after_dashes = false;
	/* walk the words before the current one: which are options' values, which positionals */
	for (int i = 1; i < cx->n - 1; i++) {
		const char *w = cx->words[i];
		if (after_dashes || w[0] != '-' || !w[1]) {
			if (positionals)
				positionals[n_positionals++] = cx->words[i];
			continue;
		}
		if (!strcmp(w, "--")) {
			after_dashes = true;
			continue;
		}
		if (starts_with(w, "--runs-dir="))
			cx->runs_dir = w + strlen("--runs-dir=");
		else if (!strcmp(w, "--runs-dir") && i + 1 < cx->n - 1)
			cx->runs_dir = cx->words[i + 1];
		const option_spec *o = strchr(w, '=') ? NULL : find_option(options, w);
		if (o && o->metavar[0])
			i++; /* its value */
	}
	const char *word = current(cx);
	const char *previous = cx->n >= 2 ? cx->words[cx->n - 2] : "";
	const option_spec *o = cx->n >= 3 && previous[0] == '-' ? find_option(options, previous) : NULL;
	if (after_dashes && !strcmp(command->name, "run")) {
		cx->directive = ":files"; /* tally run -- CMD ARGS: the command's own */
	} else if (o && o->metavar[0]) {
		offer_option_value(cx, command->name, o);
	} else if (word[0] == '-' && takes_script(command->name) && n_positionals > 0) {
		offer_script_options(positionals[0], word); /* after SCRIPT, --NAME is the script's */
	} else if (word[0] == '-') {
		const char *eq = strchr(word, '=');
		if (eq && word[1] == '-') { /* --where=EXPR */
			char name[64];
			copy_text(name, sizeof name, word, (size_t)(eq - word));
			const option_spec *with_value = find_option(options, name);
			if (with_value && with_value->metavar[0]) {
				/* complete what follows '=', and hand back the whole word */
				char head[80];
				copy_text(head, sizeof head, word, (size_t)(eq + 1 - word));
				option_head = head;
				cx->words[cx->n - 1] = (char *)eq + 1;
				offer_option_value(cx, command->name, with_value);
				option_head = "";
			}
		} else {
			offer_options(options, word);
		}
	} else {
		offer_positional(cx, command->name, positionals, n_positionals);
	}
	free(positionals);
	free(options);
}

int cmd_complete(int argc, char **argv)
{
	context cx = {.words = argv + 1, .n = argc - 1, .directive = ":"};
	if (cx.n > 0 && !strcmp(cx.words[0], "--")) {
		cx.words++;
		cx.n--;
	}
	static char *empty[] = {(char *)""};
	if (cx.n == 0) { /* `tally __complete` alone: completing the first word */
		cx.words = empty;
		cx.n = 1;
	}
	/* global options before the command */
	while (cx.n > 1 && cx.words[0][0] == '-') {
		if (!strcmp(cx.words[0], "--runs-dir") && cx.n == 2) {
			printf(":dirs\n"); /* its value is being typed */
			return EXIT_OK;
		}
		if (!strcmp(cx.words[0], "--runs-dir")) {
			cx.runs_dir = cx.words[1];
			cx.words += 2;
			cx.n -= 2;
		} else {
			if (starts_with(cx.words[0], "--runs-dir="))
				cx.runs_dir = cx.words[0] + strlen("--runs-dir=");
			cx.words++;
			cx.n--;
		}
	}
	if (cx.n == 1) {
		const char *word = current(&cx);
		if (word[0] == '-') {
			static const char *const globals[][2] = {
				{"--runs-dir", "where runs live"}, {"--help", "the commands"}, {"--version", "version and commit"}};
			for (size_t i = 0; i < 3; i++)
				if (starts_with(globals[i][0], word))
					offer(globals[i][0], globals[i][1]);
		} else {
			offer_commands(word, false);
		}
	} else if (!strcmp(cx.words[0], "help")) {
		if (cx.n == 2)
			offer_commands(current(&cx), true);
	} else {
		const cli_command *command = cli_find_command(cx.words[0]);
		if (command)
			complete_command(&cx, command);
	}
	printf("%s\n", cx.directive);
	return EXIT_OK;
}
