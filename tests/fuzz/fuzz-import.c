/*
 * libFuzzer target: any bytes as a file to `tally import`.  Whatever the
 * input, nothing may be written outside the runs directory, no imported link
 * may lead out of its run, and a refused input must leave no run behind.
 */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "lib/index/index.h"
#include "util/fsutil.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char root[64];

/* Every entry below `dir` (which is below `root`) must be the input, the runs directory or inside it. */
static void check_tree(const char *dir, const char *runs_real)
{
	DIR *d = opendir(dir);
	if (!d)
		return;
	struct dirent *e;
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		char *path = tally_path_join(dir, e->d_name);
		struct stat st;
		if (!path || lstat(path, &st) < 0)
			abort();
		bool in_runs = !strncmp(path, runs_real, strlen(runs_real));
		if (!in_runs && strcmp(e->d_name, "input") && strcmp(e->d_name, "runs"))
			abort(); /* written outside the runs directory */
		if (S_ISLNK(st.st_mode)) {
			char *target = realpath(path, NULL);
			if (target && strncmp(target, runs_real, strlen(runs_real)))
				abort(); /* an imported link leading out */
			free(target);
		} else if (S_ISDIR(st.st_mode)) {
			check_tree(path, runs_real);
		} else if (!S_ISREG(st.st_mode)) {
			abort(); /* a device, FIFO or socket */
		}
		free(path);
	}
	closedir(d);
}

static void remove_root(void)
{
	tally_remove_tree(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!root[0]) {
		snprintf(root, sizeof root, "/tmp/tally-fuzz-import-XXXXXX");
		if (!mkdtemp(root))
			abort();
		atexit(remove_root);
	}
	char input[128], runs[128];
	snprintf(input, sizeof input, "%s/input", root);
	snprintf(runs, sizeof runs, "%s/runs", root);
	tally_remove_tree(runs);
	FILE *f = fopen(input, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	tally_store *store = NULL;
	if (tally_store_open(&store, runs))
		abort();
	tally_import_options opts = TALLY_IMPORT_OPTIONS_INIT;
	opts.max_bytes = 64 << 20;
	size_t imported = 0;
	char *skipped = NULL;
	int rc = tally_import(store, input, &opts, &imported, &skipped);
	free(skipped);
	tally_store_free(store);
	char *runs_real = realpath(runs, NULL);
	if (!runs_real)
		abort();
	check_tree(root, runs_real);
	if (rc) { /* refused: no run may have landed */
		DIR *d = opendir(runs_real);
		struct dirent *e;
		while (d && (e = readdir(d)))
			if (e->d_name[0] != '.')
				abort();
		if (d)
			closedir(d);
	}
	free(runs_real);
	return 0;
}
