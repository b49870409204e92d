/*
 * Slurm's client commands (sbatch, squeue, scontrol, sacct, scancel), each
 * spawned with an argv and its output read back.  Nothing here goes through
 * a shell; option strings users give are split by
 * tally__slurm_split_options() into words first.
 */
#include "lib/slurm/slurm.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

/* Output past this is dropped: squeue of a thousand array tasks is ~40 kB. */
#define OUTPUT_MAX (16u << 20)

/* Both pipes read to their end, so neither command blocks on a full pipe. */
static void drain(int out_fd, int err_fd, tally_buf *out, tally_buf *err)
{
	struct pollfd fds[2] = {{out_fd, POLLIN, 0}, {err_fd, POLLIN, 0}};
	tally_buf *into[2] = {out, err};
	char chunk[8192];
	while (fds[0].fd >= 0 || fds[1].fd >= 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			for (int i = 0; i < 2; i++) /* the command then gets EPIPE rather than blocking */
				if (fds[i].fd >= 0)
					close(fds[i].fd);
			break;
		}
		for (int i = 0; i < 2; i++) {
			if (fds[i].fd < 0 || !fds[i].revents)
				continue;
			ssize_t n = read(fds[i].fd, chunk, sizeof chunk);
			if (n < 0 && errno == EINTR)
				continue;
			if (n <= 0) {
				close(fds[i].fd);
				fds[i].fd = -1;
			} else if (into[i] && into[i]->len + (size_t)n <= OUTPUT_MAX) {
				tally_buf_add(into[i], chunk, (size_t)n);
			}
		}
	}
}

/* The first line of what a command said on stderr, for an error message. */
static void first_line(char *dst, size_t size, const tally_buf *err)
{
	const char *text = err->ptr ? err->ptr : "";
	size_t len = strcspn(text, "\n");
	snprintf(dst, size, "%.*s", (int)len, text);
}

int tally__slurm_command(tally_buf *out, const char *const *argv)
{
	const char *cmd = argv[0];
	if (!tally_command_exists(cmd))
		return tally__error(TALLY_ENOTFOUND, "Slurm's '%s' command is not on PATH — run this on a machine of a Slurm "
		                    "cluster (sbatch, squeue, scontrol and scancel are needed), or leave out --executor slurm",
		                    cmd);
	int out_pipe[2], err_pipe[2];
	if (pipe2(out_pipe, O_CLOEXEC) < 0)
		return tally__error_errno(TALLY_ERROR, "cannot create a pipe for %s", cmd);
	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		close(out_pipe[0]);
		close(out_pipe[1]);
		return tally__error_errno(TALLY_ERROR, "cannot create a pipe for %s", cmd);
	}
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], STDOUT_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], STDERR_FILENO);
	/* The caller's handlers must not run in the command; SIGPIPE back to its default. */
	posix_spawnattr_t attr;
	posix_spawnattr_init(&attr);
	sigset_t none, defaults;
	sigemptyset(&none);
	sigemptyset(&defaults);
	sigaddset(&defaults, SIGPIPE);
	sigaddset(&defaults, SIGTERM);
	sigaddset(&defaults, SIGINT);
	sigaddset(&defaults, SIGHUP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defaults);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	pid_t pid;
	int err = posix_spawnp(&pid, cmd, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (err) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		return tally__error(TALLY_ERROR, "cannot run Slurm's '%s': %s", cmd, strerror(err));
	}
	tally_buf errors = TALLY_BUF_INIT;
	drain(out_pipe[0], err_pipe[0], out, &errors);
	int status = 0;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	int rc = 0;
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		char line[512];
		first_line(line, sizeof line, &errors);
		rc = tally__error(TALLY_ERROR, "%s failed: %s", cmd, line[0] ? line : "it exited with an error");
	}
	tally_buf_release(&errors);
	if (!rc && out && tally_buf_oom(out))
		rc = tally__error_oom();
	return rc;
}

int tally__slurm_check(void)
{
	static const char *const needed[] = {"sbatch", "squeue", "scontrol", "scancel", NULL};
	for (const char *const *c = needed; *c; c++)
		if (!tally_command_exists(*c)) {
			const char *argv[] = {*c, NULL};
			return tally__slurm_command(NULL, argv); /* the error naming it */
		}
	return 0;
}

int tally__slurm_submit(char **job_id, const tally_strlist *options, const char *script)
{
	*job_id = NULL;
	tally_strlist argv = TALLY_STRLIST_INIT;
	tally_buf out = TALLY_BUF_INIT;
	int rc = tally_strlist_push(&argv, "sbatch") < 0 || tally_strlist_push(&argv, "--parsable") < 0
	       ? tally__error_oom() : 0;
	for (size_t i = 0; !rc && i < options->n; i++)
		rc = tally_strlist_push(&argv, options->items[i]) < 0 ? tally__error_oom() : 0;
	if (!rc)
		rc = tally_strlist_push(&argv, script) < 0 ? tally__error_oom() : 0;
	if (!rc)
		rc = tally__slurm_command(&out, (const char *const *)argv.items);
	if (!rc) {
		/* "1234" or "1234;cluster" */
		const char *text = out.ptr ? out.ptr : "";
		size_t len = strspn(text, "0123456789");
		if (!len)
			rc = tally__error(TALLY_ERROR, "sbatch printed no job id (it said '%.*s')", (int)strcspn(text, "\n"), text);
		else if (!(*job_id = strndup(text, len)))
			rc = tally__error_oom();
	}
	tally_buf_release(&out);
	tally_strlist_release(&argv);
	return rc;
}

