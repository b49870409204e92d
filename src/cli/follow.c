/*
 * Following a run's recorded output (.tally/output) as it grows: shared by
 * tally watch and tally tail -f.  The file only ever grows, so reading from
 * the last offset reached is all there is to it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "util/timeutil.h"

/* Where the last `lines` lines of the first `size` bytes of `fd` begin (-1: all of them). */
static off_t tail_start(int fd, off_t size, long lines)
{
	if (lines < 0)
		return 0;
	if (lines == 0)
		return size;
	char block[65536];
	off_t end = size;
	long seen = 0;
	while (end > 0) {
		off_t start = end > (off_t)sizeof block ? end - (off_t)sizeof block : 0;
		ssize_t got = pread(fd, block, (size_t)(end - start), start);
		if (got <= 0)
			return 0;
		for (ssize_t i = got - 1; i >= 0; i--) {
			off_t pos = start + i;
			/* the newline ending the last line does not start a line */
			if (block[i] == '\n' && pos != size - 1 && ++seen == lines)
				return pos + 1;
		}
		end = start;
	}
	return 0;
}

int cli_follower_open(cli_follower *f, const tally_run *run, long tail_lines)
{
	snprintf(f->path, sizeof f->path, "%s/.tally/output", tally_run_dir(run));
	f->offset = 0;
	f->fd = open(f->path, O_RDONLY | O_CLOEXEC);
	if (f->fd < 0 && errno != ENOENT)
		return cli_error("cannot read the output of run %s: %s", tally_run_id(run), strerror(errno));
	if (f->fd >= 0)
		f->offset = tail_start(f->fd, lseek(f->fd, 0, SEEK_END), tail_lines);
	return 0;
}

bool cli_follower_copy(cli_follower *f)
{
	if (f->fd < 0 && (f->fd = open(f->path, O_RDONLY | O_CLOEXEC)) < 0)
		return false; /* not written yet */
	char buf[65536];
	bool any = false;
	ssize_t got;
	while ((got = pread(f->fd, buf, sizeof buf, f->offset)) > 0) {
		fwrite(buf, 1, (size_t)got, stdout);
		f->offset += got;
		any = true;
	}
	if (any)
		fflush(stdout);
	return any;
}

void cli_follower_close(cli_follower *f)
{
	if (f->fd >= 0)
		close(f->fd);
	f->fd = -1;
}

void cli_sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR) {
	}
}

void cli_liveness_init(cli_liveness *l, const tally_run *run)
{
	*l = (cli_liveness){tally_run_is_slurm(run) != 0, 0, true};
}

bool cli_run_going(const tally_run *run, cli_liveness *l)
{
	if (tally_run_is_live(run))
		return true;
	if (!l->slurm)
		return false;
	int64_t now = tally_now_ms();
	if (now >= l->next_ms) { /* squeue is asked at most every 2 s */
		l->next_ms = now + 2000;
		l->last = tally_run_in_slurm(run) != 0;
	}
	return l->last;
}
