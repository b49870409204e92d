/*
 * Scalars printed on the console, parsed line by line as output streams.
 *
 * The default rules are Guild AI's convention, Keras' progress lines and
 * the key=value lines many training loops print:
 *   loss: 0.31              a scalar at the current step
 *   loss: 0.31 (step 4)     a scalar at an explicit step, which becomes the
 *   loss: 0.31 (4)          current step for the lines after it (as in Guild)
 *   loss: 0.31 (best)       a parenthetical note is no step: the scalar counts
 *   step: 5, epoch: 5       set the current step for what follows
 *   Epoch 3/10, epoch 3     (Keras and others) set the step to 3
 *   1875/1875 [====] - 3s 2ms/step - loss: 0.2931 - accuracy: 0.9147
 *                           (Keras) every ` - key: value` pair, at the current step
 *   loss=0.3 acc=0.9        a line made only of numeric key=value pairs (also
 *   val_loss = 0.25         `key = value`, separated by blanks, `,`, `;` or `|`)
 *   Epoch 3: loss=0.3, acc=0.9   the same after an "Epoch N:" or "step N:" that sets the step
 * and a key repeated at the current step advances the step, so a loop that
 * prints "loss: …" and "acc: …" each epoch gets steps 0, 1, 2… by itself.
 * A line of pairs counts only when every pair's value is a number, so
 * `version=1.2.3`, `path=/tmp/x` or a query string never give a scalar.
 * Names of flags are never scalars (a script echoing "lr: 0.01" is not a metric).
 *
 * A script can bring its own rules instead (tally.yml or front matter
 * `output-scalars:`, Guild's form): "PATTERN" with (\key) and (\value)
 * groups (and an optional (\step)), {TAG: "PATTERN"} with one (\value), or
 * {step: "PATTERN"} with one (\step); named groups key/value/step work too.
 */
#include "lib/scalars/scalars.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_PARSED_LINE 4096

#define KEY_RE "[A-Za-z_][A-Za-z0-9_./-]*"
#define VALUE_RE "[-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?i:nan|inf(?:inity)?)"
#define STEP_RE "[0-9]+"

typedef enum {
	RULE_KEY_VALUE,   /* groups: key, value, optional step */
	RULE_TAG_VALUE,   /* a fixed tag; group: value (optional step) */
	RULE_STEP,        /* group: step */
	RULE_PAIRS,       /* every key/value match along a Keras progress line ("1875/1875 ...") */
	RULE_EQ_PAIRS,    /* a line of key=value pairs (optional group: step); `pair` finds each */
} rule_kind;

typedef struct {
	rule_kind kind;
	pcre2_code *re;
	pcre2_match_data *md;
	char *tag;                     /* RULE_TAG_VALUE */
	int g_key, g_value, g_step;    /* capture groups, 0 = none */
	int required;                  /* a byte every matching line contains, or -1 */
	const uint8_t *pcre_first;     /* PCRE2's map of the bytes a matching line can start with */
	uint8_t first_byte_map[32];    /* ours, when PCRE2 knows the one first byte ("Epoch") */
	bool own_first;                /* use first_byte_map (not a pointer: the rules array moves) */
	bool jit, jit_tried;
	pcre2_code *pair;              /* RULE_EQ_PAIRS: one key=value pair */
	pcre2_match_data *pair_md;
	bool pair_jit;
} rule;

struct tally_outparse {
	rule *rules;
	size_t n;
	char **ignore;
	size_t n_ignore;
	int64_t step;
	uint8_t first_union[32];       /* union of the rules' first bytes */
	bool any_first;                /* some rule may start with any byte */
};

/* The default rules. */
static const char guild_pattern[] =
	"^(?<key>" KEY_RE ")\\s*:\\s*(?<value>" VALUE_RE ")\\s*"
	"(?:\\((?:step\\s+)?(?<step>" STEP_RE ")\\)|\\([^()]*\\))?\\s*$";
