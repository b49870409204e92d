/*
 * Sending queued runs to Slurm: one sbatch per batch of runs, a job array
 * when there are several.  The batch script only names tally, the runs
 * directory and a list of run ids (RUNS/.slurm/NAME.runs); array task i
 * runs line i with `tally slurm-task`, which launches that queued run as
 * it was recorded.  User text reaches sbatch as argv words, never a shell.
 */
#include "lib/launch/submit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lib/slurm/slurm.h"
#include "util/timeutil.h"

/* Options that would break how a batch maps onto its runs: -a, and --array,
 * --wrap, --parsable or an abbreviation sbatch would take for one of them. */
static int check_user_option(const char *opt)
{
	static const char *const refused[] = {"--array", "--wrap", "--parsable", NULL};
	size_t name = strcspn(opt, "=");
	bool hit = !strncmp(opt, "-a", 2) && opt[1] == 'a';
	for (const char *const *r = refused; *r && !hit; r++)
		hit = name > 3 && name <= strlen(*r) && !strncmp(opt, *r, name);
	if (hit)
		return tally__error(TALLY_EINVALID, "the Slurm option '%s' is tally's to set — leave it out "
		                    "(tally tune --parallel N sets the array's %%N)", opt);
	return 0;
}

static int push(tally_strlist *l, const char *s)
{
	return tally_strlist_push(l, s) < 0 ? tally__error_oom() : 0;
}

#define push_printf(l, ...) (tally_strlist_pushf((l), __VA_ARGS__) < 0 ? tally__error_oom() : 0)

/* sbatch's options for the batch, in the order in which later ones win:
 * tally's defaults, the run's own settings, the command line's, --gpus-per-trial. */
static int batch_options(tally_strlist *out, const tally_slurm_batch *b, const char *logs_dir)
{
	int rc = push_printf(out, "--job-name=%s", b->job_name ? b->job_name : "tally");
	if (!rc)
		rc = push_printf(out, "--output=%s/slurm-%s.out", logs_dir, b->n > 1 ? "%A_%a" : "%j");
	json_t *own = json_object_get(json_object_get(b->runs[0]->meta, "slurm"), "script_options");
	size_t i;
	json_t *v;
	json_array_foreach(own, i, v) {
		if (rc || (rc = check_user_option(json_string_value(v))) || (rc = push(out, json_string_value(v))))
			break;
	}
	tally_strlist words = TALLY_STRLIST_INIT;
	for (const char *const *o = b->options; !rc && o && *o; o++)
		rc = tally__slurm_split_options(&words, *o, "--slurm");
	for (size_t k = 0; !rc && k < words.n; k++)
		if (!(rc = check_user_option(words.items[k])))
			rc = push(out, words.items[k]);
	tally_strlist_release(&words);
	if (!rc && b->gpus)
		rc = push_printf(out, "--gres=gpu:%u", b->gpus);
	if (!rc && b->n > 1)
		rc = b->throttle && b->throttle < b->n ? push_printf(out, "--array=0-%zu%%%u", b->n - 1, b->throttle)
		                                       : push_printf(out, "--array=0-%zu", b->n - 1);
	return rc;
}

