/*
 * The source snapshot: the project's source files are copied into the run
 * directory before the script starts, so `source("utils.R")` and
 * `import utils` work from the run directory and later edits never change
 * the record.  Every other project entry (data folders, large files) is
 * linked under the same relative path, so a script reading data/train.csv
 * works unmodified, while the files it writes land in the run.
 *
 * Inside a git repository the sources are the tracked files plus untracked
 * ones that are not ignored (libgit2's status); elsewhere they are the text
 * files below a size limit.  Neither ever includes the runs directory.
 */
#include "lib/run/run.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/run/gitlib.h"
#include "util/digest.h"
#include "util/fsutil.h"
#include "util/strlist.h"

/* libgit2 through the table loaded on first use; only used once tally__gitlib() said yes. */
#define GIT tally__gitlib()

/* The source files (relative paths), sorted once collected for binary search. */
typedef struct {
	tally_strlist paths;
	bool truncated; /* max-files reached */
} path_set;

typedef struct {
	const tally_snapshot_request *req;
	path_set sources;
	char *runs_rel;  /* the runs directory relative to the project, or NULL if outside */
	char *runs_real; /* the runs directory, symbolic links resolved */
	bool runs_is_project; /* runs kept in the project directory itself */
} snapshot;

/* Index of the first path >= key. */
static size_t lower_bound(const path_set *set, const char *key)
{
	size_t lo = 0, hi = set->paths.n;
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		if (strcmp(set->paths.items[mid], key) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static bool path_set_has(const path_set *set, const char *path)
{
	size_t i = lower_bound(set, path);
	return i < set->paths.n && !strcmp(set->paths.items[i], path);
}

static bool path_set_has_under(const path_set *set, const char *dir)
{
	tally_buf prefix = TALLY_BUF_INIT;
	tally_buf_printf(&prefix, "%s/", dir);
	size_t i = lower_bound(set, prefix.ptr);
	bool yes = i < set->paths.n && !strncmp(set->paths.items[i], prefix.ptr, prefix.len);
	tally_buf_release(&prefix);
	return yes;
}

static bool under_or_equal(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '\0' || path[n] == '/');
}

/*
 * Whether a project entry is (in) the runs directory — by path, through a
 * symbolic link to it, or, when runs live in the project directory itself,
 * by being a run (a directory with .tally/) or the index.  Such entries are
 * never copied or linked into a run.
 */
static bool in_runs_dir(const snapshot *s, const char *rel, const char *abs)
{
	if (s->runs_rel && under_or_equal(rel, s->runs_rel))
		return true;
	if (s->runs_is_project) {
		const char *slash = strchr(rel, '/');
		size_t first = slash ? (size_t)(slash - rel) : strlen(rel);
		if (first == 6 && !strncmp(rel, ".index", 6))
			return true;
		char *top = strndup(abs, strlen(abs) - strlen(rel) + first);
		char *meta = top ? tally_path_join(top, TALLY_META_DIR) : NULL;
		struct stat st;
		bool is_run = meta && stat(meta, &st) == 0 && S_ISDIR(st.st_mode);
		free(top);
		free(meta);
		if (is_run)
			return true;
	}
	struct stat lst;
	if (s->runs_real && lstat(abs, &lst) == 0 && S_ISLNK(lst.st_mode)) {
		char *real = realpath(abs, NULL);
		bool inside = real && under_or_equal(real, s->runs_real);
		free(real);
		return inside;
	}
	return false;
}

static bool matches_any(char *const *patterns, const char *rel)
{
	const char *base = strrchr(rel, '/') ? strrchr(rel, '/') + 1 : rel;
	for (char *const *pat = patterns; pat && *pat; pat++)
		if (!fnmatch(*pat, rel, 0) || !fnmatch(*pat, base, 0))
			return true;
	return false;
}

/* Named by the script's `include` rules: copied whatever its size or content. */
static bool included(const snapshot *s, const char *rel)
{
	return matches_any(s->req->include, rel);
}

/* An HTML report tally wrote (its generator tag opens the page): an output
 * of tally's, not a source, wherever the user saved it. */
static bool is_tally_report(const char *rel, const char *abs)
{
	size_t len = strlen(rel);
	if (len < 5 || strcmp(rel + len - 5, ".html"))
		return false;
	FILE *f = fopen(abs, "rb");
	if (!f)
		return false;
	char head[1024];
	size_t n = fread(head, 1, sizeof head - 1, f);
	fclose(f);
	head[n] = '\0';
	return strstr(head, "<meta name=\"generator\" content=\"tally\">") != NULL;
}

/* Whether a candidate source file is excluded by name, size, location or origin. */
static bool excluded(const snapshot *s, const char *rel, const char *abs, const struct stat *st)
{
	const tally_config *cfg = s->req->cfg;
	if (!S_ISREG(st->st_mode) || in_runs_dir(s, rel, abs))
		return true;
	if (included(s, rel))
		return false;
	return st->st_size > cfg->source_max_file_size || matches_any(cfg->source_exclude, rel) ||
	       matches_any(s->req->exclude, rel) || is_tally_report(rel, abs);
}

static int consider(snapshot *s, const char *rel)
{
	if (s->sources.paths.n >= (size_t)s->req->cfg->source_max_files) {
		s->sources.truncated = true;
		return 0;
	}
	struct stat st;
	char *abs = tally_path_join(s->req->project_dir, rel);
	if (!abs)
		return -1;
	int rc = 0;
	if (lstat(abs, &st) == 0 && !excluded(s, rel, abs, &st))
		rc = tally_strlist_push(&s->sources.paths, rel);
	free(abs);
	return rc;
}

/* ---- git ---- */

/*
 * libgit2's initialization parses the system's CA certificates (about 20 ms
 * here), work a local status never needs.  tally_launch() starts it on a
 * thread first thing, so it overlaps with validating the request and
 * creating the run; tally__snapshot() joins it before using libgit2.
 */
static pthread_t git_init_thread;
static bool git_init_pending;

static void *git_init_main(void *unused)
{
	(void)unused;
	GIT->libgit2_init();
	return NULL;
}

/* Whether `dir` or one of its parents holds a `.git` (a cheap test, before paying for libgit2). */
static bool inside_git_work_tree(const char *dir)
{
	char *path = realpath(dir, NULL);
	bool found = false;
	while (path && !found) {
		char *git = tally_path_join(path, ".git");
		found = git && access(git, F_OK) == 0;
		free(git);
		char *slash = strrchr(path, '/');
		if (!slash || slash == path)
			break;
		*slash = '\0';
	}
	if (path && !found && !strcmp(path, "/"))
		found = access("/.git", F_OK) == 0;
	free(path);
	return found;
}

void tally__git_init_begin(const char *project_dir)
{
	if (!git_init_pending && inside_git_work_tree(project_dir) && tally__gitlib() &&
	    pthread_create(&git_init_thread, NULL, git_init_main, NULL) == 0)
		git_init_pending = true;
}

void tally__git_init_abandon(void)
{
	if (git_init_pending) {
		pthread_join(git_init_thread, NULL);
		git_init_pending = false;
		GIT->libgit2_shutdown();
	}
}

/* One libgit2 initialization for the caller, to be paired with a shutdown. */
static void git_init_end(void)
{
	if (git_init_pending) {
		pthread_join(git_init_thread, NULL);
		git_init_pending = false;
	} else {
		GIT->libgit2_init();
	}
}

static void record_git_state(git_repository *repo, git_status_list *status, json_t *meta)
{
	json_t *git = json_object();
	git_oid head;
	char hex[GIT_OID_HEXSZ + 1] = "";
	if (GIT->reference_name_to_id(&head, repo, "HEAD") == 0) {
		GIT->oid_tostr(hex, sizeof hex, &head);
		json_object_set_new(git, "commit", json_string(hex));
	}
	git_reference *ref = NULL;
	if (GIT->repository_head(&ref, repo) == 0) {
		json_object_set_new(git, "branch", GIT->reference_is_branch(ref) ? tally__json_text(GIT->reference_shorthand(ref))
		                                                                   : json_null());
		GIT->reference_free(ref);
	}
	bool dirty = false;
	size_t n = GIT->status_list_entrycount(status);
	for (size_t i = 0; i < n && !dirty; i++) {
		unsigned int st = GIT->status_byindex(status, i)->status;
		dirty = st != GIT_STATUS_CURRENT && !(st & (GIT_STATUS_WT_NEW | GIT_STATUS_IGNORED));
	}
	json_object_set_new(git, "dirty", json_boolean(dirty));
	json_object_set_new(git, "workdir", tally__json_text(GIT->repository_workdir(repo)));
	json_object_set_new(meta, "git", git);
}

/* Returns 1 when the project is not in a git work tree, 0 when the sources were collected. */
static int collect_git(snapshot *s, json_t *meta)
{
	git_repository *repo = NULL;
	git_status_list *status = NULL;
	char *project_real = realpath(s->req->project_dir, NULL);
	char *workdir_real = NULL;
	int rc = 1;

	if (!project_real || GIT->repository_open_ext(&repo, project_real, 0, NULL) < 0 || GIT->repository_is_bare(repo))
		goto done;
	workdir_real = realpath(GIT->repository_workdir(repo), NULL);
	if (!workdir_real)
		goto done;
	size_t wlen = strlen(workdir_real);
	const char *prefix = project_real + wlen + (project_real[wlen] == '/'); /* project inside the repo */

	git_status_options opts;
	GIT->status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_INCLUDE_UNTRACKED | GIT_STATUS_OPT_RECURSE_UNTRACKED_DIRS |
	             GIT_STATUS_OPT_INCLUDE_UNMODIFIED | GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	if (GIT->status_list_new(&status, repo, &opts) < 0)
		goto done;
	record_git_state(repo, status, meta);
	rc = 0;
	size_t n = GIT->status_list_entrycount(status), plen = strlen(prefix);
	for (size_t i = 0; i < n && rc == 0; i++) {
		const git_status_entry *e = GIT->status_byindex(status, i);
		const git_diff_delta *d = e->index_to_workdir ? e->index_to_workdir : e->head_to_index;
		if (!d || (e->status & (GIT_STATUS_WT_DELETED | GIT_STATUS_IGNORED)))
			continue;
		const char *path = d->new_file.path;
		if (plen && (strncmp(path, prefix, plen) || path[plen] != '/'))
			continue;
		if (consider(s, plen ? path + plen + 1 : path) < 0)
			rc = -1;
	}
done:
	GIT->status_list_free(status);
	GIT->repository_free(repo);
	free(project_real);
	free(workdir_real);
	return rc;
}

/* ---- plain directories ---- */

static bool looks_like_text(const char *abs)
{
	FILE *f = fopen(abs, "rb");
	if (!f)
		return false;
	char head[8000];
	size_t n = fread(head, 1, sizeof head, f);
	fclose(f);
	return memchr(head, '\0', n) == NULL;
}

static bool skipped_dir_name(const char *name)
{
	return name[0] == '.' || !strcmp(name, "__pycache__") || !strcmp(name, "node_modules");
}

static int collect_plain(snapshot *s, const char *rel_dir)
{
	char *abs_dir = rel_dir[0] ? tally_path_join(s->req->project_dir, rel_dir) : strdup(s->req->project_dir);
	DIR *d = abs_dir ? opendir(abs_dir) : NULL;
	int rc = 0;
	if (!d) {
		free(abs_dir);
		return abs_dir ? 0 : -1;
	}
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		if (e->d_name[0] == '.' || !strcmp(e->d_name, "__pycache__") || !strcmp(e->d_name, "node_modules"))
			continue;
		char *rel = rel_dir[0] ? tally_path_join(rel_dir, e->d_name) : strdup(e->d_name);
		char *abs = rel ? tally_path_join(s->req->project_dir, rel) : NULL;
		struct stat st;
		if (!rel || !abs)
			rc = -1;
		else if (lstat(abs, &st) < 0 || in_runs_dir(s, rel, abs))
			; /* vanished, or the runs directory */
		else if (S_ISDIR(st.st_mode)) {
			char *venv = tally_path_join(abs, "pyvenv.cfg");
			if (venv && access(venv, F_OK) != 0 && !skipped_dir_name(e->d_name))
				rc = collect_plain(s, rel);
			free(venv);
		} else if (S_ISREG(st.st_mode) && !excluded(s, rel, abs, &st) && (included(s, rel) || looks_like_text(abs))) {
			rc = consider(s, rel);
		}
		free(rel);
		free(abs);
	}
	closedir(d);
	free(abs_dir);
	return rc;
}

