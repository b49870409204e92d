/*
 * The R package's C side: .Call entry points over libtally (tally.h).
 * Runs are read through the library; runs are started by the tally binary
 * (R/run.R), as design.md asks.  Every failure becomes an R error carrying
 * libtally's one-line message.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <R.h>
#include <Rinternals.h>
#include <R_ext/Rdynload.h>

#include <tally.h>

/* An optional string argument: NULL for R's NULL, NA or "". */
static const char *optional_string(SEXP x)
{
	if (TYPEOF(x) != STRSXP || XLENGTH(x) < 1 || STRING_ELT(x, 0) == NA_STRING)
		return NULL;
	const char *s = CHAR(STRING_ELT(x, 0));
	return *s ? s : NULL;
}

static void fail(const char *what)
{
	Rf_error("%s", *tally_error_last() ? tally_error_last() : what);
}

static tally_store *open_store(SEXP runs_dir)
{
	tally_store *store = NULL;
	if (tally_store_open(&store, optional_string(runs_dir)))
		fail("cannot open the runs directory");
	return store;
}

/* One column of a tally_table as an R vector: text, double, integer, logical, or POSIXct. */
static SEXP column_vector(const tally_table *t, size_t col, size_t rows)
{
	SEXP v;
	switch (tally_table_column_type(t, col)) {
	case TALLY_COLUMN_TEXT:
		v = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)rows));
		for (size_t r = 0; r < rows; r++) {
			const char *s = tally_table_text(t, col, r);
			SET_STRING_ELT(v, (R_xlen_t)r, s ? Rf_mkCharCE(s, CE_UTF8) : NA_STRING);
		}
		break;
	case TALLY_COLUMN_INTEGER:
		v = PROTECT(Rf_allocVector(INTSXP, (R_xlen_t)rows));
		for (size_t r = 0; r < rows; r++) {
			double x = tally_table_number(t, col, r);
			INTEGER(v)[r] = tally_table_has(t, col, r) && x >= -2147483647.0 && x <= 2147483647.0 ? (int)x : NA_INTEGER;
		}
		break;
	case TALLY_COLUMN_BOOL:
		v = PROTECT(Rf_allocVector(LGLSXP, (R_xlen_t)rows));
		for (size_t r = 0; r < rows; r++)
			LOGICAL(v)[r] = tally_table_has(t, col, r) ? tally_table_number(t, col, r) != 0 : NA_LOGICAL;
		break;
	default: /* numbers, and times as POSIXct seconds */
		v = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)rows));
		bool time = tally_table_column_type(t, col) == TALLY_COLUMN_TIME;
		for (size_t r = 0; r < rows; r++)
			REAL(v)[r] = tally_table_has(t, col, r) ? tally_table_number(t, col, r) / (time ? 1000.0 : 1.0) : NA_REAL;
		if (time) {
			SEXP cls = PROTECT(Rf_allocVector(STRSXP, 2));
			SET_STRING_ELT(cls, 0, Rf_mkChar("POSIXct"));
			SET_STRING_ELT(cls, 1, Rf_mkChar("POSIXt"));
			Rf_setAttrib(v, R_ClassSymbol, cls);
			UNPROTECT(1);
		}
	}
	UNPROTECT(1);
	return v;
}

/* A tally_table as a named list of R vectors (protected by the caller's use). */
static SEXP table_list(const tally_table *t)
{
	size_t rows = tally_table_rows(t), cols = tally_table_columns(t);
	SEXP out = PROTECT(Rf_allocVector(VECSXP, (R_xlen_t)cols));
	SEXP names = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)cols));
	for (size_t c = 0; c < cols; c++) {
		SET_VECTOR_ELT(out, (R_xlen_t)c, column_vector(t, c, rows));
		SET_STRING_ELT(names, (R_xlen_t)c, Rf_mkCharCE(tally_table_column_name(t, c), CE_UTF8));
	}
	Rf_setAttrib(out, R_NamesSymbol, names);
	UNPROTECT(2);
	return out;
}

