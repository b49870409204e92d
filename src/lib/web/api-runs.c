/*
 * /api/info, /api/columns, /api/runs (a page of runs: query, shorthands,
 * sort, offset, limit), /api/runs/ID (one run) and the changes a person
 * makes from the page (label, tags, mark, comment, archive, restore).
 */
#include "lib/web/web.h"

#include <stdlib.h>
#include <string.h>

#include "lib/index/index.h"
#include "lib/web/mhdlib.h"
#include "util/timeutil.h"

#define PAGE_DEFAULT 100
#define PAGE_MAX 1000

int tally__web_info(tally_web_request *req)
{
	tally_store *store = tally__web_store(req);
	if (!store)
		return tally__web_lib_error(req, TALLY_ERROR);
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.limit = 1;
	opts.details = TALLY_ITER_COMPACT;
	tally_run_iter *it;
	int rc = tally_run_iter_new(&it, store, &opts);
	if (rc)
		return tally__web_lib_error(req, rc);
	int64_t total = tally_run_iter_total(it);
	tally_run_iter_free(it);
	json_t *o = json_object();
	json_object_set_new(o, "version", json_string(tally_version()));
	json_object_set_new(o, "runs_dir", tally__json_text(tally_store_path(store)));
	json_object_set_new(o, "csrf", json_string(req->config->csrf));
	json_object_set_new(o, "total", json_integer(total));
	return tally__web_json(req, 200, o);
}

/* The names of one kind that any run has, from the index. */
static json_t *names_of(tally_store *store, tally_complete_kind kind)
{
	json_t *list = json_array();
	tally_completion *c = NULL;
	size_t n = 0;
	if (tally_store_complete(store, kind, "", 100000, &c, &n) == 0)
		for (size_t i = 0; i < n; i++)
			json_array_append_new(list, tally__json_text(c[i].value));
	tally_completions_free(c, n);
	return list;
}

int tally__web_columns(tally_web_request *req)
{
	static const char *const attributes[] = {"id", "name", "status", "started", "stopped", "duration",
	                                         "exit_status", "label", "script", "tags", "marked", "sweep",
	                                         "comments"};
	tally_store *store = tally__web_store(req);
	if (!store)
		return tally__web_lib_error(req, TALLY_ERROR);
	tally_store_sync(store, 0, NULL); /* tally_store_complete() reads the index as it is */
	json_t *attrs = json_array();
	for (size_t i = 0; i < sizeof attributes / sizeof *attributes; i++)
		json_array_append_new(attrs, json_string(attributes[i]));
	json_t *o = json_object();
	json_object_set_new(o, "attributes", attrs);
	json_object_set_new(o, "flags", names_of(store, TALLY_COMPLETE_FLAGS));
	json_object_set_new(o, "scalars", names_of(store, TALLY_COMPLETE_SCALARS));
	return tally__web_json(req, 200, o);
}

/* A value of a shorthand, quoted as the query language's string; false when it holds both quotes. */
static bool add_quoted(tally_buf *q, const char *text)
{
	char quote = strchr(text, '\'') ? '"' : '\'';
	tally_buf_printf(q, "%c%s%c", quote, text, quote);
	return !(strchr(text, '\'') && strchr(text, '"'));
}