static const char epoch_line[] = "^(?i:epoch)\\s+(?<step>" STEP_RE ")(?:\\s*/\\s*[0-9]+)?\\s*$";
static const char keras_pair[] = "\\s-\\s(?<key>" KEY_RE "):\\s*(?<value>" VALUE_RE ")(?=\\s|$)";
/* A whole line of numeric key=value pairs, perhaps after "Epoch 3:" or "step 3 |". */
#define EQ_PAIR KEY_RE "\\s*=\\s*(?:" VALUE_RE ")"
static const char eq_line[] =
	"^(?:(?i:epoch|step)\\s*(?<step>" STEP_RE ")(?:\\s*/\\s*[0-9]+)?\\s*[:|,-]?\\s*)?"
	EQ_PAIR "(?:\\s*[,;|]\\s*" EQ_PAIR "|\\s+" EQ_PAIR ")*\\s*[,;]?\\s*$";
static const char eq_pair[] = "(?<key>" KEY_RE ")\\s*=\\s*(?<value>" VALUE_RE ")";

/* Guild's placeholders: (\key), (\value), (\step) become named groups. */
static char *expand_placeholders(const char *pattern)
{
	static const struct {
		const char *from, *to;
	} marks[] = {{"\\key", "(?<key>" KEY_RE ")"}, {"\\value", "(?<value>" VALUE_RE ")"}, {"\\step", "(?<step>" STEP_RE ")"}};
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_adds(&out, "");
	for (const char *p = pattern; *p;) {
		bool done = false;
		for (size_t i = 0; i < 3 && !done; i++) {
			size_t n = strlen(marks[i].from);
			/* "(\value)": the group is the placeholder's own */
			if (p[0] == '(' && !strncmp(p + 1, marks[i].from, n) && p[1 + n] == ')') {
				tally_buf_adds(&out, marks[i].to);
				p += n + 2;
				done = true;
			} else if (!strncmp(p, marks[i].from, n) && !isalnum((unsigned char)p[n])) {
				tally_buf_adds(&out, marks[i].to);
				p += n;
				done = true;
			}
		}
		if (!done) {
			if (p[0] == '\\' && p[1]) /* keep an escape whole, e.g. \\value */
				tally_buf_addc(&out, *p++);
			tally_buf_addc(&out, *p++);
		}
	}
	return tally_buf_oom(&out) ? (tally_buf_release(&out), NULL) : tally_buf_detach(&out);
}

static int group(pcre2_code *re, const char *name)
{
	int n = pcre2_substring_number_from_name(re, (PCRE2_SPTR)name);
	return n > 0 ? n : 0;
}

static pcre2_code *compile(const char *pattern, char *err, size_t err_size)
{
	int code;
	PCRE2_SIZE off;
	/* bytes, not UTF-8: output may hold anything, and the keys are ASCII */
	pcre2_code *re = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED, 0, &code, &off, NULL);
	if (!re && err) {
		PCRE2_UCHAR msg[160];
		pcre2_get_error_message(code, msg, sizeof msg);
		snprintf(err, err_size, "%s at offset %zu", (const char *)msg, (size_t)off);
	}
	return re;
}

/*
 * PCRE2 knows a literal every match must contain, and — for a pattern
 * anchored at the line's start — the bytes a matching line can begin with:
 * most log lines fail one of these without entering the matcher.
 */
/* The bytes a matching line can start with, or NULL (any). */
static const uint8_t *first_bytes(const rule *r)
{
	return r->own_first ? r->first_byte_map : r->pcre_first;
}

