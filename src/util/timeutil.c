#include "util/timeutil.h"

#include <stdbool.h>
#include <stdint.h>
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
	/* Listings format many times within one second (a million scalar
	 * points): the date and time are worked out once per second. */
	static _Thread_local int64_t cached_secs = INT64_MIN;
	static _Thread_local char cached[32];
	int64_t secs = ms / 1000;
	if (secs != cached_secs) {
		time_t t = (time_t)secs;
		struct tm tm;
		gmtime_r(&t, &tm);
		strftime(cached, sizeof cached, "%Y-%m-%dT%H:%M:%S", &tm);
		cached_secs = secs;
	}
	snprintf(out, size, "%s.%03dZ", cached, (int)(ms % 1000));
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

/* Append the decimal digits of `v` at `p`; returns the end. */
static char *put_uint(char *p, uint64_t v)
{
	char tmp[24];
	int n = 0;
	do
		tmp[n++] = (char)('0' + v % 10);
	while ((v /= 10));
	while (n)
		*p++ = tmp[--n];
	return p;
}

/* Hand-formatted: listings format one duration per run, 100,000 at a time. */
void tally_format_duration(char *out, size_t size, int64_t ms)
{
	char buf[48], *p = buf;
	if (ms < 0) {
		*p++ = '-';
	} else if (ms < 1000) {
		p = put_uint(p, (uint64_t)ms);
		memcpy(p, " ms", 3), p += 3;
	} else if (ms < 60000) {
		int64_t tenths = (ms + 50) / 100;
		p = put_uint(p, (uint64_t)(tenths / 10));
		*p++ = '.';
		*p++ = (char)('0' + tenths % 10);
		memcpy(p, " s", 2), p += 2;
	} else {
		bool hours = ms >= 3600000;
		int64_t big = hours ? ms / 3600000 : ms / 60000, small = hours ? ms / 60000 % 60 : ms / 1000 % 60;
		p = put_uint(p, (uint64_t)big);
		*p++ = hours ? 'h' : 'm';
		*p++ = ' ';
		*p++ = (char)('0' + small / 10);
		*p++ = (char)('0' + small % 10);
		*p++ = hours ? 'm' : 's';
	}
	size_t len = (size_t)(p - buf);
	if (size == 0)
		return;
	if (len >= size)
		len = size - 1;
	memcpy(out, buf, len);
	out[len] = '\0';
}

void tally_format_uint(char *out, uint64_t v)
{
	*put_uint(out, v) = '\0';
}

void tally_format_local_zone(char *out, size_t size, int64_t ms)
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	if (ms <= 0 || !localtime_r(&secs, &tm) || !strftime(out, size, "%Y-%m-%d %H:%M:%S %Z", &tm))
		snprintf(out, size, "-");
}
