/*
 * The run store: a runs directory holding one directory per run, plus the
 * index (index.c) that caches what the run directories say.
 *
 * Run ids look like 2026-11-22T23-41-05Z-k3f9q2: the UTC start second, so
 * that ids sort by start time, then six random base-32 characters, so that
 * hundreds of runs started in the same second on several machines still get
 * distinct ids.  Uniqueness is enforced by mkdir(2), which fails when the
 * directory exists — never by checking first.
 */
#include "lib/flags/flags.h"
#include "lib/store/store.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"

static const char id_alphabet[] = "0123456789abcdefghjkmnpqrstvwxyz";

/* Network filesystems on which SQLite's locking cannot be trusted. */
static bool is_network_fs(const char *path)
{
	struct statfs sfs;
	if (statfs(path, &sfs) < 0)
		return false;
	switch ((unsigned long)sfs.f_type) {
	case 0x6969UL:      /* NFS */
	case 0x517BUL:      /* SMB */
	case 0xFF534D42UL:  /* CIFS */
	case 0xFE534D42UL:  /* SMB2 */
	case 0x0BD00BD0UL:  /* Lustre */
	case 0x47504653UL:  /* GPFS */
	case 0x00C36400UL:  /* Ceph */
	case 0x5346414FUL:  /* AFS */
	case 0x01021997UL:  /* 9p */
	case 0x65735546UL:  /* FUSE (sshfs and friends) */
		return true;
	default:
		return false;
	}
}

/* On a local filesystem the index sits in the runs directory; on a shared
 * one each machine keeps its own in its cache directory, so correctness never
 * depends on locking a database over the network. */
static char *choose_index_path(const char *runs_dir, bool network_fs)
{
	tally_buf path = TALLY_BUF_INIT;
	const char *explicit_dir = getenv("TALLY_INDEX_DIR");
	if (!explicit_dir && !network_fs) {
		tally_buf_printf(&path, "%s/.index/index.db", runs_dir);
		return tally_buf_detach(&path);
	}
	uint64_t hash = 1469598103934665603ULL; /* FNV-1a of the runs directory */
	for (const char *p = runs_dir; *p; p++)
		hash = (hash ^ (unsigned char)*p) * 1099511628211ULL;
	if (explicit_dir)
		tally_buf_adds(&path, explicit_dir);
	else if (getenv("XDG_CACHE_HOME") && *getenv("XDG_CACHE_HOME"))
		tally_buf_printf(&path, "%s/tally", getenv("XDG_CACHE_HOME"));
	else
		tally_buf_printf(&path, "%s/.cache/tally", getenv("HOME") ? getenv("HOME") : "/tmp");
	tally_buf_printf(&path, "/index-%016llx.db", (unsigned long long)hash);
	return tally_buf_detach(&path);
}

static char *resolve_runs_dir(const char *runs_dir)
{
	if (runs_dir && *runs_dir)
		return tally_path_absolute(runs_dir);
	const char *env = getenv("TALLY_RUNS_DIR");
	if (env && *env)
		return tally_path_absolute(env);
	tally_config cfg;
	if (tally__config_load(&cfg, ".") < 0)
		return NULL;
	char *out = tally_path_absolute(cfg.runs_dir ? cfg.runs_dir : "runs");
	tally__config_release(&cfg);
	if (!out)
		tally__error_oom();
	return out;
}

int tally_store_open(tally_store **out, const char *runs_dir)
{
	*out = NULL;
	tally_store *store = calloc(1, sizeof *store);
	if (!store)
		return tally__error_oom();
	store->warnings = (tally_buf)TALLY_BUF_INIT;
	store->path = resolve_runs_dir(runs_dir);
	if (!store->path) {
		tally_store_free(store);
		return *tally_error_last() ? TALLY_EINVALID : tally__error_oom();
	}
	if (gethostname(store->host, sizeof store->host - 1) < 0)
		snprintf(store->host, sizeof store->host, "localhost");
	store->network_fs = is_network_fs(store->path);
	store->index_path = choose_index_path(store->path, store->network_fs);
	tally_buf pending = TALLY_BUF_INIT;
	tally_buf_printf(&pending, "%s.pending", store->index_path ? store->index_path : "");
	store->pending_path = tally_buf_detach(&pending);
	if (!store->index_path || !store->pending_path) {
		tally_store_free(store);
		return tally__error_oom();
	}
	*out = store;
	return 0;
}

const char *tally_store_path(const tally_store *store)
{
	return store->path;
}

const char *tally_store_index_path(const tally_store *store)
{
	return store->index_path;
}

const char *tally_store_warnings(const tally_store *store)
{
	return store->warnings.ptr;
}

void tally_store_free(tally_store *store)
{
	if (!store)
		return;
	if (store->fsync_on_free)
		tally_fsync_dir(store->path);
	if (store->db)
		sqlite3_close(store->db);
	free(store->path);
	free(store->index_path);
	free(store->pending_path);
	tally_buf_release(&store->warnings);
	free(store);
}