int tally__slurm_write_script(const char *path, const char *const *argv, const char *comment)
{
	tally_buf script = TALLY_BUF_INIT;
	tally_buf_printf(&script, "#!/bin/sh\n# %s\nexec", comment);
	for (const char *const *a = argv; *a; a++) {
		tally_buf_addc(&script, ' ');
		tally_buf_add_shell_quoted(&script, *a);
	}
	tally_buf_addc(&script, '\n');
	int rc = tally_buf_oom(&script) ? tally__error_oom()
	       : tally_write_file_atomic(path, script.ptr, script.len, TALLY_DURABLE) < 0
	           ? tally__error_errno(TALLY_ERROR, "cannot write the batch script '%s'", path)
	           : 0;
	tally_buf_release(&script);
	return rc;
}

int tally__slurm_cancel(const char *job, const char *signal)
{
	char sig[48];
	snprintf(sig, sizeof sig, "--signal=%s", signal ? signal : "");
	/* --batch: the signal goes to the batch step, which is the trial's tally */
	const char *with_signal[] = {"scancel", "--batch", sig, job, NULL};
	const char *plain[] = {"scancel", job, NULL};
	int rc = tally__slurm_command(NULL, signal ? with_signal : plain);
	/* already gone, or ending: what cancelling was for */
	if (rc && (strstr(tally_error_last(), "Invalid job id") || strstr(tally_error_last(), "already completing") ||
	           strstr(tally_error_last(), "already completed")))
		rc = 0;
	return rc;
}

/* ---- reading a job's state ---- */

static void copy_field(char *dst, size_t size, const char *src, size_t len)
{
	if (len >= size)
		len = size - 1;
	memcpy(dst, src, len);
	dst[len] = '\0';
}

/* "State|Reason|Node|Partition|TimeLimit" from squeue's or sacct's format. */
static void parse_fields(tally_slurm_job *j, const char *line)
{
	char *fields[5] = {j->state, j->reason, j->node, j->partition, j->time_limit};
	size_t sizes[5] = {sizeof j->state, sizeof j->reason, sizeof j->node, sizeof j->partition, sizeof j->time_limit};
	for (int i = 0; i < 5 && line; i++) {
		size_t len = strcspn(line, "|\n");
		copy_field(fields[i], sizes[i], line, len);
		line = line[len] == '|' ? line + len + 1 : NULL;
	}
	/* sacct says "CANCELLED by 0" */
	j->state[strcspn(j->state, " ")] = '\0';
	if (!strcmp(j->reason, "None") || !strcmp(j->reason, "(null)"))
		j->reason[0] = '\0';
	if (!strcmp(j->node, "None assigned") || !strcmp(j->node, "(null)"))
		j->node[0] = '\0';
}

static bool from_squeue(tally_slurm_job *j, const char *job)
{
	tally_buf out = TALLY_BUF_INIT, arg = TALLY_BUF_INIT;
	/* --jobs=ID: squeue's -j takes an optional argument, and "-j ID" lists every job */
	tally_buf_printf(&arg, "--jobs=%s", job);
	const char *argv[] = {"squeue", "-h", "-r", "-o", "%T|%r|%N|%P|%l", arg.ptr ? arg.ptr : "--jobs=0", NULL};
	int rc = tally__slurm_command(&out, argv);
	bool found = !rc && out.ptr && out.len > 0;
	if (found)
		parse_fields(j, out.ptr);
	tally_buf_release(&out);
	tally_buf_release(&arg);
	return found;
}

/* scontrol -o show job: one line of Key=Value words. */
static void scontrol_value(char *dst, size_t size, const char *text, const char *key)
{
	char pattern[48];
	snprintf(pattern, sizeof pattern, " %s=", key);
	const char *at = strstr(text, pattern);
	if (at)
		at += strlen(pattern);
	else if (!strncmp(text, pattern + 1, strlen(pattern) - 1)) /* the line's first key */
		at = text + strlen(pattern) - 1;
	else
		return;
	copy_field(dst, size, at, strcspn(at, " \n"));
}

static bool from_scontrol(tally_slurm_job *j, const char *job)
{
	tally_buf out = TALLY_BUF_INIT;
	const char *argv[] = {"scontrol", "-o", "show", "job", job, NULL};
	bool found = !tally__slurm_command(&out, argv) && out.ptr && strstr(out.ptr, "JobState=");
	if (found) {
		char exit[32] = "";
		scontrol_value(j->state, sizeof j->state, out.ptr, "JobState");
		scontrol_value(j->reason, sizeof j->reason, out.ptr, "Reason");
		scontrol_value(j->node, sizeof j->node, out.ptr, "NodeList");
		scontrol_value(j->partition, sizeof j->partition, out.ptr, "Partition");
		scontrol_value(j->time_limit, sizeof j->time_limit, out.ptr, "TimeLimit");
		scontrol_value(exit, sizeof exit, out.ptr, "ExitCode");
		if (exit[0])
			sscanf(exit, "%d:%d", &j->exit_code, &j->exit_signal);
		if (!strcmp(j->reason, "None"))
			j->reason[0] = '\0';
		if (!strcmp(j->node, "(null)"))
			j->node[0] = '\0';
	}
	tally_buf_release(&out);
	return found;
}