/* The shorthand parameters (status, tag, sweep, marked) as one query, or an answer sent (false). */
static bool shorthand_filter(tally_web_request *req, tally_buf *filter)
{
	const char *status = tally__web_arg(req, "status"), *tag = tally__web_arg(req, "tag");
	const char *sweep = tally__web_arg(req, "sweep"), *marked = tally__web_arg(req, "marked");
	if (status) {
		if (strspn(status, "abcdefghijklmnopqrstuvwxyz,") != strlen(status)) {
			tally__web_error(req, 400, "status=%s: a comma-separated list of statuses", status);
			return false;
		}
		tally_buf_adds(filter, "(status in [");
		for (const char *p = status; *p; p++)
			if (*p == ',')
				tally_buf_adds(filter, ", ");
			else
				tally_buf_addc(filter, *p);
		tally_buf_adds(filter, "])");
	}
	bool quotes_ok = true;
	if (tag) {
		tally_buf_printf(filter, "%s(tags contains ", filter->len ? " and " : "");
		quotes_ok = add_quoted(filter, tag);
		tally_buf_addc(filter, ')');
	}
	if (sweep) {
		if (strspn(sweep, "0123456789abcdef") == strlen(sweep)) { /* an id prefix: safe in a pattern */
			tally_buf_printf(filter, "%s(sweep ~ '^%s')", filter->len ? " and " : "", sweep);
		} else {
			tally_buf_printf(filter, "%s(sweep = ", filter->len ? " and " : "");
			quotes_ok = quotes_ok && add_quoted(filter, sweep);
			tally_buf_addc(filter, ')');
		}
	}
	if (marked)
		tally_buf_printf(filter, "%s(%smarked)", filter->len ? " and " : "", strcmp(marked, "0") ? "" : "not ");
	if (!quotes_ok) {
		tally__web_error(req, 400, "a filter value holds both ' and \" — use where= with one kind of quote");
		return false;
	}
	return true;
}

/* The column a query error names ("… at column 7"), 0 when none. */
static long error_column(const char *message)
{
	const char *at = strstr(message, "at column ");
	return at ? strtol(at + 10, NULL, 10) : 0;
}

/* The library's message without what only a command line needs: the option
 * and its text before it ("--where '…': "), the pointer to `tally help` after. */
static char *query_message(const char *text)
{
	if (!strncmp(text, "--", 2) && strstr(text, "': "))
		text = strstr(text, "': ") + 3;
	char *message = strdup(text), *hint = message ? strstr(message, " — see `tally help") : NULL;
	if (hint)
		*hint = '\0';
	return message;
}

/* A query that does not compile: the message, which parameter, and the column. */
static int query_error(tally_web_request *req, tally_store *store, const tally_iter_options *opts)
{
	char *message = query_message(tally_error_last());
	const char *field = "sort";
	/* which part failed: each alone tells */
	const char *parts[][2] = {{"where", opts->where}, {"filter", opts->filter}};
	for (size_t i = 0; i < 2 && !strcmp(field, "sort"); i++) {
		if (!parts[i][1])
			continue;
		tally_iter_options alone = TALLY_ITER_OPTIONS_INIT;
		alone.where = parts[i][1];
		alone.limit = 1;
		tally_run_iter *it = NULL;
		if (tally_run_iter_new(&it, store, &alone))
			field = parts[i][0];
		tally_run_iter_free(it);
	}
	json_t *o = json_object();
	json_object_set_new(o, "error", tally__json_text(message ? message : "bad query"));
	json_object_set_new(o, "field", json_string(field));
	json_object_set_new(o, "at", json_integer(message ? error_column(message) : 0));
	free(message);
	return tally__web_json(req, 400, o);
}

/* One row of /api/runs: the index's summary of the run, with its duration. */
static void add_row(tally_buf *out, const tally_run *run, int64_t now_ms)
{
	int64_t started = tally_run_started_ms(run), stopped = tally_run_stopped_ms(run);
	int64_t duration = started <= 0 ? -1 : stopped > 0 ? stopped - started : now_ms - started;
	const char *summary = tally_run_summary_json(run);
	tally_buf_printf(out, "{\"duration_ms\":%lld%s%s", (long long)duration, strcmp(summary, "{}") ? "," : "}",
	                 strcmp(summary, "{}") ? summary + 1 : "");
}

/* The warnings the query left (names no run has…), as a JSON array. */
static void add_warnings(tally_buf *out, tally_store *store)
{
	const char *w = tally_store_warnings(store);
	tally_buf_adds(out, "\"warnings\":[");
	for (bool first = true; w && *w; first = false) {
		const char *nl = strchr(w, '\n');
		size_t len = nl ? (size_t)(nl - w) : strlen(w);
		if (!first)
			tally_buf_addc(out, ',');
		tally__web_json_string(out, w, len);
		w += len + (nl != NULL);
	}
	tally_buf_addc(out, ']');
}

