/*
 * libFuzzer target: any bytes as a search space (NAME=SPACE's right-hand
 * side) and as a trials file of each format.  Spaces that parse are
 * expanded: a few grid points, random draws and the probe points; every
 * value must come out as a JSON scalar.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/sweep/sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* A point's values are single values, or lists of them (a sweep over a list flag's values). */
static void expect_scalars(json_t *point)
{
	const char *name;
	json_t *v, *e;
	size_t i;
	json_object_foreach(point, name, v) {
		if (json_is_object(v))
			abort();
		json_array_foreach(v, i, e) if (json_is_object(e) || json_is_array(e)) abort();
	}
}

static void expand(const char *text)
{
	tally_dim d;
	if (tally__dim_parse(&d, "x", text))
		return;
	tally_space space = {NULL, 0};
	if (tally__space_add(&space, &d))
		return;
	uint64_t size = tally__space_grid_size(&space);
	for (uint64_t i = 0; size && size != UINT64_MAX && i < size && i < 8; i++) {
		json_t *p = tally__space_grid_point(&space, i);
		expect_scalars(p);
		json_decref(p);
	}
	tally_rng rng;
	tally_rng_seed(&rng, 1);
	for (int i = 0; i < 8; i++) {
		json_t *p = tally__space_random_point(&space, &rng);
		expect_scalars(p);
		json_decref(p);
	}
	json_t *probes = tally__space_probe_points(&space);
	json_decref(probes);
	tally__space_release(&space);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	expand(text);
	static const char *const names[] = {"t.csv", "t.yml", "t.json"};
	for (size_t i = 0; i < 3; i++) {
		json_t *trials = NULL;
		if (tally__trials_parse(&trials, names[i], text, size) == 0 && !json_array_size(trials))
			abort(); /* success means at least one trial */
		json_decref(trials);
	}
	free(text);
	return 0;
}