static bool from_sacct(tally_slurm_job *j, const char *job)
{
	tally_buf out = TALLY_BUF_INIT, arg = TALLY_BUF_INIT;
	tally_buf_printf(&arg, "--jobs=%s", job);
	const char *argv[] = {"sacct", "-n", "-P", "-X", arg.ptr ? arg.ptr : "--jobs=0", "-o",
	                      "State,Reason,NodeList,Partition,Timelimit", NULL};
	bool found = !tally__slurm_command(&out, argv) && out.ptr && out.len > 0 && isupper((unsigned char)out.ptr[0]);
	if (found)
		parse_fields(j, out.ptr);
	tally_buf_release(&out);
	tally_buf_release(&arg);
	return found;
}

int tally__slurm_job_info(tally_slurm_job *out, const char *job)
{
	*out = (tally_slurm_job){.exit_code = -1, .exit_signal = -1};
	const char *probe[] = {"squeue", NULL};
	if (!tally_command_exists(probe[0]))
		return tally__slurm_command(NULL, probe); /* the one clear error */
	out->known = from_squeue(out, job) || from_scontrol(out, job) || from_sacct(out, job);
	return 0;
}

int tally__slurm_active(tally_strlist *active, const tally_strlist *jobs)
{
	if (!jobs->n)
		return 0;
	tally_buf list = TALLY_BUF_INIT, out = TALLY_BUF_INIT;
	tally_buf_adds(&list, "--jobs=");
	for (size_t i = 0; i < jobs->n; i++)
		tally_buf_printf(&list, "%s%s", i ? "," : "", jobs->items[i]);
	if (tally_buf_oom(&list)) {
		tally_buf_release(&list);
		return tally__error_oom();
	}
	const char *argv[] = {"squeue", "-h", "-r", "-o", "%i", list.ptr, NULL};
	int rc = tally__slurm_command(&out, argv);
	/* squeue refuses a list whose jobs are all unknown to it ("Invalid job id"): none is active */
	if (rc && strstr(tally_error_last(), "Invalid job id"))
		rc = 0;
	for (const char *p = out.ptr; !rc && p && *p;) {
		size_t len = strcspn(p, "\n");
		if (len) {
			char id[64];
			copy_field(id, sizeof id, p, len);
			rc = tally_strlist_push(active, id) < 0 ? tally__error_oom() : 0;
		}
		p += len + (p[len] == '\n');
	}
	tally_buf_release(&list);
	tally_buf_release(&out);
	return rc;
}

bool tally__slurm_state_final(const char *state)
{
	static const char *const active[] = {"PENDING", "RUNNING", "CONFIGURING", "COMPLETING", "SUSPENDED",
	                                     "REQUEUED", "REQUEUE_FED", "REQUEUE_HOLD", "RESIZING", "SIGNALING",
	                                     "STAGE_OUT", "STOPPED", "RESV_DEL_HOLD", "SPECIAL_EXIT", NULL};
	for (const char *const *a = active; *a; a++)
		if (!strcmp(state, *a))
			return false;
	return state[0] != '\0';
}

/* ---- option strings ---- */

int tally__slurm_split_options(tally_strlist *out, const char *text, const char *what)
{
	tally_buf word = TALLY_BUF_INIT;
	bool in_word = false;
	int rc = 0;
	for (const char *p = text; !rc; p++) {
		if (!*p || isspace((unsigned char)*p)) {
			if (in_word && tally_strlist_push(out, word.ptr ? word.ptr : "") < 0)
				rc = tally__error_oom();
			tally_buf_clear(&word);
			in_word = false;
			if (!*p)
				break;
			continue;
		}
		in_word = true;
		if (*p == '\'' || *p == '"') {
			/* '…' keeps everything; "…" keeps everything but \" and \\ (as sh, nothing expanded) */
			char quote = *p;
			const char *end = p + 1;
			for (; *end && *end != quote; end++) {
				if (quote == '"' && *end == '\\' && (end[1] == '"' || end[1] == '\\'))
					end++;
				tally_buf_addc(&word, *end);
			}
			if (!*end) {
				rc = tally__error(TALLY_EINVALID, "%s: unterminated %c quote in '%s'", what, quote, text);
				break;
			}
			p = end;
		} else if (*p == '\\' && p[1]) {
			tally_buf_addc(&word, *++p);
		} else {
			tally_buf_addc(&word, *p);
		}
	}
	if (!rc && tally_buf_oom(&word))
		rc = tally__error_oom();
	tally_buf_release(&word);
	return rc;
}