static void learn_prefilters(rule *r)
{
	uint32_t type = 0, unit = 0;
	r->required = -1;
	if (pcre2_pattern_info(r->re, PCRE2_INFO_LASTCODETYPE, &type) == 0 && type == 1 &&
	    pcre2_pattern_info(r->re, PCRE2_INFO_LASTCODEUNIT, &unit) == 0 && unit && unit < 128 && !isalpha((int)unit))
		r->required = (int)unit;
	if (r->kind == RULE_PAIRS) { /* progress lines start with a digit: see tally__progress_line() */
		memset(r->first_byte_map, 0, sizeof r->first_byte_map);
		for (unsigned c = '0'; c <= '9'; c++)
			r->first_byte_map[c / 8] |= (uint8_t)(1u << (c % 8));
		r->own_first = true;
		r->required = -1;
		return;
	}
	if (r->kind == RULE_EQ_PAIRS) /* PCRE2 cannot tell from the pattern: a line of pairs holds an '=' */
		r->required = '=';
	pcre2_code *first = r->re;
	uint32_t options = 0;
	pcre2_pattern_info(first, PCRE2_INFO_ALLOPTIONS, &options);
	if (!(options & PCRE2_ANCHORED))
		return; /* a match may start anywhere in the line */
	const uint8_t *bitmap = NULL;
	if (pcre2_pattern_info(first, PCRE2_INFO_FIRSTCODETYPE, &type) == 0 && type == 1 &&
	    pcre2_pattern_info(first, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0 && unit < 256) {
		memset(r->first_byte_map, 0, sizeof r->first_byte_map);
		r->first_byte_map[unit / 8] |= (uint8_t)(1u << (unit % 8));
		if (isalpha((int)unit)) { /* (?i:epoch): PCRE2 names one case; either may start the line */
			unsigned other = (unsigned)(islower((int)unit) ? toupper((int)unit) : tolower((int)unit));
			r->first_byte_map[other / 8] |= (uint8_t)(1u << (other % 8));
		}
		r->own_first = true;
	} else if (pcre2_pattern_info(first, PCRE2_INFO_FIRSTBITMAP, &bitmap) == 0 && bitmap) {
		r->pcre_first = bitmap; /* inside the compiled pattern: it stays put */
	}
}

static void rule_release(rule *r)
{
	pcre2_code_free(r->re);
	pcre2_match_data_free(r->md);
	pcre2_code_free(r->pair);
	pcre2_match_data_free(r->pair_md);
	free(r->tag);
}

static int add_rule(tally_outparse *p, rule_kind kind, const char *tag, const char *pattern, char *err,
                    size_t err_size)
{
	rule *grown = realloc(p->rules, (p->n + 1) * sizeof *grown);
	if (!grown)
		return tally__error_oom();
	p->rules = grown;
	rule *r = &p->rules[p->n];
	memset(r, 0, sizeof *r);
	r->kind = kind;
	char *expanded = expand_placeholders(pattern);
	if (!expanded)
		return tally__error_oom();
	r->re = compile(expanded, err, err_size);
	free(expanded);
	if (!r->re) {
		rule_release(r);
		return TALLY_EINVALID;
	}
	uint32_t captures = 0;
	pcre2_pattern_info(r->re, PCRE2_INFO_CAPTURECOUNT, &captures);
	r->g_key = group(r->re, "key");
	r->g_value = group(r->re, "value");
	r->g_step = group(r->re, "step");
	/* unnamed groups: KEY_VALUE is (key)(value)(step), TAG_VALUE (value), STEP (step) */
	if (kind == RULE_KEY_VALUE && !r->g_key && !r->g_value && captures >= 2)
		r->g_key = 1, r->g_value = 2, r->g_step = captures >= 3 ? 3 : 0;
	if (kind == RULE_TAG_VALUE && !r->g_value && captures >= 1)
		r->g_value = 1;
	if (kind == RULE_STEP && !r->g_step && captures >= 1)
		r->g_step = 1;
	if (kind == RULE_EQ_PAIRS) { /* the line's rule; each pair is found by a second pattern */
		r->pair = compile(eq_pair, err, err_size);
		r->pair_md = r->pair ? pcre2_match_data_create_from_pattern(r->pair, NULL) : NULL;
		if (!r->pair_md) {
			rule_release(r);
			return r->pair ? tally__error_oom() : TALLY_EINVALID;
		}
		r->pair_jit = pcre2_jit_compile(r->pair, PCRE2_JIT_COMPLETE) == 0;
		r->g_key = group(r->pair, "key");
		r->g_value = group(r->pair, "value");
	}
	bool ok = kind == RULE_STEP ? r->g_step > 0 : kind == RULE_TAG_VALUE ? r->g_value > 0 : r->g_key > 0 && r->g_value > 0;
	if (!ok) {
		snprintf(err, err_size, "%s", kind == RULE_STEP ? "it needs a (\\step) group"
		                              : kind == RULE_TAG_VALUE ? "it needs a (\\value) group"
		                                                       : "it needs (\\key) and (\\value) groups");
		rule_release(r);
		return TALLY_EINVALID;
	}
	if (tag && !(r->tag = strdup(tag))) {
		rule_release(r);
		return tally__error_oom();
	}
	if (!(r->md = pcre2_match_data_create_from_pattern(r->re, NULL))) {
		rule_release(r);
		return tally__error_oom();
	}
	learn_prefilters(r);
	p->n++;
	return 0;
}

int tally__outparse_check_pattern(const char *kind, const char *pattern, char *err, size_t err_size)
{
	tally_outparse p;
	memset(&p, 0, sizeof p);
	rule_kind k = !strcmp(kind, "step") ? RULE_STEP : strcmp(kind, "key") ? RULE_TAG_VALUE : RULE_KEY_VALUE;
	int rc = add_rule(&p, k, kind, pattern, err, err_size);
	if (!rc)
		rule_release(&p.rules[0]);
	free(p.rules);
	return rc;
}

static void build_first_union(tally_outparse *p)
{
	memset(p->first_union, 0, sizeof p->first_union);
	p->any_first = p->n == 0;
	for (size_t i = 0; i < p->n; i++) {
		const uint8_t *first = first_bytes(&p->rules[i]);
		if (!first) {
			p->any_first = true;
			return;
		}
		for (size_t b = 0; b < 32; b++)
			p->first_union[b] |= first[b];
	}
}

int tally__outparse_new(tally_outparse **out, const char *const *ignore, size_t n_ignore, char *const *patterns)
{
	*out = NULL;
	tally_outparse *p = calloc(1, sizeof *p);
	if (!p)
		return tally__error_oom();
	char err[256] = "";
	int rc = 0;
	if (!patterns) {
		if ((rc = add_rule(p, RULE_KEY_VALUE, NULL, guild_pattern, err, sizeof err)) ||
		    (rc = add_rule(p, RULE_STEP, NULL, epoch_line, err, sizeof err)) ||
		    (rc = add_rule(p, RULE_PAIRS, NULL, keras_pair, err, sizeof err)) ||
		    (rc = add_rule(p, RULE_EQ_PAIRS, NULL, eq_line, err, sizeof err)))
			rc = tally__error(TALLY_ERROR, "internal error: a scalar pattern does not compile (%s)", err);
	}
	/* "KIND\tPATTERN": key (a key/value pattern), step, or tag:NAME */
	for (char *const *pat = patterns; pat && *pat && !rc; pat++) {
		const char *tab = strchr(*pat, '\t');
		if (!tab)
			continue;
		char kind[300];
		snprintf(kind, sizeof kind, "%.*s", (int)(tab - *pat), *pat);
		const char *tag = !strncmp(kind, "tag:", 4) ? kind + 4 : NULL;
		rule_kind k = tag ? RULE_TAG_VALUE : !strcmp(kind, "step") ? RULE_STEP : RULE_KEY_VALUE;
		if ((rc = add_rule(p, k, tag, tab + 1, err, sizeof err)) == TALLY_EINVALID)
			rc = tally__error(rc, "output-scalars pattern '%s' does not work: %s", tab + 1, err);
	}
	if (!rc && n_ignore) {
		p->ignore = calloc(n_ignore, sizeof *p->ignore);
		for (size_t i = 0; p->ignore && i < n_ignore; i++)
			if ((p->ignore[i] = strdup(ignore[i])))
				p->n_ignore++;
		if (p->n_ignore != n_ignore)
			rc = tally__error_oom();
	}
	if (rc) {
		tally__outparse_free(p);
		return rc;
	}
	build_first_union(p);
	*out = p;
	return 0;
}

static bool ignored(const tally_outparse *p, const char *name, size_t len)
{
	for (size_t i = 0; i < p->n_ignore; i++)
		if (strlen(p->ignore[i]) == len && !memcmp(p->ignore[i], name, len))
			return true;
	return false;
}

/* Whether a line may be one of key=value pairs: its first word is followed
 * by '=', or is "epoch"/"step" before a number.  Most log lines holding an
 * '=' ("INFO saving x=1") fail here, before the regex. */
static bool key_byte(unsigned char c)
{
	return (unsigned)((c | 0x20) - 'a') < 26u || (unsigned)(c - '0') < 10u || c == '_' || c == '.' || c == '/' || c == '-';
}

static bool eq_line_candidate(const char *line, size_t len)
{
	size_t i = 0;
	while (i < len && key_byte((unsigned char)line[i]))
		i++;
	size_t word = i;
	while (i < len && (line[i] == ' ' || line[i] == '\t'))
		i++;
	if (i < len && line[i] == '=')
		return true;
	/* "epoch 3: …", "step 3 | …" (any case) */
	char w[6] = {0};
	for (size_t k = 0; k < word && k < 5; k++)
		w[k] = (char)(line[k] | 0x20);
	return (word == 5 && !memcmp(w, "epoch", 5)) || (word == 4 && !memcmp(w, "step", 4));
}

static bool passes_prefilter(const rule *r, const char *line, size_t len)
{
	unsigned char c0 = (unsigned char)line[0];
	const uint8_t *first = first_bytes(r);
	if (first && !(first[c0 / 8] & (1u << (c0 % 8))))
		return false;
	if (r->required >= 0 && !memchr(line, r->required, len))
		return false;
	return r->kind != RULE_EQ_PAIRS || eq_line_candidate(line, len);
}

static int match(rule *r, pcre2_code *re, const char *line, size_t len, size_t start)
{
	/* JIT-compiled on the first candidate line, not up front: it costs more
	 * (~0.5 ms) than a short script's whole output takes to parse.  Without
	 * JIT (some platforms) pcre2_match() interprets the pattern instead. */
	if (!r->jit_tried) {
		r->jit_tried = true;
		r->jit = pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE) == 0;
	}
	return r->jit ? pcre2_jit_match(re, (PCRE2_SPTR)line, len, start, 0, r->md, NULL)
	              : pcre2_match(re, (PCRE2_SPTR)line, len, start, 0, r->md, NULL);
}

