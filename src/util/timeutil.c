#include "util/timeutil.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

int64_t tally_now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t tally_monotonic_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

void tally_format_iso_ms(char *out, size_t size, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	gmtime_r(&secs, &tm);
	snprintf(out, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
	         tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, (int)(ms % 1000));
}

int64_t tally_parse_iso_ms(const char *s)
{
	struct tm tm;
	memset(&tm, 0, sizeof tm);
	int msec = 0, used = 0;
	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
	           &tm.tm_min, &tm.tm_sec, &used) != 6)
		return -1;
	s += used;
	if (*s == '.') {
		int digits = 0;
		for (s++; *s >= '0' && *s <= '9'; s++, digits++)
			if (digits < 3)
				msec = msec * 10 + (*s - '0');
		for (; digits < 3; digits++)
			msec *= 10;
	}
	if (*s != 'Z' || s[1])
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	time_t t = timegm(&tm);
	if (t == (time_t)-1)
		return -1;
	return (int64_t)t * 1000 + msec;
}

void tally_format_duration(char *out, size_t size, int64_t ms)
{
	if (ms < 0)
		snprintf(out, size, "-");
	else if (ms < 1000)
		snprintf(out, size, "%d ms", (int)ms);
	else if (ms < 60000)
		snprintf(out, size, "%.1f s", (double)ms / 1000.0);
	else if (ms < 3600000)
		snprintf(out, size, "%dm %02ds", (int)(ms / 60000), (int)(ms / 1000 % 60));
	else
		snprintf(out, size, "%dh %02dm", (int)(ms / 3600000), (int)(ms / 60000 % 60));
}