/* The runs a query selects as a named list of columns, straight from the index. */
SEXP tally_r_runs_table(SEXP runs_dir, SEXP where, SEXP sort, SEXP limit)
{
	tally_store *store = open_store(runs_dir);
	tally_iter_options opts = TALLY_ITER_OPTIONS_INIT;
	opts.where = optional_string(where);
	opts.sort = optional_string(sort);
	opts.limit = Rf_isNull(limit) ? 0 : (size_t)Rf_asInteger(limit);
	tally_table *t = NULL;
	if (tally_table_new(&t, store, &opts)) {
		char message[1024];
		snprintf(message, sizeof message, "%s", tally_error_last());
		tally_store_free(store);
		Rf_error("%s", message);
	}
	SEXP out = table_list(t);
	tally_table_free(t);
	tally_store_free(store);
	return out;
}

/* The run `ref` names; an R error (the store freed) when there is none. */
static tally_run *lookup_run(tally_store *store, SEXP ref)
{
	const char *r = optional_string(ref);
	tally_run *run = NULL;
	if (r && tally_run_lookup(&run, store, r) == 0)
		return run;
	char message[1024];
	snprintf(message, sizeof message, "%s", r ? tally_error_last() : "which run? — give a run directory, id or index");
	tally_store_free(store);
	Rf_error("%s", message);
	return NULL; /* not reached */
}

/* One run (its directory) as the same named list of columns, read from the
 * run itself: training_run() returns the run it started without syncing the index. */
SEXP tally_r_run_row(SEXP runs_dir, SEXP dir)
{
	tally_store *store = open_store(runs_dir);
	tally_run *run = lookup_run(store, dir);
	tally_table *t = NULL;
	char message[1024] = "";
	if (tally_table_of_runs(&t, &run, 1))
		snprintf(message, sizeof message, "%s", tally_error_last());
	tally_run_free(run);
	tally_store_free(store);
	if (*message)
		Rf_error("%s", message);
	SEXP out = table_list(t);
	tally_table_free(t);
	return out;
}

/* Everything recorded about one run: c(run.json's text, the run's directory). */
SEXP tally_r_run_json(SEXP runs_dir, SEXP ref)
{
	tally_store *store = open_store(runs_dir);
	tally_run *run = lookup_run(store, ref);
	SEXP out = PROTECT(Rf_allocVector(STRSXP, 2));
	SET_STRING_ELT(out, 0, Rf_mkCharCE(tally_run_json(run), CE_UTF8));
	SET_STRING_ELT(out, 1, Rf_mkCharCE(tally_run_dir(run), CE_UTF8));
	tally_run_free(run);
	tally_store_free(store);
	UNPROTECT(1);
	return out;
}

/* ---- scalar points ---- */

typedef struct {
	const char *const *tags; /* only these, or all when NULL */
	R_xlen_t n_tags;
	char **tag;
	double *step, *value, *time;
	size_t n, cap;
	bool oom;
} points;

static int take_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	points *p = ctx;
	if (p->tags) {
		R_xlen_t i = 0;
		while (i < p->n_tags && strcmp(p->tags[i], tag))
			i++;
		if (i == p->n_tags)
			return 0;
	}
	if (p->n == p->cap) {
		size_t cap = p->cap ? p->cap * 2 : 1024;
		char **tg = realloc(p->tag, cap * sizeof *tg);
		double *st = tg ? realloc(p->step, cap * sizeof *st) : NULL;
		if (tg)
			p->tag = tg;
		if (st)
			p->step = st;
		double *va = st ? realloc(p->value, cap * sizeof *va) : NULL;
		if (va)
			p->value = va;
		double *ti = va ? realloc(p->time, cap * sizeof *ti) : NULL;
		if (ti)
			p->time = ti;
		if (!ti) {
			p->oom = true;
			return 1;
		}
		p->cap = cap;
	}
	p->tag[p->n] = strdup(tag);
	if (!p->tag[p->n]) {
		p->oom = true;
		return 1;
	}
	p->step[p->n] = (double)step;
	p->value[p->n] = value;
	p->time[p->n] = (double)time_ms / 1000.0;
	p->n++;
	return 0;
}

