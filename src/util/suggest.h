#ifndef TALLY_SUGGEST_H
#define TALLY_SUGGEST_H

#include <stdbool.h>
#include <stddef.h>

/*
 * "Did you mean …?": the candidate nearest to a mistyped word, by edit
 * distance (insertions, deletions, substitutions and swaps of neighbours
 * each cost 1), close enough to be a typo: at most 1 for short words, a
 * third of the length for longer ones.  Feed it candidates one by one.
 */
typedef struct {
	const char *word;
	char best[128];        /* "" until a candidate is close enough */
	size_t distance;
} tally_suggest;

void tally_suggest_init(tally_suggest *s, const char *word);
/* Consider `candidate` (ignored when it is the word itself). */
void tally_suggest_consider(tally_suggest *s, const char *candidate);
/* The nearest candidate, or NULL. */
const char *tally_suggest_best(const tally_suggest *s);
/* Whether flag name `a` is `b` (`b_len` bytes) with '-' and '_' taken as one
 * (argparse's --learning-rate is the flag learning_rate). */
bool tally_same_flag_name(const char *a, const char *b, size_t b_len);
/* The optimal string alignment distance between `a` and `b` (capped at 100). */
size_t tally_edit_distance(const char *a, const char *b);

#endif
