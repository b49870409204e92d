/* Small filesystem helpers shared by the library and the CLI. */
#ifndef TALLY_FSUTIL_H
#define TALLY_FSUTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/buf.h"

/*
 * Write `len` bytes to `path` atomically: a temporary file in the same
 * directory renamed over `path`, so readers see the old content or the new
 * one, never a mix, whatever process dies when.  With TALLY_DURABLE the file
 * and then its directory are fsync'ed too, so the new content also survives
 * a power loss or kernel crash (that costs milliseconds: use it for the
 * records that must be truthful, like a run's final status).
 * Returns 0 or -1 with errno set.
 */
enum { TALLY_DURABLE = 1 };
int tally_write_file_atomic(const char *path, const void *data, size_t len, int flags);

/* Read a whole file into `out` (appending).  Returns 0 or -1 with errno set.
 * Files larger than `max` bytes (0 = no limit) fail with EFBIG. */
int tally_read_file(tally_buf *out, const char *path, size_t max);
/* The same for a regular file only: a FIFO, device or symbolic link (the last
 * component) is refused with EINVAL, without blocking. */
int tally_read_regular_file(tally_buf *out, const char *path, size_t max);

/* fsync a directory, so the entries created in it survive a power loss (best effort). */
void tally_fsync_dir(const char *path);

/* mkdir -p with mode 0777 (umask applies).  Returns 0 or -1 with errno set. */
int tally_mkdir_p(const char *path);
/* mkdir -p of the directory holding `path`. */
int tally_mkdir_p_parent(const char *path);

/* Copy a regular file, preserving its permission bits.  Returns 0 or -1. */
int tally_copy_file(const char *from, const char *to);

/* Remove a directory tree (does not follow symbolic links).  Returns 0 or -1. */
int tally_remove_tree(const char *path);

/* write() all of it, retrying on EINTR and short writes.  0 or -1. */
int tally_write_all(int fd, const void *data, size_t len);

/* "a" + "/" + "b" into a new string (NULL on OOM). */
char *tally_path_join(const char *a, const char *b);

/* The absolute, normalized form of `path` (need not exist); NULL on failure. */
char *tally_path_absolute(const char *path);

/* Where execvp(3) would find `cmd` (a name without '/') on $PATH, searched
 * from the current directory (an empty entry is that directory): malloc'ed,
 * NULL when nowhere.  `*through_relative`: a relative or empty entry came at or
 * before the match, so another directory could find another program. */
char *tally_search_path(const char *cmd, bool *through_relative);
/* Whether `cmd` can be executed: a path, or a regular file found on $PATH. */
bool tally_command_exists(const char *cmd);

#endif
