/*
 * Search spaces: the right-hand sides of NAME=VALUE that stand for many
 * values.  Lists are YAML flow sequences ([64, 128, 'a,b']); the functions
 * take colon-separated numbers, as Guild AI writes them:
 *
 *     choice[a,b,c]        the listed values
 *     range[a:b:step]      a, a+step, … up to b included (step 1 by default)
 *     linspace[a:b:n]      n evenly spaced values from a to b
 *     logspace[a:b:n:base] n values base^a … base^b (base 10 by default)
 *     uniform[a:b]         any real in [a, b)
 *     loguniform[a:b]      a real in [a, b) whose logarithm is uniform (0 < a)
 *     randint[a:b]         an integer from a to b, both included
 *     lograndint[a:b]      the same, log-uniformly (0 < a)
 */
#include "lib/flags/flagdefs.h"
#include "lib/sweep/sweep.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

static const struct {
	const char *name;
	int min_args, max_args; /* numbers between the brackets; -1: a list */
} functions[] = {
	{"choice", -1, -1},  {"range", 2, 3},   {"linspace", 3, 3},   {"logspace", 3, 4},
	{"uniform", 2, 2},   {"loguniform", 2, 2}, {"randint", 2, 2}, {"lograndint", 2, 2},
};

/* The function `value` calls, or -1; `*args` points past its '['. */
static int function_of(const char *value, const char **args)
{
	for (size_t i = 0; i < sizeof functions / sizeof *functions; i++) {
		size_t len = strlen(functions[i].name);
		if (!strncmp(value, functions[i].name, len) && value[len] == '[') {
			*args = value + len + 1;
			return (int)i;
		}
	}
	return -1;
}

bool tally__is_space_spec(const char *value)
{
	const char *args;
	size_t len = strlen(value);
	if (!len || value[len - 1] != ']')
		return false;
	return value[0] == '[' || function_of(value, &args) >= 0;
}

int tally_flag_is_search_space(const char *value)
{
	return value && tally__is_space_spec(value);
}

/* "[128, 64]": a list of single values (not of lists). */
static bool flat_list(const char *value)
{
	if (value[0] != '[')
		return false;
	tally_flag_list items;
	if (tally__flag_parse_list(&items, value))
		return false;
	bool flat = true;
	for (size_t i = 0; i < items.count; i++)
		flat = flat && items.items[i].type != TALLY_FLAG_LIST;
	tally__flag_list_release(&items);
	return flat;
}

/* Whether `script` declares flag `name` (with '-' and '_' taken as one) as taking a list. */
static bool declared_list_flag(const char *script, const char *name, size_t name_len)
{
	tally_script_flags sf;
	const char *base = strrchr(script, '/') ? strrchr(script, '/') + 1 : script;
	if (tally__script_flags_detect(&sf, script, base))
		return false;
	const tally_flagdef *def = tally__flagdef_find_spelled(&sf, name, name_len);
	bool list = def && def->list;
	tally__script_flags_release(&sf);
	return list;
}

int tally_flag_is_sweep(const char *script, const char *assignment)
{
	const char *eq = assignment ? strchr(assignment, '=') : NULL;
	if (!eq || !tally__is_space_spec(eq + 1))
		return 0;
	/* layers=[128, 64] for a flag that takes a list is its value; [[128, 64], [256]] sweeps over lists */
	return !(script && flat_list(eq + 1) && declared_list_flag(script, assignment, (size_t)(eq - assignment)));
}

/* Round to `digits` significant digits: sampled values read well in labels. */
double tally__round_sig(double v, int digits)
{
	char text[40];
	snprintf(text, sizeof text, "%.*g", digits, v);
	return strtod(text, NULL);
}

