/* The cmocka setup and teardown of unit tests that need a store: a runs
 * directory in a fresh temporary folder, removed with all it holds. */
#ifndef TALLY_TEST_STORE_FIXTURE_H
#define TALLY_TEST_STORE_FIXTURE_H

#include <stdlib.h>
#include <string.h>

#include "tally.h"
#include "util/fsutil.h"

static int make_store(void **state)
{
	char *dir = strdup("/tmp/tally-unit-XXXXXX");
	if (!dir || !mkdtemp(dir))
		return -1;
	char *runs = tally_path_join(dir, "runs");
	tally_store *store = NULL;
	int rc = runs ? tally_store_open(&store, runs) : -1;
	free(runs);
	free(dir);
	*state = store;
	return rc ? -1 : 0;
}

static int free_store(void **state)
{
	tally_store *store = *state;
	char *parent = strdup(tally_store_path(store));
	*strrchr(parent, '/') = '\0';
	tally_store_free(store);
	tally_remove_tree(parent);
	free(parent);
	return 0;
}

#endif
