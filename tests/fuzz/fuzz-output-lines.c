/*
 * libFuzzer target: any bytes as console output, cut into lines and parsed
 * for scalars by the default rules (Guild key: value, Keras progress lines)
 * and by a set of a script's own rules.  Points go to one scalar log in a
 * scratch directory made on the first call.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "lib/index/index.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static tally_scalar_log *log_for_fuzzing(void)
{
	static tally_scalar_log *log;
	static char dir[] = "/tmp/tally-fuzz-output-XXXXXX";
	if (!log && mkdtemp(dir)) {
		char meta[64];
		snprintf(meta, sizeof meta, "%s/.tally", dir);
		mkdir(meta, 0777);
		tally__scalar_log_open(&log, dir);
	}
	return log;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static tally_outparse *defaults, *custom;
	char *const rules[] = {(char *)"key\t^(\\key)=(\\value)$", (char *)"tag:acc\tacc (\\value)",
	                       (char *)"step\t^it (\\step)", NULL};
	tally_scalar_log *log = log_for_fuzzing();
	if (!log || (!defaults && tally__outparse_new(&defaults, NULL, 0, NULL)) ||
	    (!custom && tally__outparse_new(&custom, NULL, 0, rules)))
		return 0;
	const char *p = (const char *)data, *end = p + size;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *stop = nl ? nl : end;
		size_t len = (size_t)(stop - p);
		tally__outparse_line(defaults, p, len, log, 0);
		tally__outparse_line(custom, p, len, log, 0);
		p = stop + 1;
	}
	return 0;
}
