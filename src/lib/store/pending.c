/*
 * The pending list: runs created or changed on this machine that the index
 * has not read yet.
 *
 * `tally run` must stay cheap, so it does not open the index at all.  It
 * appends one line to a "pending" file next to the index instead:
 *     <run dir name> TAB <runs dir signature before its mkdir> TAB <after>
 * The next sync indexes those runs and, following the before→after chain
 * from the signature it knew, learns whether they explain the change of the
 * runs directory — if so, no scan of every run is needed.  Lines are short,
 * so O_APPEND keeps concurrent writers' lines whole; a line lost to a race
 * only costs a scan.
 */
#include "lib/store/store.h"

#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/fsutil.h"

/* Append one line to the pending list (O_APPEND keeps concurrent lines whole). */
static void append_pending(tally_store *store, const tally_buf *line)
{
	int fd = -1;
	if (!tally_buf_oom(line) && tally_mkdir_p_parent(store->pending_path) == 0)
		fd = open(store->pending_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0666);
	if (fd >= 0) {
		flock(fd, LOCK_EX); /* held for microseconds, by writers and by the reader */
		tally_write_all(fd, line->ptr, line->len);
		close(fd);
	}
}

void tally__store_note_new_run(tally_store *store, const char *dir_name)
{
	tally_buf line = TALLY_BUF_INIT;
	tally_buf_printf(&line, "%s\t%s\t%s\n", dir_name, store->sig_before, store->sig_after);
	append_pending(store, &line);
	tally_buf_release(&line);
}

/* A run changed in place (an annotation): the next sync re-reads it; no
 * signatures, so it explains no change of the runs directory. */
void tally__store_note_changed_run(tally_store *store, const char *dir_name)
{
	tally_buf line = TALLY_BUF_INIT;
	tally_buf_printf(&line, "%s\t-\t-\n", dir_name);
	append_pending(store, &line);
	tally_buf_release(&line);
}

/*
 * Read the pending list (without consuming it: that happens only once the
 * index has committed what it learned, in tally__pending_drop()).  Handling a line
 * twice is harmless; losing one is what must not happen.
 */
size_t tally__pending_read(tally_store *store, tally_pending_run **out, tally_buf *text, size_t *consumed)
{
	*out = NULL;
	*consumed = 0;
	int fd = open(store->pending_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	flock(fd, LOCK_EX);
	tally_read_file(text, store->pending_path, 0);
	close(fd);
	*consumed = text->len; /* the lines below are cut in place */
	size_t n = 0;
	for (char *p = text->ptr; *p; p++)
		n += *p == '\n';
	tally_pending_run *runs = n ? calloc(n, sizeof *runs) : NULL;
	size_t k = 0;
	char *save = NULL;
	for (char *line = runs ? strtok_r(text->ptr, "\n", &save) : NULL; line && k < n; line = strtok_r(NULL, "\n", &save)) {
		char *t1 = strchr(line, '\t'), *t2 = t1 ? strchr(t1 + 1, '\t') : NULL;
		if (!t2)
			continue; /* a torn line: the scan of the runs directory covers it */
		*t1 = *t2 = '\0';
		runs[k++] = (tally_pending_run){line, t1 + 1, t2 + 1, false};
	}
	*out = runs;
	return k;
}

/* Remove the first `consumed` bytes of the pending list, keeping lines appended since. */
void tally__pending_drop(tally_store *store, size_t consumed)
{
	int fd = open(store->pending_path, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		return;
	flock(fd, LOCK_EX);
	tally_buf now = TALLY_BUF_INIT;
	if (tally_read_file(&now, store->pending_path, 0) == 0 && now.len >= consumed &&
	    ftruncate(fd, 0) == 0 && now.len > consumed)
		tally_write_all(fd, now.ptr + consumed, now.len - consumed);
	tally_buf_release(&now);
	close(fd);
}

