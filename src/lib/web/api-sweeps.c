/*
 * /api/sweeps (the list), /api/sweeps/ID (one sweep and its trials) and
 * /api/diff (two runs' sources or output as unified diffs).
 */
#include "lib/web/web.h"

#include <stdlib.h>
#include <string.h>

#include "lib/web/mhdlib.h"

#define OUTPUT_DIFF_MAX (8u << 20)

int tally__web_sweeps(tally_web_request *req)
{
	tally_store *store = tally__web_store(req);
	char *list = NULL;
	int rc = store ? tally_sweep_list(store, &list) : TALLY_ERROR;
	if (rc)
		return tally__web_lib_error(req, rc);
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_printf(&out, "{\"sweeps\":%s}", list ? list : "[]");
	free(list);
	return tally__web_json_text(req, 200, tally_buf_detach(&out));
}

static json_t *trial_object(const tally_sweep_trial *t, size_t i)
{
	json_t *o = json_object();
	json_object_set_new(o, "trial", json_integer((json_int_t)i + 1));
	json_t *flags = json_loads(t->flags_json ? t->flags_json : "{}", 0, NULL);
	json_object_set_new(o, "flags", flags ? flags : json_object());
	json_object_set_new(o, "run_id", t->run_id ? json_string(t->run_id) : json_null());
	json_object_set_new(o, "status", json_string(t->status ? t->status : "pending"));
	json_object_set_new(o, "objective", t->logged_objective ? json_real(t->objective) : json_null());
	json_object_set_new(o, "duration_ms", t->duration_ms >= 0 ? json_integer(t->duration_ms) : json_null());
	return o;
}

int tally__web_sweep(tally_web_request *req, const char *id)
{
	tally_store *store = tally__web_store(req);
	tally_sweep *sweep = NULL;
	int rc = store ? tally_sweep_open(&sweep, store, id) : TALLY_ERROR;
	if (rc)
		return tally__web_lib_error(req, rc);
	json_t *o = json_object();
	json_t *record = json_loads(tally_sweep_json(sweep), 0, NULL);
	json_object_set_new(o, "sweep", record ? record : json_object());
	json_object_set_new(o, "status", json_string(tally_sweep_status(sweep)));
	json_object_set_new(o, "description", tally__json_text(tally_sweep_describe(sweep)));
	int maximize = 0;
	const char *objective = tally_sweep_objective(sweep, &maximize);
	json_object_set_new(o, "objective", *objective ? tally__json_text(objective) : json_null());
	json_object_set_new(o, "maximize", json_boolean(maximize));
	long best = tally_sweep_best(sweep);
	json_object_set_new(o, "best", best >= 0 ? json_integer(best + 1) : json_null());
	json_t *trials = json_array();
	for (size_t i = 0; i < tally_sweep_trial_count(sweep); i++) {
		tally_sweep_trial t;
		if (tally_sweep_trial_get(sweep, i, &t) == 0)
			json_array_append_new(trials, trial_object(&t, i));
	}
	json_object_set_new(o, "trials", trials);
	tally_sweep_free(sweep);
	return tally__web_json(req, 200, o);
}

/* ---- diffs ---- */

static int add_file_diff(void *ctx, const tally_file_diff *d)
{
	json_t *files = ctx, *o = json_object();
	json_object_set_new(o, "path", tally__json_text(d->path));
	json_object_set_new(o, "old_path", tally__json_text(d->old_path));
	json_object_set_new(o, "change", json_string(d->change));
	json_object_set_new(o, "binary", json_boolean(d->binary));
	json_object_set_new(o, "additions", json_integer((json_int_t)d->additions));
	json_object_set_new(o, "deletions", json_integer((json_int_t)d->deletions));
	json_object_set_new(o, "patch", tally__json_text(d->patch));
	json_array_append_new(files, o);
	return 0;
}

static int gather_output(void *ctx, int stream, const char *data, size_t len, int64_t time_ms)
{
	tally_buf *text = ctx;
	if (text->len + len > OUTPUT_DIFF_MAX)
		return 1; /* enough: the diff covers the first 8 MiB */
	tally_buf_add(text, data, len);
	return 0;
}

static int diff_outputs(const tally_run *a, const tally_run *b, json_t *files)
{
	tally_buf ta = TALLY_BUF_INIT, tb = TALLY_BUF_INIT;
	int rc = tally_run_output(a, TALLY_OUTPUT_BOTH, gather_output, &ta);
	if (!rc)
		rc = tally_run_output(b, TALLY_OUTPUT_BOTH, gather_output, &tb);
	if (!rc)
		rc = tally_diff_texts(ta.ptr ? ta.ptr : "", ta.len, tally_run_id(a), tb.ptr ? tb.ptr : "", tb.len,
		                      tally_run_id(b), 3, add_file_diff, files);
	tally_buf_release(&ta);
	tally_buf_release(&tb);
	return rc;
}

int tally__web_diff(tally_web_request *req)
{
	const char *ref_a = tally__web_arg(req, "a"), *ref_b = tally__web_arg(req, "b");
	const char *what = tally__web_arg(req, "what");
	if (!ref_a || !ref_b)
		return tally__web_error(req, 400, "diff needs two runs: a=ID&b=ID");
	if (what && strcmp(what, "sources") && strcmp(what, "output"))
		return tally__web_error(req, 400, "what=%s: sources or output", what);
	if (!tally__web_run_ref_ok(req, ref_a) || !tally__web_run_ref_ok(req, ref_b))
		return MHD_YES;
	tally_store *store = tally__web_store(req);
	tally_run *a = NULL, *b = NULL;
	int rc = store ? tally_run_lookup(&a, store, ref_a) : TALLY_ERROR;
	if (!rc)
		rc = tally_run_lookup(&b, store, ref_b);
	json_t *files = json_array();
	if (!rc)
		rc = what && !strcmp(what, "output") ? diff_outputs(a, b, files) : tally_diff_sources(a, b, 3, add_file_diff, files);
	tally_run_free(a);
	tally_run_free(b);
	if (rc) {
		json_decref(files);
		return tally__web_lib_error(req, rc);
	}
	json_t *o = json_object();
	json_object_set_new(o, "files", files);
	return tally__web_json(req, 200, o);
}
