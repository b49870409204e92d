/*
 * Moving runs between machines and directories through libarchive:
 * tally export (runs → .tar.gz/.tar/.zip or a directory), tally import
 * (back, with their ids), and tally copy (tfruns' copy_run / copy_run_files).
 *
 * Every copy is libarchive's disk reader feeding a writer (an archive file or
 * the disk), one entry at a time, so memory stays flat whatever the run
 * holds.  Links to project entries (absolute, or leading out of the run) are
 * references to the user's project, not part of the run: they are left out.
 *
 * Import trusts nothing in what it reads: absolute paths, `..`, links or
 * hard links leading out of their run, devices, FIFOs, and more bytes or
 * entries than the limits are refused.  Everything is first extracted into a
 * hidden staging directory in the runs directory; only when the whole input
 * passed are the runs renamed into place (so a refused import leaves nothing).
 */
#include "lib/manage/manage.h"
#include "lib/manage/archivelib.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <time.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/strlist.h"

#define BLOCK (64 * 1024)

/* libarchive, loaded by the entry points below before anything else runs. */
static const tally_archivelib *ar;

static int load_archivelib(void)
{
	ar = tally__archivelib();
	return ar ? 0 : TALLY_ERROR;
}

/* libarchive's message about `a`, on one line (it can hold newlines and bytes from the input). */
static const char *archive_message(struct archive *a)
{
	static _Thread_local char line[256];
	const char *m = ar->error_string(a);
	size_t n = 0;
	for (const unsigned char *p = (const unsigned char *)(m ? m : "unknown error"); *p && n < sizeof line - 1; p++)
		line[n++] = *p < 0x20 || *p == 0x7f ? ' ' : (char)*p;
	line[n] = '\0';
	return line;
}

/* ---- paths ---- */

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);
	return n >= k && !strcmp(s + n - k, suffix);
}

/* Whether `rel` (a path inside a run) is free of "..", empty and absolute parts. */
static bool plain_relative(const char *rel)
{
	if (!*rel || rel[0] == '/')
		return false;
	for (const char *p = rel; *p;) {
		size_t n = strcspn(p, "/");
		if ((n == 2 && !strncmp(p, "..", 2)))
			return false;
		p += n + (p[n] == '/');
	}
	return true;
}

/*
 * Whether a symbolic link may be part of a run: a relative target without
 * any ".." — so it points at or below its own folder, and so does every
 * link it may lead through: no chain of such links can get out of the run.
 */
static bool link_stays_inside(const char *target)
{
	return target && *target && plain_relative(target);
}

/* ---- copying entries ---- */

typedef struct {
	uint64_t bytes, max_bytes;
	uint64_t entries, max_entries;
	bool check_ratio;   /* reading a compressed archive: watch how much each byte becomes */
	bool to_file;       /* writing an archive file: data goes in order (disk reads are not sparse) */
} budget;

/* More than this many bytes out of each byte in (past BOMB_FLOOR) is a bomb, not data. */
#define BOMB_RATIO 1000
#define BOMB_FLOOR (256ULL << 20)

/* Copy the data of the current entry of `in` to `out`, within the budget. */
static int copy_data(struct archive *in, struct archive *out, budget *b, const char *what)
{
	const void *buf;
	size_t size;
	la_int64_t offset;
	int r;
	while ((r = ar->read_data_block(in, &buf, &size, &offset)) == ARCHIVE_OK) {
		b->bytes += size;
		if (b->max_bytes && b->bytes > b->max_bytes)
			return tally__error(TALLY_EINVALID, "refusing to import '%s': it unpacks to more than %llu bytes (an "
			                                    "archive bomb, or more than the disk holds; --max-size raises the "
			                                    "limit) — nothing was imported",
			                    what, (unsigned long long)b->max_bytes);
		uint64_t read = b->check_ratio ? (uint64_t)ar->filter_bytes(in, -1) : 0;
		if (b->check_ratio && b->bytes > BOMB_FLOOR && read && b->bytes / read > BOMB_RATIO)
			return tally__error(TALLY_EINVALID, "refusing to import '%s': every byte of it unpacks to more than %d "
			                                    "(an archive bomb) — nothing was imported",
			                    what, BOMB_RATIO);
		if (b->to_file ? ar->write_data(out, buf, size) < (la_ssize_t)size
		               : ar->write_data_block(out, buf, size, offset) < ARCHIVE_OK)
			return tally__error(TALLY_ERROR, "cannot write %s: %s", what, archive_message(out));
	}
	if (r != ARCHIVE_EOF)
		return tally__error(TALLY_EINVALID, "cannot read %s: %s", what, archive_message(in));
	return 0;
}