static bool group_text(const rule *r, int g, const char *line, const char **s, size_t *n)
{
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
	if (g <= 0 || ov[2 * g] == PCRE2_UNSET)
		return false;
	*s = line + ov[2 * g];
	*n = ov[2 * g + 1] - ov[2 * g];
	return true;
}

static bool number_of(const char *s, size_t n, double *out)
{
	char buf[64];
	if (!n || n >= sizeof buf)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	char *end;
	*out = strtod(buf, &end);
	return end != buf;
}

/* One scalar: `step_text` given means an explicit step. */
static void record(tally_outparse *p, tally_scalar_log *log, const char *key, size_t key_len, double value,
                   const char *step_text, size_t step_len, bool auto_step, int64_t time_ms)
{
	int64_t step = p->step;
	double explicit_step;
	bool explicit = step_text && number_of(step_text, step_len, &explicit_step);
	if (explicit && !(explicit_step < 9e18)) /* (step 99999999999999999999): no step a log can hold */
		return;
	if (explicit)
		step = p->step = (int64_t)explicit_step; /* the lines after it are at that step too (Guild) */
	if ((key_len == 4 && !memcmp(key, "step", 4)) || (key_len == 5 && !strncasecmp(key, "epoch", 5))) {
		if (isfinite(value) && value >= 0 && value < 9e18 && value == floor(value))
			p->step = (int64_t)value;
		return;
	}
	if (ignored(p, key, key_len))
		return;
	int64_t *mark = tally__scalar_log_mark(log, key, key_len);
	if (!mark)
		return;
	if (explicit) {
		*mark = step;
	} else if (auto_step) {
		if (*mark == p->step)
			step = ++p->step; /* the key repeats: a new step began */
		*mark = step;
	}
	char tag[257];
	memcpy(tag, key, key_len);
	tag[key_len] = '\0';
	tally__scalar_log_append(log, tag, step, value, time_ms);
}