/* "a:b:c" between the brackets into numbers; `ints` tells whether all were integers. */
static int parse_numbers(const char *name, const char *spec, const char *args, size_t len, double *out, int min,
                         int max, int *count, bool *ints)
{
	*count = 0;
	*ints = true;
	const char *p = args, *end = args + len;
	while (p <= end) {
		const char *colon = memchr(p, ':', (size_t)(end - p));
		const char *stop = colon ? colon : end;
		if (*count == max)
			return tally__error(TALLY_EINVALID, "flag %s: '%s' takes at most %d numbers", name, spec, max);
		char *text = strndup(p, (size_t)(stop - p));
		if (!text)
			return tally__error_oom();
		tally_flag v = {0};
		int rc = tally__flag_parse_value(&v, text);
		bool number = !rc && (v.type == TALLY_FLAG_INT || v.type == TALLY_FLAG_FLOAT) &&
		              (v.type == TALLY_FLAG_INT || isfinite(v.f));
		if (number) {
			out[*count] = v.type == TALLY_FLAG_INT ? (double)v.i : v.f;
			*ints = *ints && v.type == TALLY_FLAG_INT;
			++*count;
		}
		tally__flag_release(&v);
		if (!number) {
			rc = tally__error(TALLY_EINVALID, "flag %s: '%s' in '%s' is not a number — write e.g. uniform[0.1:0.5]",
			                  name, text, spec);
			free(text);
			return rc;
		}
		free(text);
		p = stop + 1;
	}
	if (*count < min)
		return tally__error(TALLY_EINVALID, "flag %s: '%s' needs %d numbers separated by ':'", name, spec, min);
	return 0;
}

static int values_range(tally_dim *d, const double *a, int n, bool ints)
{
	double lo = a[0], hi = a[1], step = n > 2 ? a[2] : 1;
	if (step == 0 || (hi - lo) * step < 0)
		return tally__error(TALLY_EINVALID, "flag %s: '%s' never reaches its end — the step must be non-zero and "
		                    "point from the start to the end", d->name, d->spec);
	/* A little slack so that range[0:1:0.1] includes 1 despite rounding. */
	double count = floor((hi - lo) / step + 1e-9) + 1;
	if (count > TALLY_SPACE_MAX_VALUES)
		return tally__error(TALLY_EINVALID, "flag %s: '%s' gives %.0f values, more than %d", d->name, d->spec, count,
		                    TALLY_SPACE_MAX_VALUES);
	for (size_t i = 0; i < (size_t)count; i++) {
		if (ints) /* exactly, however many digits: range[1000000000000:1000000000003] */
			json_array_append_new(d->values, json_integer((json_int_t)lo + (json_int_t)i * (json_int_t)step));
		else
			json_array_append_new(d->values, json_real(tally__round_sig(lo + (double)i * step, 12)));
	}
	return 0;
}

static int values_spaced(tally_dim *d, const double *a, int n, bool logarithmic)
{
	double lo = a[0], hi = a[1], count = a[2], base = n > 3 ? a[3] : 10;
	if (count < 1 || count != floor(count) || count > TALLY_SPACE_MAX_VALUES)
		return tally__error(TALLY_EINVALID, "flag %s: the count in '%s' must be a whole number from 1 to %d", d->name,
		                    d->spec, TALLY_SPACE_MAX_VALUES);
	if (logarithmic && base <= 0)
		return tally__error(TALLY_EINVALID, "flag %s: the base in '%s' must be positive", d->name, d->spec);
	for (size_t i = 0; i < (size_t)count; i++) {
		double x = count == 1 ? lo : lo + (hi - lo) * (double)i / (count - 1);
		double v = tally__round_sig(logarithmic ? pow(base, x) : x, 12);
		if (!isfinite(v))
			return tally__error(TALLY_EINVALID, "flag %s: '%s' gives values too large for a number", d->name, d->spec);
		json_array_append_new(d->values, json_real(v));
	}
	return 0;
}

static int distribution(tally_dim *d, const double *a, bool ints, tally_dim_kind kind)
{
	d->kind = kind;
	d->lo = a[0];
	d->hi = a[1];
	bool integer = kind == TALLY_DIM_RANDINT || kind == TALLY_DIM_LOGRANDINT;
	bool logarithmic = kind == TALLY_DIM_LOGUNIFORM || kind == TALLY_DIM_LOGRANDINT;
	if (integer && !ints)
		return tally__error(TALLY_EINVALID, "flag %s: '%s' needs whole numbers", d->name, d->spec);
	if (integer ? d->lo > d->hi : d->lo >= d->hi)
		return tally__error(TALLY_EINVALID, "flag %s: '%s' is empty — the low end comes first", d->name, d->spec);
	if (logarithmic && d->lo <= 0)
		return tally__error(TALLY_EINVALID, "flag %s: '%s' needs a positive low end (it samples the logarithm)",
		                    d->name, d->spec);
	return 0;
}