/* RUNS/.slurm/STAMP-PID-N.runs (the run ids) and .sh (the batch script). */
static int write_batch_files(char **script_out, const tally_slurm_batch *b, const char *dir, const char *runs_dir)
{
	static unsigned counter;
	char stamp[32];
	snprintf(stamp, sizeof stamp, "%lld-%d-%u", (long long)tally_now_ms(), (int)getpid(), counter++);
	tally_buf list = TALLY_BUF_INIT, list_path = TALLY_BUF_INIT, script_path = TALLY_BUF_INIT;
	for (size_t i = 0; i < b->n; i++)
		tally_buf_printf(&list, "%s\n", b->runs[i]->id);
	tally_buf_printf(&list_path, "%s/%s.runs", dir, stamp);
	tally_buf_printf(&script_path, "%s/%s.sh", dir, stamp);
	int rc = 0;
	if (tally_buf_oom(&list) || tally_buf_oom(&list_path) || tally_buf_oom(&script_path))
		rc = tally__error_oom();
	else if (tally_write_file_atomic(list_path.ptr, list.ptr, list.len, TALLY_DURABLE) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", list_path.ptr);
	if (!rc) {
		const char *argv[] = {b->tally, "slurm-task", "--runs-dir", runs_dir, list_path.ptr, NULL};
		rc = tally__slurm_write_script(script_path.ptr, argv, "Written by tally: each task of this job runs one queued run of the list.");
	}
	if (!rc)
		*script_out = tally_buf_detach(&script_path);
	tally_buf_release(&list);
	tally_buf_release(&list_path);
	tally_buf_release(&script_path);
	return rc;
}

/* Each run learns its job: "JOB" alone, or "JOB_I" for task I of an array. */
static void note_jobs(const tally_slurm_batch *b, const char *job_id, const tally_strlist *options, const char *script)
{
	char iso[40];
	tally_format_iso_ms(iso, sizeof iso, tally_now_ms());
	json_t *opts = json_array();
	for (size_t i = 0; i < options->n; i++)
		json_array_append_new(opts, tally__json_text(options->items[i]));
	for (size_t i = 0; i < b->n; i++) {
		char job[64];
		if (b->n > 1)
			snprintf(job, sizeof job, "%s_%zu", job_id, i);
		else
			snprintf(job, sizeof job, "%s", job_id);
		json_t *fields = json_object();
		json_object_set_new(fields, "job", json_string(job));
		json_object_set_new(fields, "job_id", json_string(job_id));
		if (b->n > 1)
			json_object_set_new(fields, "array_index", json_integer((json_int_t)i));
		json_object_set_new(fields, "state", json_string("PENDING"));
		json_object_set_new(fields, "submitted", json_string(iso));
		json_object_set(fields, "options", opts);
		json_object_set_new(fields, "batch_script", json_string(script));
		tally__run_note_slurm(b->runs[i]->dir, fields);
		json_object_set_new(b->runs[i]->meta, "slurm", fields); /* the caller's copy, for its messages */
	}
	json_decref(opts);
}

int tally__slurm_submit_batch(char **job_id, tally_store *store, const tally_slurm_batch *b)
{
	*job_id = NULL;
	if (!b->n)
		return 0;
	char *dir = tally_path_join(store->path, TALLY_SLURM_DIR);
	tally_strlist options = TALLY_STRLIST_INIT;
	char *script = NULL;
	int rc = !dir ? tally__error_oom() : tally_mkdir_p(dir) < 0 ? tally__error_errno(TALLY_ERROR, "cannot create '%s'", dir) : 0;
	if (!rc)
		rc = batch_options(&options, b, dir);
	if (!rc)
		rc = write_batch_files(&script, b, dir, store->path);
	if (!rc)
		rc = tally__slurm_submit(job_id, &options, script);
	if (!rc)
		note_jobs(b, *job_id, &options, script);
	tally_strlist_release(&options);
	free(script);
	free(dir);
	return rc;
}

void tally__slurm_discard_queued(tally_store *store, tally_run *run)
{
	tally_buf marker = TALLY_BUF_INIT;
	tally_buf_printf(&marker, "%s/" TALLY_SLURM_DIR "/active/%s", store->path, run->id);
	if (marker.ptr)
		unlink(marker.ptr);
	tally_buf_release(&marker);
	tally_remove_tree(run->dir);
	tally__store_touch(store);
}

int tally_slurm_submit(tally_run **out, char **job_id, tally_store *store, const tally_launch_options *launch,
                       const tally_slurm_options *slurm)
{
	*out = NULL;
	*job_id = NULL;
	if (!slurm || slurm->version != TALLY_SLURM_OPTIONS_VERSION || !slurm->tally)
		return tally__error(TALLY_EINVALID, "unsupported tally_slurm_options");
	if (!launch || launch->version < 4 || launch->version > TALLY_LAUNCH_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "unsupported tally_launch_options version");
	int rc = tally__slurm_check();
	if (rc)
		return rc;
	tally_run *run = NULL;
	if ((rc = tally__launch_queue(&run, store, launch)))
		return rc;
	tally_slurm_batch b = {&run, 1, slurm->options, slurm->gpus, 0, slurm->tally, slurm->job_name};
	if ((rc = tally__slurm_submit_batch(job_id, store, &b))) {
		tally__slurm_discard_queued(store, run); /* nothing is left of a refused submission */
		tally_run_free(run);
		return rc;
	}
	*out = run;
	return 0;
}