/* A disk reader that never follows links and reads no extended attributes. */
static struct archive *disk_reader(void)
{
	struct archive *disk = ar->read_disk_new();
	if (disk) {
		ar->read_disk_set_symlink_physical(disk);
		ar->read_disk_set_behavior(disk, ARCHIVE_READDISK_NO_XATTR | ARCHIVE_READDISK_NO_ACL |
		                                     ARCHIVE_READDISK_NO_FFLAGS | ARCHIVE_READDISK_NO_SPARSE);
		ar->read_disk_set_standard_lookup(disk);
	}
	return disk;
}

/* Which entries of a run a copy takes. */
typedef struct {
	bool files_only;   /* only what the script produced */
	json_t *sources;   /* files_only: the source snapshot's paths (object used as a set) */
} run_filter;

typedef enum { ENTRY_SKIP, ENTRY_WALK, ENTRY_TAKE } entry_use;

/* Whether an entry is copied (TAKE), only walked into (WALK: files_only's folders, made as their
 * files need them, so folders that held only sources do not appear), or left out with all below it. */
static entry_use wanted(const run_filter *f, const char *rel, struct archive_entry *e)
{
	mode_t type = ar->entry_filetype(e);
	if (type == AE_IFLNK && !link_stays_inside(ar->entry_symlink(e)))
		return ENTRY_SKIP; /* a link to a project entry: the project's, not the run's */
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return ENTRY_SKIP; /* FIFOs, sockets, devices: nothing to carry, and import refuses them */
	if (!f->files_only)
		return ENTRY_TAKE;
	const char *inside = strchr(rel, '/');
	if (!inside)
		return ENTRY_TAKE; /* the run's own directory */
	inside++;
	if (!strcmp(inside, TALLY_META_DIR))
		return ENTRY_SKIP;
	if (ar->entry_filetype(e) == AE_IFDIR)
		return ENTRY_WALK;
	return json_object_get(f->sources, inside) ? ENTRY_SKIP : ENTRY_TAKE;
}

static json_t *load_sources_set(const char *run_dir)
{
	char *path = tally_path_join(run_dir, TALLY_META_DIR "/sources.json");
	json_t *list = path ? json_load_file(path, 0, NULL) : NULL, *set = json_object();
	free(path);
	size_t i;
	json_t *entry;
	json_array_foreach(list, i, entry) {
		const char *p = json_string_value(json_object_get(entry, "path"));
		if (p)
			json_object_set_new(set, p, json_true());
	}
	json_decref(list);
	return set;
}

/*
 * Write the run directory `dir` into `out` with entry names `as`/… (its own
 * directory as `as`).  `out` is an archive file or a disk writer.
 */
static int write_run(struct archive *out, const char *dir, const char *as, const run_filter *f, const char *out_root)
{
	struct archive *disk = disk_reader();
	struct archive_entry *e = ar->entry_new();
	tally_buf name = TALLY_BUF_INIT;
	budget b = {0, 0, 0, 0, false, out_root == NULL};
	int rc = 0;
	if (!disk || !e) {
		rc = tally__error_oom();
		goto done;
	}
	if (ar->read_disk_open(disk, dir) != ARCHIVE_OK) {
		rc = tally__error(TALLY_ERROR, "cannot read '%s': %s", dir, archive_message(disk));
		goto done;
	}
	size_t dir_len = strlen(dir);
	for (;;) {
		int r = ar->read_next_header2(disk, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = tally__error(TALLY_ERROR, "cannot read '%s': %s", dir, archive_message(disk));
			break;
		}
		const char *path = ar->entry_pathname(e);
		tally_buf_clear(&name);
		tally_buf_printf(&name, "%s%s", as, path + (strncmp(path, dir, dir_len) ? strlen(path) : dir_len));
		if (tally_buf_oom(&name)) {
			rc = tally__error_oom();
			break;
		}
		entry_use use = wanted(f, name.ptr, e);
		if (use != ENTRY_SKIP)
			ar->read_disk_descend(disk);
		if (use != ENTRY_TAKE)
			continue;
		if (out_root) { /* to disk: under the destination directory */
			tally_buf full = TALLY_BUF_INIT;
			tally_buf_printf(&full, "%s/%s", out_root, name.ptr);
			ar->entry_set_pathname(e, full.ptr);
			tally_buf_release(&full);
		} else {
			ar->entry_set_pathname(e, name.ptr);
		}
		ar->entry_set_hardlink(e, NULL); /* each file whole: an importer must never resolve links */
		if (ar->write_header(out, e) < ARCHIVE_WARN) {
			rc = tally__error(TALLY_ERROR, "cannot write '%s': %s", name.ptr, archive_message(out));
			break;
		}
		if (ar->entry_filetype(e) == AE_IFREG && ar->entry_size(e) > 0 &&
		    (rc = copy_data(disk, out, &b, name.ptr)))
			break;
		if (ar->write_finish_entry(out) < ARCHIVE_WARN) {
			rc = tally__error(TALLY_ERROR, "cannot write '%s': %s", name.ptr, archive_message(out));
			break;
		}
	}
done:
	ar->read_free(disk);
	ar->entry_free(e);
	tally_buf_release(&name);
	return rc;
}

