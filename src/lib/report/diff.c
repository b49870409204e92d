/*
 * Diffs of runs: their source snapshots file by file, and any two texts
 * (console output), as unified diffs made by libgit2.
 */
#include "lib/run/gitlib.h"
#include "lib/report/report.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/fsutil.h"

#define GIT tally__gitlib()
#define DIFF_MAX_FILE (64u << 20) /* bigger files are compared by digest only */

/* The sources a run's snapshot lists: path → sha256 (an object), safe paths only. */
static json_t *snapshot_of(const tally_run *run)
{
	json_t *files = json_object();
	char *path = tally_path_join(tally_run_dir(run), TALLY_META_DIR "/sources.json");
	json_t *list = path ? json_load_file(path, 0, NULL) : NULL;
	free(path);
	size_t i;
	json_t *entry;
	json_array_foreach(list, i, entry) {
		const char *rel = json_string_value(json_object_get(entry, "path"));
		const char *sha = json_string_value(json_object_get(entry, "sha256"));
		if (rel && tally__plain_path(rel) && strncmp(rel, TALLY_META_DIR "/", strlen(TALLY_META_DIR) + 1) &&
		    strcmp(rel, TALLY_META_DIR))
			json_object_set_new(files, rel, json_string(sha ? sha : ""));
	}
	json_decref(list);
	return files;
}

/* A file of the run's snapshot, read only when it really lies inside the run. */
static int read_source(const tally_run *run, const char *rel, tally_buf *out)
{
	char *path = tally_path_join(tally_run_dir(run), rel);
	char *real = path ? realpath(path, NULL) : NULL, *root = realpath(tally_run_dir(run), NULL);
	size_t n = root ? strlen(root) : 0;
	int rc = 0;
	if (!path)
		rc = tally__error_oom();
	else if (!real || !root || strncmp(real, root, n) || real[n] != '/')
		rc = 1; /* gone, or a link out of the run: shown as empty */
	else if (tally_read_regular_file(out, real, DIFF_MAX_FILE) < 0)
		rc = errno == EFBIG ? 2 : 1;
	free(path);
	free(real);
	free(root);
	return rc;
}

static int visit_patch(git_patch *patch, tally_file_diff *d, tally_file_diff_visitor visit, void *ctx)
{
	size_t context = 0;
	GIT->patch_line_stats(&context, &d->additions, &d->deletions, patch);
	const git_diff_delta *delta = GIT->patch_get_delta(patch);
	d->binary = delta && (delta->flags & GIT_DIFF_FLAG_BINARY);
	git_buf buf = {NULL, 0, 0};
	int rc = GIT->patch_to_buf(&buf, patch);
	if (rc < 0)
		return tally__error(TALLY_ERROR, "cannot write the diff of %s", d->path);
	d->patch = buf.ptr ? buf.ptr : "";
	rc = visit(ctx, d);
	GIT->buf_dispose(&buf);
	return rc;
}

static int diff_buffers(const char *a, size_t a_len, const char *a_label, const char *b, size_t b_len,
                        const char *b_label, unsigned context, tally_file_diff *d, tally_file_diff_visitor visit,
                        void *ctx)
{
	git_diff_options opts;
	GIT->diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	opts.context_lines = context;
	git_patch *patch = NULL;
	if (GIT->patch_from_buffers(&patch, a, a_len, a_label, b, b_len, b_label, &opts) < 0)
		return tally__error(TALLY_ERROR, "cannot diff %s", d->path);
	int rc = visit_patch(patch, d, visit, ctx);
	GIT->patch_free(patch);
	return rc;
}

typedef struct {
	const tally_run *a, *b;
	json_t *files_a, *files_b;
	unsigned context;
	tally_file_diff_visitor visit;
	void *ctx;
} source_diff;

static int diff_one(source_diff *sd, const char *path, const char *old_path, const char *change)
{
	tally_buf ta = TALLY_BUF_INIT, tb = TALLY_BUF_INIT;
	tally_file_diff d = {path, old_path ? old_path : path, change, 0, 0, 0, ""};
	bool in_a = strcmp(change, "added") != 0, in_b = strcmp(change, "removed") != 0;
	int ra = in_a ? read_source(sd->a, d.old_path, &ta) : 0, rb = in_b ? read_source(sd->b, path, &tb) : 0;
	int rc = ra < 0 ? ra : rb < 0 ? rb : 0;
	if (!rc && (ra == 2 || rb == 2)) { /* too big to diff by lines */
		d.binary = 1;
		rc = sd->visit(sd->ctx, &d);
	} else if (!rc) {
		rc = diff_buffers(in_a ? (ta.ptr ? ta.ptr : "") : NULL, ta.len, d.old_path, in_b ? (tb.ptr ? tb.ptr : "") : NULL,
		                  tb.len, path, sd->context, &d, sd->visit, sd->ctx);
	}
	tally_buf_release(&ta);
	tally_buf_release(&tb);
	return rc;
}

