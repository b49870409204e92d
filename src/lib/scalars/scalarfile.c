/*
 * The scalar file: how a script in any language logs scalars without print
 * parsing.  It appends JSON lines to the file named by $TALLY_SCALARS (the
 * run's .tally/scalars.in.jsonl):
 *
 *   {"loss": 0.31, "acc": 0.9, "step": 5}
 *
 * Every number but "step" is a scalar at that step; without "step" the step
 * is the line's index (0, 1, 2…).  tally reads the file while the run goes
 * (about every second) and once more when it ends; a line that is not such
 * an object is skipped and counted.
 */
#include "lib/scalars/scalars.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "util/fsutil.h"
#include "util/timeutil.h"

#define MAX_LINE (64 * 1024)

struct tally_scalar_file {
	char *path;
	int fd;                 /* -1 until the script created the file */
	tally_buf partial;      /* an unfinished last line */
	bool overlong;          /* ... longer than MAX_LINE: dropped when it ends */
	int64_t records;        /* lines read: the step of a line without one */
	size_t skipped;
};

int tally__scalar_file_new(tally_scalar_file **out, const char *run_dir)
{
	*out = NULL;
	tally_scalar_file *f = calloc(1, sizeof *f);
	if (!f)
		return tally__error_oom();
	f->fd = -1;
	f->partial = (tally_buf)TALLY_BUF_INIT;
	tally_buf p = TALLY_BUF_INIT;
	tally_buf_printf(&p, "%s/" TALLY_META_DIR "/scalars.in.jsonl", run_dir);
	if (tally_buf_oom(&p) || !(f->path = tally_buf_detach(&p))) {
		tally_buf_release(&p);
		free(f);
		return tally__error_oom();
	}
	*out = f;
	return 0;
}

const char *tally__scalar_file_path(const tally_scalar_file *f)
{
	return f->path;
}

size_t tally__scalar_file_skipped(const tally_scalar_file *f)
{
	return f ? f->skipped : 0;
}

static void take_line(tally_scalar_file *f, tally_scalar_log *log, const char *line, size_t len, int64_t now)
{
	while (len && (line[len - 1] == '\r' || line[len - 1] == ' ' || line[len - 1] == '\t'))
		len--;
	if (!len)
		return; /* blank lines are not records */
	json_t *o = json_loadb(line, len, 0, NULL);
	int64_t step = f->records++;
	json_t *s = json_object_get(o, "step");
	bool ok = json_is_object(o) && (!s || json_is_integer(s));
	if (ok && s)
		step = json_integer_value(s);
	size_t scalars = 0;
	const char *key;
	json_t *v;
	json_object_foreach(ok ? o : NULL, key, v) {
		if (!strcmp(key, "step") || !json_is_number(v))
			continue;
		if (tally__scalar_log_append(log, key, step, json_number_value(v), now) == 0)
			scalars++;
	}
	if (!ok || !scalars)
		f->skipped++;
	json_decref(o);
}

/* Keep the start of a line that continues in a later read (a bounded amount). */
static void keep(tally_scalar_file *f, const char *p, size_t n)
{
	if (!n || f->overlong)
		return;
	if (f->partial.len + n > MAX_LINE) {
		f->overlong = true;
		tally_buf_clear(&f->partial);
		return;
	}
	tally_buf_add(&f->partial, p, n);
}

static void end_partial(tally_scalar_file *f, tally_scalar_log *log, int64_t now)
{
	if (f->overlong || tally_buf_oom(&f->partial))
		f->skipped++;
	else
		take_line(f, log, f->partial.ptr, f->partial.len, now);
	tally_buf_clear(&f->partial);
	f->overlong = false;
}

void tally__scalar_file_poll(tally_scalar_file *f, tally_scalar_log *log, bool final)
{
	if (!f || !log)
		return;
	if (f->fd < 0 && (f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
		return; /* not written (yet) */
	char buf[16384];
	int64_t now = tally_now_ms();
	for (;;) {
		ssize_t n = read(f->fd, buf, sizeof buf);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		const char *p = buf, *end = buf + n;
		for (const char *nl; (nl = memchr(p, '\n', (size_t)(end - p))); p = nl + 1) {
			if (f->partial.len || f->overlong) { /* the line began in an earlier read */
				keep(f, p, (size_t)(nl - p));
				end_partial(f, log, now);
			} else {
				take_line(f, log, p, (size_t)(nl - p), now);
			}
		}
		keep(f, p, (size_t)(end - p));
	}
	/* the script has ended: an unterminated last line is a record too */
	if (final && (f->partial.len || f->overlong))
		end_partial(f, log, now);
}

void tally__scalar_file_free(tally_scalar_file *f)
{
	if (!f)
		return;
	if (f->fd >= 0)
		close(f->fd);
	tally_buf_release(&f->partial);
	free(f->path);
	free(f);
}