/* ---- materializing the run directory ---- */

/* Copy one source into the run and list it: 0; 1 when it vanished since it was
 * found (a project's files may come and go while a run starts), or is no longer
 * a regular file, or grew past the size limit (a log another process writes:
 * it is never read on without end); -1 with errno. */
static int copy_source(snapshot *s, const char *rel, tally_buf *manifest_lines, json_t *manifest)
{
	/* an earlier run's sources (sources_from) are copied whole: they were chosen when it ran */
	size_t limit = s->req->sources_from || included(s, rel) ? 0 : (size_t)s->req->cfg->source_max_file_size;
	char *from = tally_path_join(s->req->sources_from ? s->req->sources_from : s->req->project_dir, rel);
	char *to = tally_path_join(s->req->run_dir, rel);
	tally_buf data = TALLY_BUF_INIT;
	int rc = -1;
	struct stat st;
	if (!from || !to)
		goto done;
	if (tally_read_regular_file(&data, from, limit) < 0 || stat(from, &st) < 0) {
		if (errno == ENOENT || errno == EINVAL || errno == ELOOP || errno == EFBIG)
			rc = 1;
		goto done;
	}
	{
		int fd = -1;
		if ((fd = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, st.st_mode & 0777)) < 0)
			goto done;
		if (tally_write_all(fd, data.ptr, data.len) < 0) {
			close(fd);
			goto done;
		}
		if (close(fd) < 0)
			goto done;
	}
	char hex[65];
	if (tally_sha256_hex(data.ptr, data.len, hex) < 0)
		goto done;
	tally_buf_printf(manifest_lines, "%s %s\n", hex, rel);
	json_t *entry = json_object();
	json_object_set_new(entry, "path", tally__json_text(rel));
	json_object_set_new(entry, "size", json_integer((json_int_t)data.len));
	json_object_set_new(entry, "sha256", json_string(hex));
	json_array_append_new(manifest, entry);
	rc = 0;