int tally__web_runs(tally_web_request *req)
{
	size_t offset, limit;
	if (tally__web_arg_size(req, "offset", 0, 0, SIZE_MAX / 2, &offset) ||
	    tally__web_arg_size(req, "limit", PAGE_DEFAULT, 1, PAGE_MAX, &limit))
		return MHD_YES;
	tally_buf filter = TALLY_BUF_INIT;
	if (!shorthand_filter(req, &filter)) {
		tally_buf_release(&filter);
		return MHD_YES;
	}
	tally_store *store = tally__web_store(req), *archive = NULL;
	if (!store) {
		tally_buf_release(&filter);
		return tally__web_lib_error(req, TALLY_ERROR);
	}
	const char *archived = tally__web_arg(req, "archived");
	int rc = archived && strcmp(archived, "0") ? tally_store_open_archive(&archive, store) : 0;
	if (rc) {
		tally_buf_release(&filter);
		return tally__web_lib_error(req, rc);
	}
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.where = tally__web_arg(req, "where");
	opts.sort = tally__web_arg(req, "sort");
	opts.filter = filter.len ? filter.ptr : NULL;
	opts.offset = offset;
	/* The index gives the page (a top N along the sort's index, when it has
	 * one); the total is counted apart, and only when asked for. */
	opts.limit = limit;
	tally_run_iter *it = NULL;
	rc = tally_run_iter_new(&it, archive ? archive : store, &opts);
	int ret;
	if (rc == TALLY_EINVALID) {
		ret = query_error(req, archive ? archive : store, &opts);
		goto done;
	} else if (rc) {
		ret = tally__web_lib_error(req, rc);
		goto done;
	}
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_printf(&out, "{\"total\":%lld,\"offset\":%zu,\"generation\":%lld,", (long long)tally_run_iter_total(it),
	                 offset, (long long)tally__index_generation(archive ? archive : store));
	add_warnings(&out, archive ? archive : store);
	tally_buf_adds(&out, ",\"runs\":[");
	const tally_run *run;
	int64_t now = tally_now_ms();
	for (size_t n = 0; n < limit && (rc = tally_run_iter_next(it, &run)) == 0; n++) {
		if (n)
			tally_buf_addc(&out, ',');
		add_row(&out, run, now);
	}
	tally_buf_adds(&out, "]}");
	if (rc < 0) {
		tally_buf_release(&out);
		ret = tally__web_lib_error(req, rc);
	} else {
		ret = tally__web_json_text(req, 200, tally_buf_detach(&out));
	}
done:
	tally_run_iter_free(it);
	tally_store_free(archive);
	tally_buf_release(&filter);
	return ret;
}

static bool wants_archived(tally_web_request *req)
{
	const char *a = tally__web_arg(req, "archived");
	return a && strcmp(a, "0");
}

/* {"run": run.json, "summary": …, "live": …, "dir": …} */
static json_t *run_object(const tally_run *run)
{
	json_t *o = json_object();
	json_object_set_new(o, "run", json_loads(tally_run_json(run), 0, NULL));
	tally_buf summary = TALLY_BUF_INIT;
	add_row(&summary, run, tally_now_ms());
	json_object_set_new(o, "summary", json_loads(summary.ptr ? summary.ptr : "{}", 0, NULL));
	tally_buf_release(&summary);
	json_object_set_new(o, "live", json_boolean(tally_run_is_live(run)));
	json_object_set_new(o, "dir", tally__json_text(tally_run_dir(run)));
	return o;
}

int tally__web_run(tally_web_request *req, const char *id)
{
	tally_store *archive = NULL;
	tally_run *run = tally__web_find_run(req, id, wants_archived(req) ? &archive : NULL);
	int ret = run ? tally__web_json(req, 200, run_object(run)) : MHD_YES;
	tally_run_free(run);
	tally_store_free(archive);
	return ret;
}