/* ---- export ---- */

typedef enum { DEST_DIR, DEST_TAR, DEST_TGZ, DEST_ZIP } dest_kind;

static dest_kind kind_of(const char *dest)
{
	if (ends_with(dest, ".tar.gz") || ends_with(dest, ".tgz"))
		return DEST_TGZ;
	if (ends_with(dest, ".tar"))
		return DEST_TAR;
	if (ends_with(dest, ".zip"))
		return DEST_ZIP;
	return DEST_DIR;
}

static int check_exportable(tally_run *const *runs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (runs[i] && tally_run_is_live(runs[i]))
			return tally__error(TALLY_ELOCKED, "run %s is still running — export it when it has ended", runs[i]->id);
	return 0;
}

static struct archive *disk_writer(void)
{
	struct archive *w = ar->write_disk_new();
	if (w)
		/* Paths are absolute (under the destination or the staging directory): check_entry()
		 * refuses absolute ones in the input before they are re-rooted. */
		ar->write_disk_set_options(w, ARCHIVE_EXTRACT_TIME | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_SECURE_SYMLINKS |
		                                  ARCHIVE_EXTRACT_SECURE_NODOTDOT | ARCHIVE_EXTRACT_NO_OVERWRITE);
	return w;
}

/* Whether `path` is `dir` or below it (both real paths). */
static bool under(const char *path, const char *dir)
{
	size_t n = strlen(dir);
	return !strncmp(path, dir, n) && (path[n] == '/' || path[n] == '\0');
}

/* The real path of the existing folder `dir`, refused when it lies inside a run being copied (it would copy itself). */
static int destination_folder(const char *dir, tally_run *const *runs, size_t n, char **real)
{
	*real = realpath(dir, NULL);
	if (!*real)
		return tally__error_errno(TALLY_ERROR, "cannot use '%s'", dir);
	for (size_t i = 0; i < n; i++) {
		char *run_real = runs[i] ? realpath(runs[i]->dir, NULL) : NULL;
		bool inside = run_real && under(*real, run_real);
		free(run_real);
		if (inside) {
			free(*real);
			*real = NULL;
			return tally__error(TALLY_EINVALID, "'%s' is inside run %s — a run cannot be copied into itself", dir,
			                    runs[i]->id);
		}
	}
	return 0;
}

/* Copy one run directory to `parent`/`as` (parent: a real path), through a hidden partial copy renamed at the end. */
static int copy_run_dir(const tally_run *run, const char *parent, const char *as, const run_filter *f, bool *existed)
{
	tally_buf final = TALLY_BUF_INIT, partial = TALLY_BUF_INIT;
	tally_buf_printf(&final, "%s/%s", parent, as);
	tally_buf_printf(&partial, "%s/.partial-XXXXXX", parent);
	struct stat st;
	int rc = 0;
	*existed = false;
	if (tally_buf_oom(&final) || tally_buf_oom(&partial)) {
		rc = tally__error_oom();
	} else if (lstat(final.ptr, &st) == 0) {
		*existed = true;
	} else if (!mkdtemp(partial.ptr)) { /* a name of our own: nothing of the user's is ever removed */
		rc = tally__error_errno(TALLY_ERROR, "cannot write into '%s'", parent);
	} else {
		struct archive *w = disk_writer();
		char *base = strrchr(partial.ptr, '/') + 1;
		rc = w ? write_run(w, run->dir, base, f, parent) : tally__error_oom();
		if (w && ar->write_close(w) < ARCHIVE_WARN && !rc)
			rc = tally__error(TALLY_ERROR, "cannot write into '%s': %s", parent, archive_message(w));
		ar->write_free(w);
		struct stat mode; /* mkdtemp made it 0700; the copy gets the run's own mode */
		if (!rc && stat(run->dir, &mode) == 0)
			chmod(partial.ptr, mode.st_mode & 0777);
		if (!rc && rename(partial.ptr, final.ptr) < 0)
			rc = tally__error_errno(TALLY_ERROR, "cannot create '%s'", final.ptr);
		if (rc)
			tally_remove_tree(partial.ptr);
		else
			tally_fsync_dir(parent);
	}
	tally_buf_release(&final);
	tally_buf_release(&partial);
	return rc;
}