static int parse_list(tally_dim *d, const char *text)
{
	tally_flag_list list;
	int rc = tally__flag_parse_list(&list, text);
	if (rc) {
		char msg[1024];
		snprintf(msg, sizeof msg, "%s", tally_error_last());
		return tally__error(rc, "flag %s: %s", d->name, msg);
	}
	for (size_t i = 0; i < list.count; i++)
		json_array_append_new(d->values, tally__flag_to_json(&list.items[i]));
	tally__flag_list_release(&list);
	return 0;
}

int tally__dim_parse(tally_dim *out, const char *name, const char *spec)
{
	memset(out, 0, sizeof *out);
	out->name = strdup(name);
	out->spec = strdup(spec);
	out->values = json_array();
	if (!out->name || !out->spec || !out->values) {
		tally__dim_release(out);
		return tally__error_oom();
	}
	out->kind = TALLY_DIM_VALUES;
	const char *args = NULL;
	int f = spec[0] == '[' ? -1 : function_of(spec, &args);
	size_t len = strlen(spec);
	int rc;
	if (!len || spec[len - 1] != ']' || (spec[0] != '[' && f < 0)) {
		rc = tally__error(TALLY_EINVALID, "flag %s: '%s' is not a search space — write [a,b], choice[a,b], "
		                  "range[a:b:step], linspace[a:b:n], logspace[a:b:n], uniform[a:b], loguniform[a:b] "
		                  "or randint[a:b]", name, spec);
	} else if (f < 0) {
		rc = parse_list(out, spec);
	} else if (functions[f].min_args < 0) { /* choice[a,b,c] is the list [a,b,c] */
		rc = parse_list(out, args - 1);
	} else {
		double a[4];
		int n;
		bool ints;
		rc = parse_numbers(name, spec, args, (size_t)(spec + len - 1 - args), a, functions[f].min_args,
		                   functions[f].max_args, &n, &ints);
		const char *fn = functions[f].name;
		out->sequence = !strcmp(fn, "range") || !strcmp(fn, "linspace") || !strcmp(fn, "logspace");
		if (rc)
			;
		else if (!strcmp(fn, "range"))
			rc = values_range(out, a, n, ints);
		else if (!strcmp(fn, "linspace") || !strcmp(fn, "logspace"))
			rc = values_spaced(out, a, n, fn[1] == 'o');
		else
			rc = distribution(out, a, ints,
			                  !strcmp(fn, "uniform") ? TALLY_DIM_UNIFORM
			                  : !strcmp(fn, "loguniform") ? TALLY_DIM_LOGUNIFORM
			                  : !strcmp(fn, "randint")    ? TALLY_DIM_RANDINT
			                                              : TALLY_DIM_LOGRANDINT);
	}
	if (rc)
		tally__dim_release(out);
	return rc;
}

void tally__dim_release(tally_dim *dim)
{
	free(dim->name);
	free(dim->spec);
	json_decref(dim->values);
	memset(dim, 0, sizeof *dim);
}

int tally__space_add(tally_space *space, tally_dim *dim)
{
	for (size_t i = 0; i < space->n; i++)
		if (!strcmp(space->dims[i].name, dim->name)) {
			int rc = tally__error(TALLY_EINVALID, "flag %s is given two search spaces — give it one", dim->name);
			tally__dim_release(dim);
			return rc;
		}
	tally_dim *grown = realloc(space->dims, (space->n + 1) * sizeof *grown);
	if (!grown) {
		tally__dim_release(dim);
		return tally__error_oom();
	}
	space->dims = grown;
	space->dims[space->n++] = *dim;
	memset(dim, 0, sizeof *dim);
	return 0;
}

void tally__space_release(tally_space *space)
{
	for (size_t i = 0; i < space->n; i++)
		tally__dim_release(&space->dims[i]);
	free(space->dims);
	space->dims = NULL;
	space->n = 0;
}

bool tally__space_is_finite(const tally_space *space)
{
	for (size_t i = 0; i < space->n; i++)
		if (space->dims[i].kind != TALLY_DIM_VALUES)
			return false;
	return true;
}

uint64_t tally__space_grid_size(const tally_space *space)
{
	uint64_t size = 1;
	for (size_t i = 0; i < space->n; i++) {
		uint64_t n = json_array_size(space->dims[i].values);
		if (space->dims[i].kind != TALLY_DIM_VALUES || n == 0)
			return 0;
		if (size > (UINT64_C(1) << 62) / n)
			return UINT64_MAX;
		size *= n;
	}
	return size;
}

