#ifndef TALLY_TIMEUTIL_H
#define TALLY_TIMEUTIL_H

#include <stddef.h>
#include <stdint.h>

/* Wall-clock milliseconds since the epoch. */
int64_t tally_now_ms(void);
/* Monotonic nanoseconds, for durations. */
int64_t tally_monotonic_ns(void);
/* "2026-11-22T23:41:05.123Z" into `out` (at least 32 bytes). */
void tally_format_iso_ms(char *out, size_t size, int64_t ms);
/* Local time with its zone, to the second, as people read it: "2026-12-06 21:44:55 CET" ("-" when unknown). */
void tally_format_local_zone(char *out, size_t size, int64_t ms);
/* Parse what tally_format_iso_ms() writes (milliseconds optional); -1 if invalid. */
int64_t tally_parse_iso_ms(const char *s);
/* A human duration: "850 ms", "4.2 s", "3m 05s", "2h 01m". */
void tally_format_duration(char *out, size_t size, int64_t ms);
/* Decimal digits of `v` into `out` (at least 21 bytes). */
void tally_format_uint(char *out, uint64_t v);

#endif