done:
	free(from);
	free(to);
	tally_buf_release(&data);
	return rc;
}

static int materialize(snapshot *s, const char *rel_dir, tally_buf *lines, json_t *manifest)
{
	char *abs_dir = rel_dir[0] ? tally_path_join(s->req->project_dir, rel_dir) : strdup(s->req->project_dir);
	DIR *d = abs_dir ? opendir(abs_dir) : NULL;
	int rc = 0;
	if (!d) {
		free(abs_dir);
		if (rel_dir[0] && (errno == ENOENT || errno == ENOTDIR))
			return 0; /* gone since its sources were found: nothing to copy */
		return tally__error_errno(TALLY_ERROR, "cannot read project directory '%s'", rel_dir[0] ? rel_dir : ".");
	}
	struct dirent *e;
	while (rc == 0 && (e = readdir(d))) {
		const char *name = e->d_name;
		if (!strcmp(name, ".") || !strcmp(name, "..") || !strcmp(name, ".git") || !strcmp(name, TALLY_META_DIR))
			continue;
		char *rel = rel_dir[0] ? tally_path_join(rel_dir, name) : strdup(name);
		char *target = rel ? tally_path_join(s->req->project_dir, rel) : NULL;
		char *link = rel ? tally_path_join(s->req->run_dir, rel) : NULL;
		if (!rel || !target || !link) {
			rc = tally__error_oom();
		} else if (in_runs_dir(s, rel, target)) {
			; /* never copy or link the runs directory (or a run) into a run */
		} else if (path_set_has(&s->sources, rel)) {
			if (copy_source(s, rel, lines, manifest) < 0) /* one that vanished meanwhile is left out */
				rc = tally__error_errno(TALLY_ERROR, "cannot copy source file '%s' into the run", rel);
		} else if (path_set_has_under(&s->sources, rel) || (s->runs_rel && under_or_equal(s->runs_rel, rel))) {
			if (mkdir(link, 0777) < 0 && errno != EEXIST)
				rc = tally__error_errno(TALLY_ERROR, "cannot create '%s' in the run", rel);
			else
				rc = materialize(s, rel, lines, manifest);
		} else if (symlink(target, link) < 0 && errno != EEXIST) {
			rc = tally__error_errno(TALLY_ERROR, "cannot link '%s' into the run", rel);
		}
		free(rel);
		free(target);
		free(link);
	}
	closedir(d);
	free(abs_dir);
	return rc;
}