/* A JSON array of strings as a NULL-terminated list (pointers into `array`); false when it is not one. */
static bool string_list(json_t *array, const char ***out)
{
	*out = NULL;
	if (!array)
		return true;
	if (!json_is_array(array))
		return false;
	const char **list = calloc(json_array_size(array) + 1, sizeof *list);
	if (!list)
		return false;
	size_t i;
	json_t *v;
	json_array_foreach (array, i, v) {
		if (!json_is_string(v) || !*json_string_value(v)) {
			free(list);
			return false;
		}
		list[i] = json_string_value(v);
	}
	*out = list;
	return true;
}

/* Apply the change `what` with the request's body to `run`: a libtally result, or 1 (a bad body, answered). */
static int apply_change(tally_web_request *req, tally_run *run, const char *what, json_t *body)
{
	if (!strcmp(what, "label")) {
		json_t *label = json_object_get(body, "label");
		if (!json_is_string(label))
			return tally__web_error(req, 400, "expected {\"label\": \"…\"}"), 1;
		return tally_run_set_label(run, json_string_value(label));
	}
	if (!strcmp(what, "tags")) {
		const char **add, **remove = NULL;
		if (!string_list(json_object_get(body, "add"), &add) || !string_list(json_object_get(body, "remove"), &remove)) {
			free(add);
			return tally__web_error(req, 400, "expected {\"add\": [tags…], \"remove\": [tags…]}"), 1;
		}
		int rc = tally_run_change_tags(run, add, remove);
		free(add);
		free(remove);
		return rc;
	}
	if (!strcmp(what, "mark")) {
		json_t *marked = json_object_get(body, "marked");
		if (!json_is_boolean(marked))
			return tally__web_error(req, 400, "expected {\"marked\": true|false}"), 1;
		return tally_run_set_marked(run, json_is_true(marked));
	}
	if (!strcmp(what, "comment")) {
		json_t *text = json_object_get(body, "text");
		if (!json_is_string(text) || !*json_string_value(text))
			return tally__web_error(req, 400, "expected {\"text\": \"…\"}"), 1;
		return tally_run_add_comment(run, json_string_value(text));
	}
	tally_store *to = NULL;
	int rc = !strcmp(what, "archive") ? tally_store_open_archive(&to, tally__web_store(req)) : 0;
	if (!rc)
		rc = tally_run_move(run, to ? to : tally__web_store(req));
	tally_store_free(to);
	return rc;
}

int tally__web_change(tally_web_request *req, const char *id, const char *what)
{
	static const char *const changes[] = {"label", "tags", "mark", "comment", "archive", "restore"};
	bool known = false;
	for (size_t i = 0; i < sizeof changes / sizeof *changes; i++)
		known = known || !strcmp(what, changes[i]);
	if (!known)
		return tally__web_error(req, 404, "no such change: %s", what);
	json_error_t jerr;
	json_t *body = req->body_len ? json_loadb(req->body, req->body_len, 0, &jerr) : json_object();
	if (!json_is_object(body)) {
		json_decref(body);
		return tally__web_error(req, 400, "the body is not a JSON object");
	}
	bool moving = !strcmp(what, "archive") || !strcmp(what, "restore");
	tally_store *archive = NULL;
	tally_run *run = tally__web_find_run(req, id, !strcmp(what, "restore") ? &archive : NULL);
	int ret = MHD_YES;
	if (run) {
		int rc = apply_change(req, run, what, body);
		if (rc < 0)
			ret = tally__web_lib_error(req, rc);
		else if (rc == 0 && moving)
			ret = tally__web_json_text(req, 200, strdup("{\"ok\":true}"));
		else if (rc == 0)
			ret = tally__web_json(req, 200, run_object(run));
		tally_run_free(run);
	}
	tally_store_free(archive);
	json_decref(body);
	return ret;
}