static void points_release(points *p)
{
	for (size_t i = 0; i < p->n; i++)
		free(p->tag[i]);
	free(p->tag);
	free(p->step);
	free(p->value);
	free(p->time);
}

/* Every point of one run (of `tags` when given): list(tag, step, value, time, run = its id). */
SEXP tally_r_scalars(SEXP runs_dir, SEXP ref, SEXP tags)
{
	const char *r = optional_string(ref);
	if (!r)
		Rf_error("which run? — give a run directory, id or index");
	points p = {0};
	if (TYPEOF(tags) == STRSXP && XLENGTH(tags) > 0) {
		p.n_tags = XLENGTH(tags);
		const char **list = (const char **)R_alloc((size_t)p.n_tags, sizeof *list);
		for (R_xlen_t i = 0; i < p.n_tags; i++)
			list[i] = CHAR(STRING_ELT(tags, i));
		p.tags = list;
	}
	tally_store *store = open_store(runs_dir);
	tally_run *run = NULL;
	char message[1024] = "", id[256] = "";
	if (tally_run_lookup(&run, store, r) || tally_run_scalar_points(run, take_point, &p))
		snprintf(message, sizeof message, "%s", tally_error_last());
	else if (p.oom)
		snprintf(message, sizeof message, "out of memory reading the scalars of %s", r);
	else
		snprintf(id, sizeof id, "%s", tally_run_id(run));
	tally_run_free(run);
	tally_store_free(store);
	if (*message) {
		points_release(&p);
		Rf_error("%s", message);
	}
	SEXP out = PROTECT(Rf_allocVector(VECSXP, 5));
	SEXP tag = PROTECT(Rf_allocVector(STRSXP, (R_xlen_t)p.n));
	SEXP step = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)p.n));
	SEXP value = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)p.n));
	SEXP time = PROTECT(Rf_allocVector(REALSXP, (R_xlen_t)p.n));
	for (size_t i = 0; i < p.n; i++) {
		SET_STRING_ELT(tag, (R_xlen_t)i, Rf_mkCharCE(p.tag[i], CE_UTF8));
		REAL(step)[i] = p.step[i];
		REAL(value)[i] = p.value[i];
		REAL(time)[i] = p.time[i];
	}
	points_release(&p);
	SET_VECTOR_ELT(out, 0, tag);
	SET_VECTOR_ELT(out, 1, step);
	SET_VECTOR_ELT(out, 2, value);
	SET_VECTOR_ELT(out, 3, time);
	SET_VECTOR_ELT(out, 4, Rf_mkString(id));
	SEXP names = PROTECT(Rf_allocVector(STRSXP, 5));
	const char *n[] = {"tag", "step", "value", "time", "run"};
	for (int i = 0; i < 5; i++)
		SET_STRING_ELT(names, i, Rf_mkChar(n[i]));
	Rf_setAttrib(out, R_NamesSymbol, names);
	UNPROTECT(6);
	return out;
}

/* The absolute runs directory a runs_dir argument names. */
SEXP tally_r_runs_dir(SEXP runs_dir)
{
	tally_store *store = open_store(runs_dir);
	SEXP out = PROTECT(Rf_mkString(tally_store_path(store)));
	tally_store_free(store);
	UNPROTECT(1);
	return out;
}

SEXP tally_r_version(void)
{
	return Rf_mkString(tally_version());
}

static const R_CallMethodDef calls[] = {
	{"tally_r_runs_table", (DL_FUNC)&tally_r_runs_table, 4},
	{"tally_r_run_row", (DL_FUNC)&tally_r_run_row, 2},
	{"tally_r_run_json", (DL_FUNC)&tally_r_run_json, 2},
	{"tally_r_runs_dir", (DL_FUNC)&tally_r_runs_dir, 1},
	{"tally_r_scalars", (DL_FUNC)&tally_r_scalars, 3},
	{"tally_r_version", (DL_FUNC)&tally_r_version, 0},
	{NULL, NULL, 0},
};

void R_init_tally(DllInfo *dll)
{
	R_registerRoutines(dll, NULL, calls, NULL, NULL);
	R_useDynamicSymbols(dll, FALSE);
	R_forceSymbols(dll, TRUE);
}