/* ---- sources from an earlier run (tally reproduce --run) ---- */

/* A relative path of plain names: no "", ".", ".." or absolute parts. */
bool tally__plain_path(const char *rel)
{
	if (!*rel || rel[0] == '/')
		return false;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if (!n || (n == 1 && *p == '.') || (n == 2 && !strncmp(p, "..", 2)))
			return false;
		p += n + (p[n] == '/');
	}
	return rel[strlen(rel) - 1] != '/';
}

/* The paths the earlier run's sources.json lists, as they are: safe relative paths only. */
static int collect_snapshot(snapshot *s)
{
	char *path = tally_path_join(s->req->sources_from, TALLY_META_DIR "/sources.json");
	json_t *list = path ? json_load_file(path, 0, NULL) : NULL;
	free(path);
	size_t i;
	json_t *entry;
	int rc = 0;
	json_array_foreach(list, i, entry) {
		const char *rel = json_string_value(json_object_get(entry, "path"));
		if (!rel || !tally__plain_path(rel) || !strncmp(rel, TALLY_META_DIR, strlen(TALLY_META_DIR)))
			continue; /* not a path inside a run: sources.json was edited */
		if ((rc = tally_strlist_push(&s->sources.paths, rel)) < 0)
			break;
	}
	json_decref(list);
	return rc < 0 ? -1 : 0;
}

