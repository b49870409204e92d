#include "util/strlist.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/buf.h"

int tally_strlist_push(tally_strlist *l, const char *s)
{
	if (l->n + 2 > l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		char **grown = realloc(l->items, cap * sizeof *grown);
		if (!grown)
			return -1;
		l->items = grown;
		l->cap = cap;
	}
	if (!(l->items[l->n] = strdup(s)))
		return -1;
	l->items[++l->n] = NULL;
	return 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void tally_strlist_sort(tally_strlist *l)
{
	if (l->n)
		qsort(l->items, l->n, sizeof *l->items, cmp_str);
}

void tally_strlist_release(tally_strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = l->cap = 0;
}

bool tally_strlist_seen(tally_strlist *l, const char *s, size_t len)
{
	for (size_t i = 0; i < l->n; i++)
		if (strlen(l->items[i]) == len && !memcmp(l->items[i], s, len))
			return true;
	char *copy = strndup(s, len);
	if (copy)
		tally_strlist_push(l, copy);
	free(copy);
	return false;
}

int tally_strlist_pushf(tally_strlist *l, const char *fmt, ...)
{
	tally_buf b = TALLY_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	tally_buf_vprintf(&b, fmt, ap);
	va_end(ap);
	int rc = tally_buf_oom(&b) ? -1 : tally_strlist_push(l, b.ptr);
	tally_buf_release(&b);
	return rc;
}

bool tally_strlist_has_sorted(const tally_strlist *l, const char *s)
{
	size_t lo = 0, hi = l->n;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(l->items[mid], s);
		if (!c)
			return true;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}
