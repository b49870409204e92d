/*
 * What every command shares: its errors and messages, and opening the runs
 * directory it works on.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "util/fsutil.h"

int cli_error(const char *fmt, ...)
{
	va_list ap;
	fputs("tally: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return EXIT_FATAL;
}

int cli_lib_error(int rc)
{
	(void)rc;
	return cli_error("%s", tally_error_last());
}

int cli_usage_error(const char *usage, const char *fmt, ...)
{
	va_list ap;
	fputs("tally: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\n\n%s", usage);
	return EXIT_USAGE;
}

void cli_print_warnings(tally_store *store)
{
	const char *w = tally_store_warnings(store);
	while (w && *w) {
		const char *nl = strchr(w, '\n');
		int len = nl ? (int)(nl - w) : (int)strlen(w);
		fprintf(stderr, "tally: warning: %.*s\n", len, w);
		w = nl ? nl + 1 : NULL;
	}
}

int cli_open_store(tally_store **store, const char *runs_dir)
{
	int rc = tally_store_open(store, runs_dir);
	return rc ? cli_lib_error(rc) : 0;
}

int cli_open_archive(tally_store **store)
{
	tally_store *archive = NULL;
	int rc = tally_store_open_archive(&archive, *store);
	if (rc)
		return cli_lib_error(rc);
	tally_store_free(*store);
	*store = archive;
	return 0;
}

int cli_write_id_file(const char *path, const char *id)
{
	tally_buf text = TALLY_BUF_INIT;
	tally_buf_printf(&text, "%s\n", id);
	int rc = tally_write_file_atomic(path, text.ptr, text.len, 0);
	tally_buf_release(&text);
	return rc ? cli_error("cannot write the id to '%s': %s", path, strerror(errno)) : 0;
}
