/*
 * Scalars printed on the console, parsed line by line as output streams.
 *
 * The default is Guild AI's convention:
 *   loss: 0.31              a scalar at the current step
 *   loss: 0.31 (step 4)     a scalar at an explicit step
 *   step: 5                 sets the current step for what follows
 * and a key repeated at the current step advances the step, so a loop that
 * prints "loss: …" and "acc: …" each epoch gets steps 0, 1, 2… by itself.
 * Names of flags are never scalars (a script echoing "lr: 0.01" is not a metric).
 */
#include "lib/internal.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <math.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PARSED_LINE 4096

/* Leading blanks are skipped before matching (see tally__outparse_line), so
 * that the pattern's first-byte bitmap can reject most lines outright. */
static const char default_pattern[] =
	"^([A-Za-z_][A-Za-z0-9_./-]*)\\s*:\\s*"
	"([-+]?(?:[0-9]+(?:\\.[0-9]*)?|\\.[0-9]+)(?:[eE][-+]?[0-9]+)?|[-+]?(?i:nan|inf(?:inity)?))"
	"\\s*(?:\\(step\\s+([0-9]+)\\))?\\s*$";

struct tally_outparse {
	pcre2_code *re;
	pcre2_match_data *md;
	char **ignore;
	size_t n_ignore;
	int64_t step;
	int required;                  /* a byte every matching line contains, or -1 */
	const uint8_t *first_bytes;    /* bitmap of bytes a match can start with, or NULL */
	bool jit;
	bool jit_tried;
};

int tally__outparse_new(tally_outparse **out, const tally_flag_list *ignore)
{
	*out = NULL;
	tally_outparse *p = calloc(1, sizeof *p);
	if (!p)
		return tally__error_oom();
	int err;
	PCRE2_SIZE erroff;
	p->re = pcre2_compile((PCRE2_SPTR)default_pattern, PCRE2_ZERO_TERMINATED, 0, &err, &erroff, NULL);
	if (!p->re) {
		tally__outparse_free(p);
		return tally__error(TALLY_ERROR, "internal error: scalar pattern does not compile");
	}
	/* PCRE2 knows a literal every match must contain (':' here); letters are
	 * left out, since a caseless pattern may match them in either case. */
	uint32_t type = 0, unit = 0;
	p->required = -1;
	if (pcre2_pattern_info(p->re, PCRE2_INFO_LASTCODETYPE, &type) == 0 && type == 1 &&
	    pcre2_pattern_info(p->re, PCRE2_INFO_LASTCODEUNIT, &unit) == 0 && unit && unit < 128 && !isalpha((int)unit))
		p->required = (int)unit;
	/* ... and the bytes a match can begin with: most log lines (timestamps,
	 * progress bars) fail on their first byte without entering the matcher. */
	const uint8_t *bitmap = NULL;
	if (pcre2_pattern_info(p->re, PCRE2_INFO_FIRSTBITMAP, &bitmap) == 0)
		p->first_bytes = bitmap;
	p->md = pcre2_match_data_create_from_pattern(p->re, NULL);
	if (ignore && ignore->count) {
		p->ignore = calloc(ignore->count, sizeof *p->ignore);
		for (size_t i = 0; p->ignore && i < ignore->count; i++)
			if ((p->ignore[i] = strdup(ignore->items[i].name)))
				p->n_ignore++;
	}
	if (!p->md || (ignore && ignore->count && p->n_ignore != ignore->count)) {
		tally__outparse_free(p);
		return tally__error_oom();
	}
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

void tally__outparse_line(tally_outparse *p, const char *line, size_t len, tally_scalar_log *log, int64_t time_ms)
{
	/* Cheap rejections first: most output lines hold no "key: value". */
	while (len && (*line == ' ' || *line == '\t' || *line == '\v' || *line == '\f'))
		line++, len--;
	if (len == 0 || len > MAX_PARSED_LINE)
		return;
	unsigned char c0 = (unsigned char)line[0];
	if (p->first_bytes && !(p->first_bytes[c0 / 8] & (1u << (c0 % 8))))
		return;
	if (p->required >= 0 && !memchr(line, p->required, len))
		return;
	/* JIT-compiled on the first candidate line, not up front: it costs more
	 * (~0.5 ms) than a short script's whole output takes to parse.  Without
	 * JIT (some platforms) pcre2_match() interprets the pattern instead. */
	if (!p->jit_tried) {
		p->jit_tried = true;
		p->jit = pcre2_jit_compile(p->re, PCRE2_JIT_COMPLETE) == 0;
	}
	int rc = p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)line, len, 0, 0, p->md, NULL)
	                : pcre2_match(p->re, (PCRE2_SPTR)line, len, 0, 0, p->md, NULL);
	if (rc < 0)
		return;
	PCRE2_SIZE *ov = pcre2_get_ovector_pointer(p->md);
	const char *key = line + ov[2];
	size_t key_len = ov[3] - ov[2];
	char number[64];
	size_t num_len = ov[5] - ov[4];
	if (num_len >= sizeof number)
		return;
	memcpy(number, line + ov[4], num_len);
	number[num_len] = '\0';
	double value = strtod(number, NULL);
	bool explicit_step = ov[6] != PCRE2_UNSET;
	int64_t step = explicit_step ? strtoll(line + ov[6], NULL, 10) : p->step;

	if (key_len == 4 && !memcmp(key, "step", 4)) {
		if (isfinite(value) && fabs(value) < 9e18)
			p->step = (int64_t)value;
		return;
	}
	if (ignored(p, key, key_len))
		return;
	int64_t *mark = tally__scalar_log_mark(log, key, key_len);
	if (!mark)
		return;
	if (!explicit_step) {
		if (*mark == p->step)
			step = ++p->step; /* the key repeats: a new step began */
		*mark = step;
	}
	char tag[257];
	memcpy(tag, key, key_len);
	tag[key_len] = '\0';
	tally__scalar_log_append(log, tag, step, value, time_ms);
}

const uint8_t *tally__outparse_first_bytes(const tally_outparse *p)
{
	return p ? p->first_bytes : NULL;
}

void tally__outparse_free(tally_outparse *p)
{
	if (!p)
		return;
	pcre2_match_data_free(p->md);
	pcre2_code_free(p->re);
	for (size_t i = 0; i < p->n_ignore; i++)
		free(p->ignore[i]);
	free(p->ignore);
	free(p);
}