/* A line the eq_line rule accepted: "Epoch N:" sets the step, then every pair counts. */
static void apply_eq_pairs(tally_outparse *p, rule *r, const char *line, size_t len, const char *st, size_t stn,
                           tally_scalar_log *log, int64_t time_ms)
{
	double step;
	size_t at = 0;
	if (st && number_of(st, stn, &step) && step < 9e18) {
		p->step = (int64_t)step;
		at = (size_t)(st - line) + stn; /* "step 3" is no pair */
	}
	for (;;) {
		int rc = r->pair_jit ? pcre2_jit_match(r->pair, (PCRE2_SPTR)line, len, at, 0, r->pair_md, NULL)
		                     : pcre2_match(r->pair, (PCRE2_SPTR)line, len, at, 0, r->pair_md, NULL);
		if (rc < 0)
			return;
		PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->pair_md);
		size_t k0 = ov[2 * r->g_key], k1 = ov[2 * r->g_key + 1], v0 = ov[2 * r->g_value], v1 = ov[2 * r->g_value + 1];
		double value;
		if (number_of(line + v0, v1 - v0, &value))
			record(p, log, line + k0, k1 - k0, value, NULL, 0, true, time_ms);
		if (ov[1] <= at)
			return;
		at = ov[1];
	}
}