static int export_to_dir(tally_run *const *runs, size_t n, const char *dest, size_t *done, tally_buf *skipped)
{
	run_filter f = {false, NULL};
	char *real = NULL;
	if (tally_mkdir_p(dest) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot create '%s'", dest);
	int rc = destination_folder(dest, runs, n, &real);
	for (size_t i = 0; i < n && !rc; i++) {
		if (!runs[i])
			continue;
		bool existed;
		if ((rc = copy_run_dir(runs[i], real, runs[i]->id, &f, &existed)))
			break;
		if (existed)
			tally_buf_printf(skipped, "%s: %s/%s exists already\n", runs[i]->id, dest, runs[i]->id);
		else
			++*done;
	}
	free(real);
	return rc;
}

/* The folder of the file `dest`, as a real path. */
static int file_folder(const char *dest, tally_run *const *runs, size_t n, char **real)
{
	char *copy = strdup(dest);
	if (!copy)
		return tally__error_oom();
	char *slash = strrchr(copy, '/');
	const char *dir = slash ? (slash == copy ? "/" : (*slash = '\0', copy)) : ".";
	int rc = destination_folder(dir, runs, n, real);
	free(copy);
	return rc;
}

/* Put the finished temporary file in place as `dest` — never over a file that appeared meanwhile. */
static int publish(const char *tmp, const char *dest)
{
	if (link(tmp, dest) == 0) {
		unlink(tmp);
		return 0;
	}
	if (errno == EEXIST)
		return tally__error(TALLY_EEXISTS, "'%s' exists already — remove it or choose another file", dest);
	struct stat st; /* no hard links here (some network or FAT filesystems): check, then rename */
	if (lstat(dest, &st) == 0)
		return tally__error(TALLY_EEXISTS, "'%s' exists already — remove it or choose another file", dest);
	return rename(tmp, dest) == 0 ? 0 : tally__error_errno(TALLY_ERROR, "cannot create '%s'", dest);
}

static int export_to_file(tally_run *const *runs, size_t n, const char *dest, dest_kind kind, size_t *done)
{
	struct stat st;
	if (lstat(dest, &st) == 0)
		return tally__error(TALLY_EEXISTS, "'%s' exists already — remove it or choose another file", dest);
	char *folder = NULL;
	int rc = file_folder(dest, runs, n, &folder);
	if (rc)
		return rc;
	tally_buf tmp = TALLY_BUF_INIT;
	tally_buf_printf(&tmp, "%s/.tally-export-XXXXXX", folder);
	free(folder);
	struct archive *w = ar->write_new();
	run_filter f = {false, NULL};
	int fd = -1;
	if (!w || tally_buf_oom(&tmp)) {
		rc = tally__error_oom();
		goto done;
	}
	/* A file of our own making: nothing found at some fixed name is written through. */
	if ((fd = mkstemp(tmp.ptr)) < 0) {
		rc = tally__error_errno(TALLY_ERROR, "cannot create a file beside '%s'", dest);
		goto done;
	}
	if (kind == DEST_ZIP)
		ar->write_set_format_zip(w);
	else
		ar->write_set_format_pax_restricted(w);
	if (kind == DEST_TGZ)
		ar->write_add_filter_gzip(w);
	if (ar->write_open_fd(w, fd) != ARCHIVE_OK) {
		rc = tally__error(TALLY_ERROR, "cannot write '%s': %s", dest, archive_message(w));
		goto done;
	}
	for (size_t i = 0; i < n && !rc; i++)
		if (runs[i] && !(rc = write_run(w, runs[i]->dir, runs[i]->id, &f, NULL)))
			++*done;
	if (ar->write_close(w) != ARCHIVE_OK && !rc)
		rc = tally__error(TALLY_ERROR, "cannot write '%s': %s", dest, archive_message(w));
	if (!rc && fsync(fd) < 0)
		rc = tally__error_errno(TALLY_ERROR, "cannot write '%s'", dest);
	if (!rc)
		rc = publish(tmp.ptr, dest);
done:
	if (fd >= 0) {
		close(fd);
		if (rc)
			unlink(tmp.ptr);
	}
	ar->write_free(w);
	tally_buf_release(&tmp);
	return rc;
}

int tally_export(tally_run *const *runs, size_t n, const char *dest, size_t *exported, char **skipped)
{
	*exported = 0;
	*skipped = NULL;
	int rc = load_archivelib();
	if (!rc)
		rc = check_exportable(runs, n);
	if (rc)
		return rc;
	dest_kind kind = kind_of(dest);
	tally_buf skip = TALLY_BUF_INIT;
	rc = kind == DEST_DIR ? export_to_dir(runs, n, dest, exported, &skip) : export_to_file(runs, n, dest, kind, exported);
	if (!rc && skip.len)
		*skipped = tally_buf_detach(&skip);
	tally_buf_release(&skip);
	return rc;
}

/* ---- copy ---- */

int tally_run_copy(const tally_run *run, const char *dir, const char *name, int files_only)
{
	if (tally_run_is_live(run))
		return tally__error(TALLY_ELOCKED, "run %s is still running — copy it when it has ended", run->id);
	if (load_archivelib())
		return TALLY_ERROR;
	const char *as = name && *name ? name : run->id;
	if (strchr(as, '/') || !strcmp(as, ".") || !strcmp(as, "..") || as[0] == '.')
		return tally__error(TALLY_EINVALID, "'%s' cannot name a directory inside '%s' — give a plain name", as, dir);
	if (tally_mkdir_p(dir) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot create '%s'", dir);
	char *real = NULL;
	tally_run *self = (tally_run *)run;
	int rc = destination_folder(dir, &self, 1, &real);
	if (rc)
		return rc;
	run_filter f = {files_only != 0, files_only ? load_sources_set(run->dir) : NULL};
	bool existed;
	rc = copy_run_dir(run, real, as, &f, &existed);
	json_decref(f.sources);
	if (!rc && existed)
		rc = tally__error(TALLY_EEXISTS, "'%s/%s' exists already — choose another --to or --rename", dir, as);
	free(real);
	return rc;
}

/* ---- import ---- */

typedef struct {
	tally_store *store;
	const tally_import_options *opts;
	char *staging;        /* a real path: no link on the way for the disk writer to balk at */
	const char *source;   /* the file or directory, for messages */
	budget b;
	bool from_disk;       /* reading a directory, not an archive file */
} importer;

static int refuse(const importer *im, const char *entry, const char *why)
{
	return tally__error(TALLY_EINVALID, "refusing to import '%s': entry '%s' %s — nothing was imported", im->source,
	                    entry, why);
}

/* A hard link must name an earlier file of the same run. */
static int check_hard_link(const importer *im, const char *rel, size_t top, const char *hard)
{
	while (!strncmp(hard, "./", 2))
		hard += 2;
	if (!plain_relative(hard) || strncmp(hard, rel, top + 1))
		return refuse(im, rel, "is a hard link leading out of its run");
	return 0;
}

/* Check one entry named `rel` (normalized: no leading "./"); 0 = import it, 1 = skip it. */
static int check_entry(importer *im, const char *rel, struct archive_entry *e)
{
	if (rel[0] == '/')
		return refuse(im, rel, "has an absolute path");
	if (!plain_relative(rel))
		return refuse(im, rel, "leads out with '..'");
	size_t top = strcspn(rel, "/");
	const char *hard = ar->entry_hardlink(e);
	mode_t type = ar->entry_filetype(e);
	if (rel[0] == '.' || top >= TALLY_ID_MAX)
		return 1; /* not a run: .index/, .archive/ of a copied runs directory */
	if (!rel[top] && (type != AE_IFDIR || hard))
		return 1; /* a file beside the runs (README): not ours to import */
	if (++im->b.entries > im->opts->max_entries)
		return refuse(im, rel, "is one entry too many (raise the limit with --max-files)");
	if (hard) /* (libarchive gives a hard link no file type of its own) */
		return check_hard_link(im, rel, top, hard);
	if (type == AE_IFLNK && !link_stays_inside(ar->entry_symlink(e)))
		return im->from_disk ? 1 /* a run directory's link to its project: export leaves those out too */
		                     : refuse(im, rel, "is a link that could lead out of its run (absolute, or with '..')");
	if (type != AE_IFREG && type != AE_IFDIR && type != AE_IFLNK)
		return refuse(im, rel, "is a device, FIFO or socket");
	if (ar->entry_size(e) > 0 && im->b.bytes + (uint64_t)ar->entry_size(e) > im->b.max_bytes)
		return tally__error(TALLY_EINVALID, "refusing to import '%s': it unpacks to more than %llu bytes (an archive "
		                                    "bomb, or more than the disk holds; --max-size raises the limit) — "
		                                    "nothing was imported",
		                    im->source, (unsigned long long)im->b.max_bytes);
	return 0;
}

/* Re-root an entry (and its hard link) under the staging directory. */
static int stage_paths(importer *im, struct archive_entry *e, const char *rel)
{
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/%s", im->staging, rel);
	ar->entry_set_pathname(e, p.ptr);
	const char *hard = ar->entry_hardlink(e);
	if (hard) {
		while (!strncmp(hard, "./", 2))
			hard += 2;
		tally_buf_clear(&p);
		tally_buf_printf(&p, "%s/%s", im->staging, hard);
		ar->entry_set_hardlink(e, p.ptr);
	}
	/* owner-writable (so tally purge can remove it), never setuid/setgid/sticky */
	mode_t perm = ar->entry_perm(e) & 0777;
	ar->entry_set_perm(e, perm | (ar->entry_filetype(e) == AE_IFDIR ? 0700 : 0600));
	ar->entry_set_uid(e, getuid());
	ar->entry_set_gid(e, getgid());
	int rc = tally_buf_oom(&p) ? tally__error_oom() : 0;
	tally_buf_release(&p);
	return rc;
}

/* Extract every entry of `in` into the staging directory; `strip` is cut from disk paths. */
static int extract_all(importer *im, struct archive *in, const char *strip, bool from_disk)
{
	struct archive *out = disk_writer();
	struct archive_entry *e = ar->entry_new();
	tally_buf rel = TALLY_BUF_INIT;
	int rc = out && e ? 0 : tally__error_oom();
	size_t strip_len = strip ? strlen(strip) : 0;
	while (!rc) {
		int r = ar->read_next_header2(in, e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			rc = tally__error(TALLY_EINVALID, "cannot read '%s': %s — is it an archive tally export made?", im->source,
			                  archive_message(in));
			break;
		}
		const char *path = ar->entry_pathname(e);
		if (!path) {
			rc = refuse(im, "?", "has no usable name");
			break;
		}
		if (from_disk) {
			if (strncmp(path, strip, strip_len) || (path[strip_len] != '/' && path[strip_len]))
				continue;
			path += strip_len + (path[strip_len] == '/');
			if (!*path) { /* the directory itself */
				ar->read_disk_descend(in);
				continue;
			}
		}
		while (!strncmp(path, "./", 2))
			path += 2;
		tally_buf_clear(&rel);
		tally_buf_adds(&rel, path);
		while (rel.len > 1 && rel.ptr[rel.len - 1] == '/')
			tally_buf_truncate(&rel, rel.len - 1);
		if (!rel.len || !strcmp(rel.ptr, "."))
			continue;
		int check = check_entry(im, rel.ptr, e);
		if (check < 0) {
			rc = check;
			break;
		}
		if (check == 1)
			continue;
		if (from_disk)
			ar->read_disk_descend(in);
		if ((rc = stage_paths(im, e, rel.ptr)))
			break;
		if (ar->write_header(out, e) < ARCHIVE_WARN) {
			rc = tally__error(TALLY_ERROR, "cannot import '%s': %s", rel.ptr, archive_message(out));
			break;
		}
		if (ar->entry_filetype(e) == AE_IFREG && (rc = copy_data(in, out, &im->b, im->source)))
			break;
		if (ar->write_finish_entry(out) < ARCHIVE_WARN)
			rc = tally__error(TALLY_ERROR, "cannot import '%s': %s", rel.ptr, archive_message(out));
	}
	if (out && ar->write_close(out) < ARCHIVE_WARN && !rc)
		rc = tally__error(TALLY_ERROR, "cannot import '%s': %s", im->source, archive_message(out));
	ar->write_free(out);
	ar->entry_free(e);
	tally_buf_release(&rel);
	return rc;
}

static int extract_source(importer *im, const char *src)
{
	struct stat st;
	if (stat(src, &st) < 0)
		return tally__error_errno(TALLY_ENOTFOUND, "cannot import '%s'", src);
	struct archive *in = NULL;
	int rc;
	if (S_ISDIR(st.st_mode)) {
		char *abs = tally_path_absolute(src);
		char *meta = abs ? tally_path_join(abs, TALLY_META_DIR) : NULL;
		struct stat mst;
		bool single = meta && stat(meta, &mst) == 0;
		/* a run directory itself: its parent is the root, and only it is read */
		char *root = abs ? strdup(abs) : NULL;
		if (single && root && strrchr(root, '/'))
			*strrchr(root, '/') = '\0';
		in = disk_reader();
		if (!in || !root)
			rc = tally__error_oom();
		else if (ar->read_disk_open(in, single ? abs : root) != ARCHIVE_OK)
			rc = tally__error(TALLY_ERROR, "cannot read '%s': %s", src, archive_message(in));
		else {
			im->from_disk = true;
			rc = extract_all(im, in, root, true);
		}
		free(abs);
		free(meta);
		free(root);
	} else {
		in = ar->read_new();
		if (!in)
			return tally__error_oom();
		ar->read_support_filter_all(in);
		ar->read_support_format_tar(in);
		ar->read_support_format_zip(in);
		ar->read_support_format_cpio(in);
		if (ar->read_open_filename(in, src, BLOCK) != ARCHIVE_OK)
			rc = tally__error(TALLY_EINVALID, "cannot read '%s': %s — give a .tar.gz, .tar or .zip tally export made",
			                  src, archive_message(in));
		else {
			im->b.check_ratio = true;
			rc = extract_all(im, in, NULL, false);
		}
	}
	ar->read_free(in);
	return rc;
}

/* The run directories staged, sorted. */
static int staged_runs(const importer *im, tally_strlist *runs)
{
	DIR *d = opendir(im->staging);
	if (!d)
		return tally__error_errno(TALLY_ERROR, "cannot read '%s'", im->staging);
	struct dirent *e;
	int rc = 0;
	while (!rc && (e = readdir(d)))
		if (e->d_name[0] != '.' && tally_strlist_push(runs, e->d_name) < 0)
			rc = tally__error_oom();
	closedir(d);
	tally_strlist_sort(runs);
	return rc;
}

/* Every staged run must be a whole run: its run.json readable, its id its directory's name, its name a name. */
static int check_staged_runs(const importer *im, const tally_strlist *runs)
{
	for (size_t i = 0; i < runs->n; i++) {
		char *dir = tally_path_join(im->staging, runs->items[i]);
		json_t *meta = NULL;
		int rc = dir ? tally__meta_load(&meta, dir, im->store->host) : tally__error_oom();
		const char *id = json_string_value(json_object_get(meta, "id"));
		json_t *name = json_object_get(meta, "name");
		if (!rc && (!id || strcmp(id, runs->items[i])))
			rc = tally__error(TALLY_ECORRUPT, "its run.json says id '%s'", id ? id : "(none)");
		if (!rc && name && (!json_is_string(name) || tally__check_run_name(json_string_value(name))))
			rc = tally__error(TALLY_ECORRUPT, "its name is not a valid run name");
		json_decref(meta);
		free(dir);
		if (rc)
			return tally__error(TALLY_EINVALID, "refusing to import '%s': '%s' is not a whole run (%s) — nothing was "
			                                    "imported",
			                    im->source, runs->items[i], tally_error_last());
	}
	return 0;
}

/* Make the staged files durable before they are renamed into place (one syncfs where there is one). */
static void sync_staged(const importer *im)
{
#ifdef __linux__
	int fd = open(im->staging, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		syncfs(fd);
		close(fd);
		return;
	}
#endif
	sync();
}

/* Whether the staged run at `dir` has a name another run here holds already. */
static bool name_taken(tally_store *store, const char *dir)
{
	json_t *meta = NULL;
	bool taken = false;
	if (tally__meta_load(&meta, dir, store->host) == 0) {
		const char *name = json_string_value(json_object_get(meta, "name"));
		int lock = -1;
		if (name && tally__name_claim(store, name, false, &lock))
			taken = true; /* the error says which run holds it */
		if (lock >= 0)
			close(lock);
	}
	json_decref(meta);
	return taken;
}

/* Rename the staged runs into the runs directory; ids (or names) present already are skipped. */
static int move_into_place(importer *im, const tally_strlist *runs, size_t *imported, tally_buf *skipped)
{
	for (size_t i = 0; i < runs->n; i++) {
		const char *name = runs->items[i];
		char *from = tally_path_join(im->staging, name), *to = tally_path_join(im->store->path, name);
		struct stat st;
		int rc = 0;
		if (!from || !to)
			rc = tally__error_oom();
		else if (lstat(to, &st) == 0)
			tally_buf_printf(skipped, "%s: a run with this id is here already\n", name);
		else if (name_taken(im->store, from))
			tally_buf_printf(skipped, "%s: %s\n", name, tally_error_last());
		else {
			tally__dir_sig(AT_FDCWD, im->store->path, im->store->sig_before);
			if (rename(from, to) < 0)
				rc = tally__error_errno(TALLY_ERROR, "cannot move imported run %s into place (%zu imported before)",
				                        name, *imported);
			else {
				tally__dir_sig(AT_FDCWD, im->store->path, im->store->sig_after);
				tally__store_note_new_run(im->store, name);
				++*imported;
			}
		}
		free(from);
		free(to);
		if (rc)
			return rc;
	}
	tally_fsync_dir(im->store->path);
	tally__store_touch(im->store);
	return 0;
}

/* The byte limit: the caller's, and never more than 90% of the free space of the runs directory. */
static uint64_t max_bytes(const tally_store *store, const tally_import_options *opts)
{
	uint64_t limit = opts->max_bytes;
	struct statvfs fs;
	if (statvfs(store->path, &fs) == 0) {
		uint64_t room = (uint64_t)fs.f_bavail * fs.f_frsize / 10 * 9;
		if (!limit || room < limit)
			limit = room;
	}
	return limit;
}

/* Remove what imports that crashed left: staging directories untouched for a day. */
static void remove_stale_staging(const tally_store *store)
{
	DIR *d = opendir(store->path);
	struct dirent *e;
	time_t day_ago = time(NULL) - 86400;
	while (d && (e = readdir(d))) {
		if (strncmp(e->d_name, ".import-", 8))
			continue;
		char *path = tally_path_join(store->path, e->d_name);
		struct stat st;
		if (path && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) && st.st_mtime < day_ago)
			tally_remove_tree(path);
		free(path);
	}
	if (d)
		closedir(d);
}

/* A staging directory of our own in the runs directory, by its real path. */
static int make_staging(const tally_store *store, char **out)
{
	*out = NULL;
	tally_buf staging = TALLY_BUF_INIT;
	tally_buf_printf(&staging, "%s/.import-XXXXXX", store->path);
	if (tally_buf_oom(&staging) || !mkdtemp(staging.ptr)) {
		tally_buf_release(&staging);
		return tally__error_errno(TALLY_ERROR, "cannot create a staging directory in '%s'", store->path);
	}
	*out = realpath(staging.ptr, NULL);
	if (!*out)
		tally_remove_tree(staging.ptr);
	tally_buf_release(&staging);
	return *out ? 0 : tally__error_errno(TALLY_ERROR, "cannot use a staging directory in '%s'", store->path);
}

int tally_import(tally_store *store, const char *src, const tally_import_options *opts, size_t *imported,
                 char **skipped)
{
	static const tally_import_options defaults = TALLY_IMPORT_OPTIONS_INIT;
	*imported = 0;
	*skipped = NULL;
	if (!opts)
		opts = &defaults;
	if (load_archivelib())
		return TALLY_ERROR;
	int created = tally__store_create(store); /* runs directory and its .gitignore, like a first run's */
	if (created)
		return created;
	remove_stale_staging(store);
	importer im = {store, opts, NULL, src, {0, max_bytes(store, opts), 0, opts->max_entries, false, false}, false};
	tally_strlist runs = TALLY_STRLIST_INIT;
	tally_buf skip = TALLY_BUF_INIT;
	int rc = make_staging(store, &im.staging);
	if (!rc)
		rc = extract_source(&im, src);
	if (!rc)
		rc = staged_runs(&im, &runs);
	if (!rc && !runs.n)
		rc = tally__error(TALLY_EINVALID, "'%s' holds no runs — give a file or directory tally export made", src);
	if (!rc)
		rc = check_staged_runs(&im, &runs);
	if (!rc) {
		sync_staged(&im);
		rc = move_into_place(&im, &runs, imported, &skip);
	}
	if (im.staging)
		tally_remove_tree(im.staging);
	if (skip.len)
		*skipped = tally_buf_detach(&skip);
	tally_buf_release(&skip);
	free(im.staging);
	tally_strlist_release(&runs);
	return rc;
}