json_t *tally__space_grid_point(const tally_space *space, uint64_t index)
{
	json_t *point = json_object();
	/* Mixed radix, the last dimension the fastest digit. */
	for (size_t i = space->n; i-- > 0;) {
		json_t *values = space->dims[i].values;
		size_t n = json_array_size(values);
		json_object_set(point, space->dims[i].name, json_array_get(values, index % n));
		index /= n;
	}
	/* back in the order the flags were given */
	json_t *ordered = json_object();
	for (size_t i = 0; i < space->n; i++)
		json_object_set(ordered, space->dims[i].name, json_object_get(point, space->dims[i].name));
	json_decref(point);
	return ordered;
}

static json_t *draw(const tally_dim *d, tally_rng *rng)
{
	double u = tally_rng_unit(rng);
	switch (d->kind) {
	case TALLY_DIM_VALUES:
		return json_incref(json_array_get(d->values, tally_rng_below(rng, json_array_size(d->values))));
	case TALLY_DIM_UNIFORM:
		return json_real(tally__round_sig(d->lo + u * (d->hi - d->lo), 6));
	case TALLY_DIM_LOGUNIFORM:
		return json_real(tally__round_sig(exp(log(d->lo) + u * (log(d->hi) - log(d->lo))), 6));
	case TALLY_DIM_RANDINT:
		return json_integer((json_int_t)d->lo + (json_int_t)tally_rng_below(rng, (uint64_t)(d->hi - d->lo) + 1));
	case TALLY_DIM_LOGRANDINT: {
		double v = floor(exp(log(d->lo) + u * (log(d->hi + 1) - log(d->lo))));
		return json_integer((json_int_t)fmin(fmax(v, d->lo), d->hi));
	}
	}
	return json_null();
}

json_t *tally__space_random_point(const tally_space *space, tally_rng *rng)
{
	json_t *point = json_object();
	for (size_t i = 0; i < space->n; i++)
		json_object_set_new(point, space->dims[i].name, draw(&space->dims[i], rng));
	return point;
}

/*
 * A dimension's extreme values: every value listed by hand; of a generated
 * sequence (monotonic, one type) its ends and middle, so that a range of a
 * million values is checked in three launches' worth of checks, not a
 * million; of a distribution its ends and a non-integral middle.
 */
static json_t *extremes(const tally_dim *d)
{
	size_t n = json_array_size(d->values);
	if (d->kind == TALLY_DIM_VALUES && d->sequence && n > 3) {
		json_t *out = json_array();
		json_array_append(out, json_array_get(d->values, 0));
		json_array_append(out, json_array_get(d->values, n / 2));
		json_array_append(out, json_array_get(d->values, n - 1));
		return out;
	}
	if (d->kind == TALLY_DIM_VALUES)
		return json_incref(d->values);
	json_t *out = json_array();
	if (d->kind == TALLY_DIM_RANDINT || d->kind == TALLY_DIM_LOGRANDINT) {
		json_array_append_new(out, json_integer((json_int_t)d->lo));
		json_array_append_new(out, json_integer((json_int_t)d->hi));
	} else { /* the middle is no whole number, as most draws are not */
		json_array_append_new(out, json_real(d->lo));
		json_array_append_new(out, json_real(tally__round_sig(d->lo + (d->hi - d->lo) * 0.5123, 6)));
		json_array_append_new(out, json_real(tally__round_sig(d->hi - (d->hi - d->lo) * 1e-9, 12)));
	}
	return out;
}

json_t *tally__space_probe_points(const tally_space *space)
{
	/* Point k takes every dimension's k-th extreme (its last when it has
	 * fewer): each value is tried, in as few points as the longest list. */
	json_t *points = json_array(), *ext = json_array();
	size_t most = 0;
	for (size_t i = 0; i < space->n; i++) {
		json_t *e = extremes(&space->dims[i]);
		most = json_array_size(e) > most ? json_array_size(e) : most;
		json_array_append_new(ext, e);
	}
	for (size_t k = 0; k < most || (k == 0 && space->n == 0); k++) {
		json_t *point = json_object();
		for (size_t i = 0; i < space->n; i++) {
			json_t *e = json_array_get(ext, i);
			size_t n = json_array_size(e);
			json_object_set(point, space->dims[i].name, json_array_get(e, k < n ? k : n - 1));
		}
		json_array_append_new(points, point);
	}
	json_decref(ext);
	return points;
}