static void apply(tally_outparse *p, rule *r, const char *line, size_t len, tally_scalar_log *log, int64_t time_ms)
{
	const char *k = NULL, *v = NULL, *st = NULL;
	size_t kn = 0, vn = 0, stn = 0;
	double value;
	if (r->kind == RULE_PAIRS) {
		if (!tally__progress_line(line, len)) /* by hand: most log lines start with a digit too */
			return;
		size_t at = 0;
		while (at < len && match(r, r->re, line, len, at) >= 0) {
			PCRE2_SIZE *ov = pcre2_get_ovector_pointer(r->md);
			if (group_text(r, r->g_key, line, &k, &kn) && group_text(r, r->g_value, line, &v, &vn) &&
			    number_of(v, vn, &value))
				record(p, log, k, kn, value, NULL, 0, false, time_ms);
			at = ov[1] > at ? ov[1] : at + 1;
		}
		return;
	}
	if (match(r, r->re, line, len, 0) < 0)
		return;
	bool has_step = group_text(r, r->g_step, line, &st, &stn);
	if (r->kind == RULE_EQ_PAIRS) {
		apply_eq_pairs(p, r, line, len, has_step ? st : NULL, stn, log, time_ms);
		return;
	}
	if (r->kind == RULE_STEP) {
		double step;
		if (has_step && number_of(st, stn, &step) && step >= 0 && step < 9e18)
			p->step = (int64_t)step;
		return;
	}
	if (!group_text(r, r->g_value, line, &v, &vn) || !number_of(v, vn, &value))
		return;
	if (r->kind == RULE_TAG_VALUE) {
		record(p, log, r->tag, strlen(r->tag), value, has_step ? st : NULL, stn, true, time_ms);
		return;
	}
	if (group_text(r, r->g_key, line, &k, &kn))
		record(p, log, k, kn, value, has_step ? st : NULL, stn, true, time_ms);
}

void tally__outparse_line(tally_outparse *p, const char *line, size_t len, tally_scalar_log *log, int64_t time_ms)
{
	/* Cheap rejections first: most output lines hold no scalar. */
	while (len && (*line == ' ' || *line == '\t' || *line == '\v' || *line == '\f'))
		line++, len--;
	if (len == 0 || len > MAX_PARSED_LINE)
		return;
	for (size_t i = 0; i < p->n; i++)
		if (passes_prefilter(&p->rules[i], line, len))
			apply(p, &p->rules[i], line, len, log, time_ms);
}

static bool may_start_with_digit(const uint8_t *first)
{
	for (unsigned c = '0'; c <= '9'; c++)
		if (first[c / 8] & (1u << (c % 8)))
			return true;
	return false;
}

tally_outparse_filter tally__outparse_filter(const tally_outparse *p)
{
	tally_outparse_filter f = {NULL, false};
	if (!p || p->any_first)
		return f;
	f.first = p->first_union;
	/* digits open only the progress rule (unless a rule of the script's own starts with one) */
	f.digits_progress = true;
	for (size_t i = 0; i < p->n; i++)
		if (p->rules[i].kind != RULE_PAIRS && may_start_with_digit(first_bytes(&p->rules[i])))
			f.digits_progress = false;
	return f;
}

void tally__outparse_free(tally_outparse *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		rule_release(&p->rules[i]);
	free(p->rules);
	for (size_t i = 0; i < p->n_ignore; i++)
		free(p->ignore[i]);
	free(p->ignore);
	free(p);
}
