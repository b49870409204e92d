/*
 * tally_strlist — a growable array of owned strings, kept NULL-terminated so
 * it can be handed to execvp() as an argv.  `items` is NULL until the first
 * push.
 */
#ifndef TALLY_STRLIST_H
#define TALLY_STRLIST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct {
	char **items;
	size_t n, cap;
} tally_strlist;

#define TALLY_STRLIST_INIT {NULL, 0, 0}

/* Append a copy of `s`.  0, or -1 when out of memory. */
int tally_strlist_push(tally_strlist *l, const char *s);
/* Append the text printf would make.  0, or -1 when out of memory. */
int tally_strlist_pushf(tally_strlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Whether the `len` bytes at `s` are in the list already; if not, they are
 * added (a linear search: for the few dozen names of a script). */
bool tally_strlist_seen(tally_strlist *l, const char *s, size_t len);
/* Sort the strings bytewise (strcmp). */
void tally_strlist_sort(tally_strlist *l);
/* Whether `s` is in a list tally_strlist_sort() sorted (a binary search). */
bool tally_strlist_has_sorted(const tally_strlist *l, const char *s);
void tally_strlist_release(tally_strlist *l);

#endif
