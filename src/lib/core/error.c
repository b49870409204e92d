#include "lib/core/core.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "build-config.h"

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

json_t *tally__json_text(const char *s)
{
	if (tally_utf8_valid(s))
		return json_string(s);
	tally_buf fixed = TALLY_BUF_INIT;
	tally_buf_add_utf8_lossy(&fixed, s);
	json_t *j = tally_buf_oom(&fixed) ? NULL : json_string(fixed.ptr);
	tally_buf_release(&fixed);
	return j;
}

const char *tally__json_type_name(const json_t *v)
{
	if (!v)
		return "null";
	switch (json_typeof(v)) {
	case JSON_INTEGER: return "int";
	case JSON_REAL: return "float";
	case JSON_TRUE:
	case JSON_FALSE: return "bool";
	case JSON_NULL: return "null";
	default: return "string";
	}
}

int tally__check_text(const char *what, const char *value)
{
	if (!tally_utf8_valid(value))
		return tally__error(TALLY_EINVALID, "%s is not UTF-8 text — give it as UTF-8", what);
	return 0;
}
