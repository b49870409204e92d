#include "lib/internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "tally-version.h"

static _Thread_local char last_error[1024];

const char *tally_error_last(void)
{
	return last_error;
}

const char *tally_version(void)
{
	return TALLY_VERSION;
}

int tally__error(int code, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	return code;
}

int tally__error_errno(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(last_error, sizeof last_error, fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof last_error)
		snprintf(last_error + n, sizeof last_error - (size_t)n, ": %s", strerror(saved));
	errno = saved;
	return code;
}

int tally__error_oom(void)
{
	return tally__error(TALLY_ENOMEM, "out of memory");
}
