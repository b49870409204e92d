#include "util/fsutil.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int tally_write_all(int fd, const void *data, size_t len)
{
	const char *p = data;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int fsync_parent_dir(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	char *slash = strrchr(copy, '/');
	const char *dir = ".";
	if (slash == copy)
		dir = "/";
	else if (slash) {
		*slash = '\0';
		dir = copy;
	}
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* best effort: some filesystems refuse fsync on directories */
		close(fd);
	}
	free(copy);
	return 0;
}

void tally_fsync_dir(const char *path)
{
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd); /* some filesystems refuse fsync on directories: nothing to do then */
		close(fd);
	}
}

int tally_write_file_atomic(const char *path, const void *data, size_t len, int flags)
{
	tally_buf tmp = TALLY_BUF_INIT;
	int fd = -1, rc = -1, saved;

	tally_buf_printf(&tmp, "%s.tmp.%ld", path, (long)getpid());
	if (tally_buf_oom(&tmp)) {
		errno = ENOMEM;
		goto done;
	}
	/* A fresh file, never one found there (a leftover of a crash with our pid,
	 * or a link planted to redirect the write): that is removed first. */
	fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0 && errno == EEXIST && unlink(tmp.ptr) == 0)
		fd = open(tmp.ptr, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
	if (fd < 0)
		goto done;
	if (tally_write_all(fd, data, len) < 0 || ((flags & TALLY_DURABLE) && fsync(fd) < 0))
		goto done;
	if (close(fd) < 0) {
		fd = -1;
		goto done;
	}
	fd = -1;
	if (rename(tmp.ptr, path) < 0)
		goto done;
	if (flags & TALLY_DURABLE)
		fsync_parent_dir(path);
	rc = 0;
done:
	saved = errno;
	if (fd >= 0)
		close(fd);
	if (rc < 0 && tmp.len)
		unlink(tmp.ptr);
	tally_buf_release(&tmp);
	errno = saved;
	return rc;
}

static int read_fd(tally_buf *out, int fd, size_t max);

int tally_read_file(tally_buf *out, const char *path, size_t max)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	return read_fd(out, fd, max);
}

int tally_read_regular_file(tally_buf *out, const char *path, size_t max)
{
	/* O_NONBLOCK: opening a FIFO must not wait for a writer */
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
	struct stat st;
	if (fd < 0)
		return -1;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		errno = EINVAL;
		return -1;
	}
	int flags = fcntl(fd, F_GETFL);
	if (flags >= 0)
		fcntl(fd, F_SETFL, flags & ~O_NONBLOCK);
	return read_fd(out, fd, max);
}

static int read_fd(tally_buf *out, int fd, size_t max)
{
	size_t start = out->len;
	for (;;) {
		if (!tally_buf_grow(out, 65536)) {
			close(fd);
			errno = ENOMEM;
			return -1;
		}
		ssize_t n = read(fd, out->ptr + out->len, out->cap - out->len - 1);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			int saved = errno;
			close(fd);
			errno = saved;
			return -1;
		}
		if (n == 0)
			break;
		out->len += (size_t)n;
		out->ptr[out->len] = '\0';
		if (max && out->len - start > max) {
			close(fd);
			errno = EFBIG;
			return -1;
		}
	}
	close(fd);
	return 0;
}

int tally_mkdir_p(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -1;
	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, 0777) < 0 && errno != EEXIST) {
			free(copy);
			return -1;
		}
		*p = '/';
	}
	int rc = mkdir(copy, 0777);
	free(copy);
	if (rc < 0 && errno == EEXIST) {
		struct stat st;
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
			return 0;
		errno = ENOTDIR;
	}
	return rc;
}

int tally_mkdir_p_parent(const char *path)
{
	char *dir = strdup(path);
	if (!dir)
		return -1;
	char *slash = strrchr(dir, '/');
	int rc = 0;
	if (slash && slash != dir) {
		*slash = '\0';
		rc = tally_mkdir_p(dir);
	}
	free(dir);
	return rc;
}

