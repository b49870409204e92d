#include "util/suggest.h"

#include <stdio.h>
#include <string.h>

#define MAX_LEN 100

size_t tally_edit_distance(const char *a, const char *b)
{
	size_t n = strlen(a), m = strlen(b);
	if (n > MAX_LEN || m > MAX_LEN)
		return MAX_LEN;
	/* three rows of the dynamic programme: two back for a swap of neighbours */
	size_t rows[3][MAX_LEN + 1];
	size_t *prev2 = rows[0], *prev = rows[1], *cur = rows[2];
	for (size_t j = 0; j <= m; j++)
		prev[j] = j;
	for (size_t i = 1; i <= n; i++) {
		cur[0] = i;
		for (size_t j = 1; j <= m; j++) {
			size_t cost = a[i - 1] != b[j - 1];
			size_t d = prev[j] + 1;
			if (cur[j - 1] + 1 < d)
				d = cur[j - 1] + 1;
			if (prev[j - 1] + cost < d)
				d = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && prev2[j - 2] + 1 < d)
				d = prev2[j - 2] + 1;
			cur[j] = d;
		}
		size_t *t = prev2;
		prev2 = prev;
		prev = cur;
		cur = t;
	}
	return prev[m];
}

void tally_suggest_init(tally_suggest *s, const char *word)
{
	s->word = word;
	s->best[0] = '\0';
	size_t len = strlen(word);
	/* what still reads as a typo of `word` */
	s->distance = (len <= 4 ? 1 : len / 3 > 1 ? len / 3 : 2) + 1;
}

void tally_suggest_consider(tally_suggest *s, const char *candidate)
{
	if (!candidate || !strcmp(candidate, s->word) || strlen(candidate) >= sizeof s->best)
		return;
	size_t d = tally_edit_distance(s->word, candidate);
	if (d < s->distance) {
		s->distance = d;
		snprintf(s->best, sizeof s->best, "%s", candidate);
	}
}

const char *tally_suggest_best(const tally_suggest *s)
{
	return s->best[0] ? s->best : NULL;
}

bool tally_same_flag_name(const char *a, const char *b, size_t b_len)
{
	size_t i = 0;
	for (; a[i] && i < b_len; i++)
		if (a[i] != b[i] && !((a[i] == '-' || a[i] == '_') && (b[i] == '-' || b[i] == '_')))
			return false;
	return !a[i] && i == b_len;
}