static void random_suffix(char out[7])
{
	unsigned char bytes[6];
	if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes) {
		/* No entropy source: fall back to time and pid, still unique via mkdir. */
		struct timeval tv;
		gettimeofday(&tv, NULL);
		unsigned long x = (unsigned long)tv.tv_usec * 2654435761UL ^ (unsigned long)getpid() * 40503UL;
		for (size_t i = 0; i < sizeof bytes; i++, x >>= 5)
			bytes[i] = (unsigned char)x;
	}
	/* A letter first: a suffix (or its prefix) typed as a run reference can
	 * then never be taken for a bare number, which means an index. */
	const size_t digits = 10, letters = sizeof id_alphabet - 1 - digits;
	out[0] = id_alphabet[digits + bytes[0] % letters];
	for (int i = 1; i < 6; i++)
		out[i] = id_alphabet[bytes[i] & 31];
	out[6] = '\0';
}

int tally__store_create(tally_store *store)
{
	struct stat st;
	if (stat(store->path, &st) == 0)
		return 0;
	if (tally_mkdir_p(store->path) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot create runs directory '%s' — choose another with --runs-dir",
		                          store->path);
	/* As Python's venv and pytest's cache do: git leaves the runs alone, so
	 * `git status` stays clean and a later run's snapshot never takes them. */
	static const char ignore_all[] = "# Created by tally: runs are outputs, not sources.\n*\n";
	char *path = tally_path_join(store->path, ".gitignore");
	if (path)
		tally_write_file_atomic(path, ignore_all, sizeof ignore_all - 1, 0);
	free(path);
	return 0;
}

int tally__store_new_run_dir(tally_store *store, char id[TALLY_ID_MAX], char **dir_out)
{
	*dir_out = NULL;
	int rc = tally__store_create(store);
	if (rc)
		return rc;
	tally__dir_sig(AT_FDCWD, store->path, store->sig_before);
	for (int attempt = 0; attempt < 100; attempt++) {
		char stamp[32], suffix[7];
		time_t now = time(NULL);
		struct tm tm;
		gmtime_r(&now, &tm);
		strftime(stamp, sizeof stamp, "%Y-%m-%dT%H-%M-%SZ", &tm);
		random_suffix(suffix);
		snprintf(id, TALLY_ID_MAX, "%s-%s", stamp, suffix);
		char *dir = tally_path_join(store->path, id);
		if (!dir)
			return tally__error_oom();
		if (mkdir(dir, 0777) == 0) {
			tally__dir_sig(AT_FDCWD, store->path, store->sig_after);
			*dir_out = dir;
			return 0;
		}
		int saved = errno;
		free(dir);
		if (saved != EEXIST) {
			errno = saved;
			return tally__error_errno(TALLY_ERROR, "cannot create run directory in '%s'", store->path);
		}
	}
	return tally__error(TALLY_ERROR, "cannot find a free run id in '%s'", store->path);
}

void tally__format_dir_sig(const struct stat *st, char out[64])
{
	/* nlink and size change with entries added or removed even within one mtime tick */
	snprintf(out, 64, "%lld:%llu:%llu:%lld", (long long)st->st_mtim.tv_sec * 1000000000LL + st->st_mtim.tv_nsec,
	         (unsigned long long)st->st_ino, (unsigned long long)st->st_nlink, (long long)st->st_size);
}

void tally__dir_sig(int dirfd, const char *path, char out[64])
{
	struct stat st;
	out[0] = '\0';
	if (fstatat(dirfd, path, &st, 0) == 0)
		tally__format_dir_sig(&st, out);
}

void tally__store_touch(tally_store *store)
{
	/* Other machines notice changes through the runs directory's mtime; on a
	 * local filesystem every writer updates the one shared index itself. */
	if (store->network_fs)
		utimensat(AT_FDCWD, store->path, NULL, 0);
}

bool tally__is_run_dir_name(const char *name)
{
	return name[0] != '.' && strlen(name) < TALLY_ID_MAX;
}

const char *tally_run_id_short(const char *id)
{
	/* "YYYY-MM-DDTHH-MM-SSZ-": the separators tell, cheaply (a table asks for every row) */
	static const struct {
		unsigned char at;
		char c;
	} marks[] = {{4, '-'}, {7, '-'}, {10, 'T'}, {13, '-'}, {16, '-'}, {19, 'Z'}, {20, '-'}};
	size_t len = strnlen(id, 22);
	if (len < 22 || !isdigit((unsigned char)id[0]))
		return id;
	for (size_t i = 0; i < sizeof marks / sizeof *marks; i++)
		if (id[marks[i].at] != marks[i].c)
			return id;
	return id + 21;
}