static int by_name(const void *x, const void *y)
{
	return strcmp(*(const char *const *)x, *(const char *const *)y);
}

static int diff_all(source_diff *sd)
{
	/* every path of either run, sorted */
	size_t n = json_object_size(sd->files_a) + json_object_size(sd->files_b), k = 0;
	const char **paths = malloc((n ? n : 1) * sizeof *paths);
	if (!paths)
		return tally__error_oom();
	const char *path;
	json_t *v;
	json_object_foreach(sd->files_a, path, v) paths[k++] = path;
	json_object_foreach(sd->files_b, path, v) if (!json_object_get(sd->files_a, path)) paths[k++] = path;
	qsort(paths, k, sizeof *paths, by_name);
	/* Renames: a file only A has whose digest a file only B has.  By maps,
	 * not by searching: a snapshot may hold tens of thousands of files. */
	json_t *added_by_digest = json_object(), *moved_to = json_object(), *moved_from = json_object();
	json_object_foreach(sd->files_b, path, v) {
		const char *sha = json_string_value(v);
		if (sha && *sha && !json_object_get(sd->files_a, path) && !json_object_get(added_by_digest, sha))
			json_object_set_new(added_by_digest, sha, json_string(path));
	}
	for (size_t i = 0; i < k; i++) {
		const char *sha = json_string_value(json_object_get(sd->files_a, paths[i]));
		if (!sha || !*sha || json_object_get(sd->files_b, paths[i]))
			continue;
		const char *to = json_string_value(json_object_get(added_by_digest, sha));
		if (to && !json_object_get(moved_to, to)) {
			json_object_set_new(moved_to, to, json_string(paths[i]));
			json_object_set_new(moved_from, paths[i], json_string(to));
		}
	}
	int rc = 0;
	for (size_t i = 0; i < k && !rc; i++) {
		const char *p = paths[i];
		json_t *sa = json_object_get(sd->files_a, p), *sb = json_object_get(sd->files_b, p);
		const char *from = json_string_value(json_object_get(moved_to, p));
		if (sa && sb) {
			if (!json_equal(sa, sb) || !json_string_length(sa))
				rc = diff_one(sd, p, NULL, "modified");
		} else if (sb && from) {
			tally_file_diff d = {p, from, "renamed", 0, 0, 0, ""};
			rc = sd->visit(sd->ctx, &d);
		} else if (sb) {
			rc = diff_one(sd, p, NULL, "added");
		} else if (!json_object_get(moved_from, p)) {
			rc = diff_one(sd, p, NULL, "removed");
		}
	}
	json_decref(added_by_digest);
	json_decref(moved_to);
	json_decref(moved_from);
	free(paths);
	return rc;
}

/* "modified" for a file whose digests are equal still produces no patch: visitors see only changes. */
typedef struct {
	tally_file_diff_visitor visit;
	void *ctx;
} only_changes;

static int skip_unchanged(void *ctx, const tally_file_diff *d)
{
	only_changes *o = ctx;
	if (!strcmp(d->change, "modified") && !d->binary && !d->additions && !d->deletions)
		return 0;
	return o->visit(o->ctx, d);
}

/*
 * libgit2 is initialized once for the process and never shut down: each
 * initialization parses the system's CA certificates (about 5 ms), which a
 * report comparing 50 runs paid 49 times, one diff of sources each.
 */
static pthread_once_t git_once = PTHREAD_ONCE_INIT;

static void git_init(void)
{
	GIT->libgit2_init();
}

int tally_diff_sources(const tally_run *a, const tally_run *b, unsigned context, tally_file_diff_visitor visit,
                       void *ctx)
{
	if (!GIT)
		return TALLY_ERROR; /* the message is set */
	pthread_once(&git_once, git_init);
	only_changes o = {visit, ctx};
	source_diff sd = {a, b, snapshot_of(a), snapshot_of(b), context, skip_unchanged, &o};
	int rc = diff_all(&sd);
	json_decref(sd.files_a);
	json_decref(sd.files_b);
	return rc;
}

int tally_diff_texts(const char *a, size_t a_len, const char *a_label, const char *b, size_t b_len,
                     const char *b_label, unsigned context, tally_file_diff_visitor visit, void *ctx)
{
	if (!GIT)
		return TALLY_ERROR;
	pthread_once(&git_once, git_init);
	tally_file_diff d = {b_label, a_label, "modified", 0, 0, 0, ""};
	only_changes o = {visit, ctx};
	return diff_buffers(a, a_len, a_label, b, b_len, b_label, context, &d, skip_unchanged, &o);
}
