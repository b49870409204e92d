/*
 * Named runs (run-manager): `tally run --name NAME` gives a run a unique,
 * human name, usable wherever a RUN is.  The name lives in run.json (the
 * truth) and in the index (to find it).  Uniqueness is checked and the new
 * run created under one lock, `RUNS/.names.lock`, so two runs started at
 * once cannot both take a name; `--replace` first archives the run holding
 * it.  (On a network filesystem each machine has its own index and the lock
 * is local: two machines can still race for one name.)
 */
#include "lib/index/index.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/fsutil.h"

#define NAME_MAX_BYTES 100

int tally__check_run_name(const char *name)
{
	static const char allowed[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.@+";
	size_t len = strlen(name);
	if (!len || len > NAME_MAX_BYTES)
		return tally__error(TALLY_EINVALID, "a run name has 1 to %d characters", NAME_MAX_BYTES);
	size_t bad = strspn(name, allowed);
	if (bad < len) {
		unsigned char c = (unsigned char)name[bad];
		if (c < 0x20 || c == 0x7f)
			return tally__error(TALLY_EINVALID, "a run name cannot hold control characters (byte 0x%02x)", c);
		return tally__error(TALLY_EINVALID, "run name '%s' cannot hold '%c' — use letters, digits, - _ . @ +", name,
		                    c < 0x80 ? (char)c : '?');
	}
	if (name[0] == '.' || name[0] == '-')
		return tally__error(TALLY_EINVALID, "run name '%s' cannot start with '%c'", name, name[0]);
	if (strspn(name, "0123456789") == len)
		return tally__error(TALLY_EINVALID, "run name '%s' is a number, which means a run index — add a letter", name);
	if (tally_run_id_short(name) != name) /* the shape of a run id */
		return tally__error(TALLY_EINVALID, "run name '%s' looks like a run id — choose another", name);
	return 0;
}

/* The index's run directory name holding `name`, or NULL (index synced by the caller). */
static int find_named(tally_store *store, const char *name, char **dir_name)
{
	*dir_name = NULL;
	if (!store->db)
		return 0;
	sqlite3_stmt *st = NULL;
	if (sqlite3_prepare_v2(store->db, "SELECT dir FROM runs WHERE name = ?1 LIMIT 1", -1, &st, NULL) != SQLITE_OK)
		return tally__error(TALLY_ERROR, "index query failed: %s", sqlite3_errmsg(store->db));
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = 0;
	if (sqlite3_step(st) == SQLITE_ROW && !(*dir_name = strdup((const char *)sqlite3_column_text(st, 0))))
		rc = tally__error_oom();
	sqlite3_finalize(st);
	return rc;
}

int tally__index_find_name(tally_store *store, const char *name, char **dir_name)
{
	return find_named(store, name, dir_name);
}

int tally__name_lock(tally_store *store, const char *name, int *lock_fd, char **holder)
{
	*lock_fd = -1;
	*holder = NULL;
	int created = tally__store_create(store);
	if (created)
		return created;
	char *lock_path = tally_path_join(store->path, ".names.lock");
	int fd = lock_path ? open(lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0666) : -1;
	free(lock_path);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		if (fd >= 0)
			close(fd);
		return tally__error_errno(TALLY_ERROR, "cannot lock the run names of '%s'", store->path);
	}
	int rc = tally_store_sync(store, 0, NULL);
	if (!rc)
		rc = find_named(store, name, holder);
	if (rc) {
		close(fd);
		return rc;
	}
	*lock_fd = fd;
	return 0;
}
