/*
 * libFuzzer target: any bytes as a script, through the R and Python flag
 * scanners, `#|` annotations and front matter, and the JSON form.  It must
 * never crash, leak or read out of bounds, whatever the input.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/flags/flagdefs.h"
#include "util/strlist.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void one(const char *text, size_t len, const char *lang)
{
	tally_script_flags sf = TALLY_SCRIPT_FLAGS_INIT;
	sf.display = strdup("fuzz");
	int rc = !strcmp(lang, "R") ? tally__detect_r(&sf, text, len) : tally__detect_python(&sf, text, len);
	if (!rc)
		rc = tally__apply_annotations(&sf, text, len);
	if (!rc) {
		json_t *j = tally__script_flags_json(&sf);
		json_decref(j);
		/* render every default back as a literal of the language */
		for (size_t i = 0; i < sf.n; i++) {
			tally_buf b = TALLY_BUF_INIT;
			if (sf.items[i].has_default)
				tally__render_literal(&b, &sf.items[i].def, strcmp(lang, "R") != 0, &sf.items[i]);
			tally_buf_release(&b);
		}
		/* resolve the defaults, and turn them into arguments and a label */
		tally_resolved_flags r;
		if (tally__flags_resolve(&r, &sf, NULL, NULL, false) == 0) {
			tally_strlist argv = TALLY_STRLIST_INIT;
			tally__flags_to_args(&argv, &sf, &r);
			tally_strlist_release(&argv);
			free(tally__flags_default_label(&r));
			tally__resolved_flags_release(&r);
		}
	}
	tally__script_flags_release(&sf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the scanners take a length; a copy without a terminator catches overreads */
	char *text = malloc(size ? size : 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	one(text, size, "R");
	one(text, size, "Python");
	free(text);
	return 0;
}
