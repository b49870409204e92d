/* Formatting helpers for tables, CSV and times. */
#include <math.h>
#include <stdint.h>
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

/* Days since 1970-01-01 → civil date (proleptic Gregorian). */
static void civil_from_days(int64_t z, int *y, int *m, int *d)
{
	z += 719468;
	int64_t era = (z >= 0 ? z : z - 146096) / 146097;
	int64_t doe = z - era * 146097;
	int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	int64_t mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = (int)(yoe + era * 400 + (*m <= 2));
}

static void put2(char *p, int v)
{
	p[0] = (char)('0' + v / 10 % 10);
	p[1] = (char)('0' + v % 10);
}

/*
 * Listings format a time per run; localtime_r() and strftime() per row would
 * dominate them.  The UTC offset is looked up once per hour of time shown
 * (offsets change on the hour, if at all) and the date computed directly.
 */
void cli_format_local_time(char *out, size_t size, int64_t ms, bool seconds)
{
	static int64_t cached_hour = INT64_MIN;
	static long cached_offset;
	if (ms <= 0 || size < 20) {
		snprintf(out, size, "-");
		return;
	}
	int64_t secs = ms / 1000;
	if (secs / 3600 != cached_hour) {
		time_t t = (time_t)secs;
		struct tm tm;
		localtime_r(&t, &tm);
		cached_offset = tm.tm_gmtoff;
		cached_hour = secs / 3600;
	}
	int64_t local = secs + cached_offset;
	int64_t days = local >= 0 ? local / 86400 : (local - 86399) / 86400;
	int64_t in_day = local - days * 86400;
	int y, m, d;
	civil_from_days(days, &y, &m, &d);
	if (y < 0 || y > 9999) {
		snprintf(out, size, "-");
		return;
	}
	put2(out, y / 100);
	put2(out + 2, y % 100);
	out[4] = '-';
	put2(out + 5, m);
	out[7] = '-';
	put2(out + 8, d);
	out[10] = ' ';
	put2(out + 11, (int)(in_day / 3600));
	out[13] = ':';
	put2(out + 14, (int)(in_day / 60 % 60));
	if (seconds) {
		out[16] = ':';
		put2(out + 17, (int)(in_day % 60));
		out[19] = '\0';
	} else {
		out[16] = '\0';
	}
}

/*
 * Display width of UTF-8 text: one column per code point, i.e. the byte
 * count minus continuation bytes (10xxxxxx), counted a word at a time.
 */
int cli_display_width_n(const char *s, size_t len)
{
	size_t cont = 0, i = 0;
	const uint64_t high = 0x8080808080808080ULL;
	for (; i + 8 <= len; i += 8) {
		uint64_t x;
		memcpy(&x, s + i, 8);
		if (x & high)
			cont += (size_t)__builtin_popcountll(x & high & ~(x << 1));
	}
	for (; i < len; i++)
		cont += ((unsigned char)s[i] & 0xC0) == 0x80;
	return (int)(len - cont);
}

int cli_display_width(const char *s)
{
	return cli_display_width_n(s, strlen(s));
}

static void put_spaces(FILE *out, int n)
{
	static const char spaces[] = "                                                                ";
	while (n > 0) {
		int k = n < (int)sizeof spaces - 1 ? n : (int)sizeof spaces - 1;
		fwrite_unlocked(spaces, 1, (size_t)k, out);
		n -= k;
	}
}

void cli_print_cell_n(FILE *out, const char *s, size_t bytes, int w, int width, bool last)
{
	if (width <= 0 || w <= width) {
		fwrite_unlocked(s, 1, bytes, out);
		if (!last)
			put_spaces(out, width - w);
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
	fwrite_unlocked(s, 1, (size_t)(p - s), out);
	fputs_unlocked("…", out);
}

void cli_print_cell(FILE *out, const char *s, int width, bool last)
{
	size_t bytes = strlen(s);
	cli_print_cell_n(out, s, bytes, cli_display_width_n(s, bytes), width, last);
}

void cli_json_string(tally_buf *out, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	if (!tally_utf8_valid(s)) { /* e.g. a path with stray bytes: U+FFFD for each */
		tally_buf fixed = TALLY_BUF_INIT;
		tally_buf_add_utf8_lossy(&fixed, s);
		if (!tally_buf_oom(&fixed))
			cli_json_string(out, fixed.ptr);
		tally_buf_release(&fixed);
		return;
	}
	tally_buf_addc(out, '"');
	const char *run = s;
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c >= 0x20 && c != '"' && c != '\\')
			continue;
		tally_buf_add(out, run, (size_t)(s - run));
		run = s + 1;
		switch (c) {
		case '"': tally_buf_adds(out, "\\\""); break;
		case '\\': tally_buf_adds(out, "\\\\"); break;
		case '\n': tally_buf_adds(out, "\\n"); break;
		case '\t': tally_buf_adds(out, "\\t"); break;
		case '\r': tally_buf_adds(out, "\\r"); break;
		default: {
			char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
			tally_buf_adds(out, esc);
		}
		}
	}
	tally_buf_add(out, run, (size_t)(s - run));
	tally_buf_addc(out, '"');
}

void cli_format_number(char *out, size_t size, double v)
{
	tally_format_double(out, size, v);
}

void cli_print_row(FILE *out, const char *const *cells, const int *widths, size_t n)
{
	for (size_t k = 0; k < n; k++) {
		cli_print_cell(out, cells[k], widths[k], k + 1 == n);
		fputs_unlocked(k + 1 == n ? "\n" : "  ", out);
	}
}

bool cli_use_colour(void)
{
	const char *no_colour = getenv("NO_COLOR");
	return isatty(STDOUT_FILENO) && !(no_colour && *no_colour);
}
