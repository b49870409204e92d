/* Formatting helpers for tables, CSV and times. */
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"

int cli_terminal_width(void)
{
	if (!isatty(STDOUT_FILENO))
		return 0;
	struct winsize ws;
	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *cols = getenv("COLUMNS");
	return cols && atoi(cols) > 0 ? atoi(cols) : 80;
}

void cli_csv_field(FILE *out, const char *s, char sep)
{
	if (!strpbrk(s, sep == '\t' ? "\t\n\r\"" : ",\n\r\"")) {
		fputs(s, out);
		return;
	}
	fputc('"', out);
	for (; *s; s++) {
		if (*s == '"')
			fputc('"', out);
		fputc(*s, out);
	}
	fputc('"', out);
}

void cli_format_local_time(char *out, size_t size, int64_t ms, bool seconds)
{
	if (ms <= 0) {
		snprintf(out, size, "-");
		return;
	}
	time_t t = (time_t)(ms / 1000);
	struct tm tm;
	localtime_r(&t, &tm);
	strftime(out, size, seconds ? "%Y-%m-%d %H:%M:%S" : "%Y-%m-%d %H:%M", &tm);
}

int cli_display_width(const char *s)
{
	int w = 0;
	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

void cli_print_cell(FILE *out, const char *s, int width, bool last)
{
	int w = cli_display_width(s);
	if (width <= 0 || w <= width) {
		fputs(s, out);
		if (!last)
			for (; w < width; w++)
				fputc(' ', out);
		return;
	}
	/* Truncate on a code point boundary and mark it with an ellipsis. */
	int cols = 0;
	const char *p = s;
	while (*p && cols < width - 1) {
		p++;
		while (((unsigned char)*p & 0xC0) == 0x80)
			p++;
		cols++;
	}
	fwrite(s, 1, (size_t)(p - s), out);
	fputs("…", out);
}