/* Sources of the earlier run that the project no longer has (so materialize() met none). */
static int copy_missing_sources(snapshot *s, tally_buf *lines, json_t *manifest)
{
	for (size_t i = 0; i < s->sources.paths.n; i++) {
		const char *rel = s->sources.paths.items[i];
		char *to = tally_path_join(s->req->run_dir, rel);
		struct stat st;
		bool missing = to && lstat(to, &st) < 0 && errno == ENOENT;
		int rc = to && (!missing || tally_mkdir_p_parent(to) == 0) ? 0 : -1;
		free(to);
		if (!rc && missing && copy_source(s, rel, lines, manifest) < 0)
			rc = -1;
		if (rc)
			return tally__error_errno(TALLY_ERROR, "cannot copy source file '%s' of the earlier run", rel);
	}
	return 0;
}

static char *relative_inside(const char *path, const char *dir)
{
	char *p = realpath(path, NULL), *d = realpath(dir, NULL), *out = NULL;
	if (p && d && strcmp(p, d) && under_or_equal(p, d))
		out = strdup(p + strlen(d) + (strcmp(d, "/") != 0));
	free(p);
	free(d);
	return out;
}

static int write_manifest(const char *run_dir, json_t *manifest)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/sources.json", run_dir);
	char *text = json_dumps(manifest, JSON_INDENT(1));
	int rc = 0;
	if (!text || tally_buf_oom(&path))
		rc = tally__error_oom();
	else if (tally_write_file_atomic(path.ptr, text, strlen(text), 0) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", path.ptr);
	free(text);
	tally_buf_release(&path);
	return rc;
}

int tally__snapshot(const tally_snapshot_request *req, json_t *meta)
{
	snapshot s = {req, {TALLY_STRLIST_INIT, false}, NULL, NULL, false};
	tally_buf lines = TALLY_BUF_INIT;
	json_t *manifest = json_array();
	int rc = 0;

	bool use_git = !req->sources_from && (git_init_pending || inside_git_work_tree(req->project_dir));
	if (use_git && !tally__gitlib()) {
		/* No libgit2 at run time: snapshot as outside git, and say why. */
		json_t *git = json_object();
		json_object_set_new(git, "error", tally__json_text(tally_error_last()));
		json_object_set_new(meta, "git", git);
		use_git = false;
	}
	if (use_git)
		git_init_end();
	s.runs_rel = relative_inside(req->runs_dir, req->project_dir);
	s.runs_real = realpath(req->runs_dir, NULL);
	char *project_real = realpath(req->project_dir, NULL);
	s.runs_is_project = s.runs_real && project_real && !strcmp(s.runs_real, project_real);
	free(project_real);
	int git = req->sources_from ? collect_snapshot(&s) : use_git ? collect_git(&s, meta) : 1;
	if (git == 1)
		git = collect_plain(&s, "");
	if (git < 0 || !manifest) {
		rc = tally__error_oom();
		goto done;
	}
	tally_strlist_sort(&s.sources.paths);
	if ((rc = materialize(&s, "", &lines, manifest)))
		goto done;
	if (req->sources_from && (rc = copy_missing_sources(&s, &lines, manifest)))
		goto done;
	if ((rc = write_manifest(req->run_dir, manifest)))
		goto done;
	char hex[65];
	if (tally_sha256_hex(lines.ptr, lines.len, hex) < 0) {
		rc = tally__error(TALLY_ERROR, "cannot compute the source digest");
		goto done;
	}
	json_object_set_new(meta, "source_digest", json_string(hex));
	json_object_set_new(meta, "sources", json_integer((json_int_t)json_array_size(manifest)));
	if (s.sources.truncated)
		json_object_set_new(meta, "sources_truncated", json_true());
done:
	tally_strlist_release(&s.sources.paths);
	free(s.runs_rel);
	free(s.runs_real);
	json_decref(manifest);
	tally_buf_release(&lines);
	if (use_git)
		GIT->libgit2_shutdown();
	return rc;
}