int tally_copy_file(const char *from, const char *to)
{
	int in = -1, out = -1, rc = -1, saved;
	struct stat st;
	char chunk[65536];

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0 || fstat(in, &st) < 0)
		goto done;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, st.st_mode & 0777);
	if (out < 0)
		goto done;
	for (;;) {
		ssize_t n = read(in, chunk, sizeof chunk);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			goto done;
		if (n == 0)
			break;
		if (tally_write_all(out, chunk, (size_t)n) < 0)
			goto done;
	}
	rc = 0;
done:
	saved = errno;
	if (in >= 0)
		close(in);
	if (out >= 0 && close(out) < 0 && rc == 0) {
		saved = errno;
		rc = -1;
	}
	errno = saved;
	return rc;
}

static int remove_tree_at(int dirfd, const char *name)
{
	struct stat st;
	if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -1;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(dirfd, name, 0);
	int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -1;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -1;
	}
	int rc = 0;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		if (remove_tree_at(fd, e->d_name) < 0)
			rc = -1;
	}
	closedir(d);
	if (unlinkat(dirfd, name, AT_REMOVEDIR) < 0)
		rc = -1;
	return rc;
}

int tally_remove_tree(const char *path)
{
	return remove_tree_at(AT_FDCWD, path);
}

char *tally_path_join(const char *a, const char *b)
{
	tally_buf out = TALLY_BUF_INIT;
	tally_buf_adds(&out, a);
	if (out.len && out.ptr[out.len - 1] != '/')
		tally_buf_addc(&out, '/');
	tally_buf_adds(&out, b);
	return tally_buf_detach(&out);
}

char *tally_path_absolute(const char *path)
{
	tally_buf raw = TALLY_BUF_INIT, out = TALLY_BUF_INIT;
	if (path[0] != '/') {
		char cwd[PATH_MAX];
		if (!getcwd(cwd, sizeof cwd))
			return NULL;
		tally_buf_adds(&raw, cwd);
		tally_buf_addc(&raw, '/');
	}
	tally_buf_adds(&raw, path);
	if (tally_buf_oom(&raw))
		return NULL;
	/* Normalize "." and ".." components lexically. */
	char *save = NULL;
	for (char *part = strtok_r(raw.ptr, "/", &save); part; part = strtok_r(NULL, "/", &save)) {
		if (!strcmp(part, "."))
			continue;
		if (!strcmp(part, "..")) {
			char *slash = strrchr(out.ptr, '/');
			tally_buf_truncate(&out, slash ? (size_t)(slash - out.ptr) : 0);
			continue;
		}
		tally_buf_addc(&out, '/');
		tally_buf_adds(&out, part);
	}
	if (!out.len)
		tally_buf_addc(&out, '/');
	tally_buf_release(&raw);
	return tally_buf_detach(&out);
}

char *tally_search_path(const char *cmd, bool *through_relative)
{
	*through_relative = false;
	const char *path = getenv("PATH");
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (const char *p = path;;) {
		size_t len = strcspn(p, ":");
		if (!len || p[0] != '/')
			*through_relative = true; /* "" is the current directory, as execvp takes it */
		char *dir = strndup(p, len);
		char *full = dir ? tally_path_join(*dir ? dir : ".", cmd) : NULL;
		free(dir);
		struct stat st;
		if (full && access(full, X_OK) == 0 && stat(full, &st) == 0 && S_ISREG(st.st_mode))
			return full;
		free(full);
		if (!p[len])
			return NULL;
		p += len + 1;
	}
}

bool tally_command_exists(const char *cmd)
{
	if (strchr(cmd, '/'))
		return access(cmd, X_OK) == 0;
	bool relative;
	char *found = tally_search_path(cmd, &relative);
	bool exists = found != NULL; /* not found's value once freed */
	free(found);
	return exists;
}
