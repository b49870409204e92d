/*
 * libFuzzer target: any bytes as a NAME=VALUE argument and as a literal of
 * each language; values that parse are checked against a declared flag and
 * rendered back.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/flags/flagdefs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_against(tally_flag *v, tally_flag_type type, bool list)
{
	tally_flagdef def;
	memset(&def, 0, sizeof def);
	def.name = (char *)"x";
	def.type = type;
	def.list = list; /* a list flag: each element checked, the list rebuilt */
	def.has_min = def.has_max = true;
	def.min = -10;
	def.max = 10;
	tally_flag copy = *v;
	copy.text = v->text ? strdup(v->text) : NULL;
	copy.name = NULL;
	if (tally__flag_check(&copy, &def, "fuzz") == 0) {
		tally_buf b = TALLY_BUF_INIT;
		tally__render_literal(&b, &copy, true, NULL);
		tally__render_literal(&b, &copy, false, NULL);
		tally_buf_release(&b);
	}
	tally__flag_release(&copy);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	tally_flag f;
	if (tally__flag_parse_assignment(&f, text) == 0) {
		static const tally_flag_type types[] = {TALLY_FLAG_STRING, TALLY_FLAG_INT, TALLY_FLAG_FLOAT, TALLY_FLAG_BOOL,
		                                        TALLY_FLAG_NULL};
		for (size_t i = 0; i < 5; i++) {
			check_against(&f, types[i], false);
			check_against(&f, types[i], true);
		}
		tally__flag_release(&f);
	}
	for (int python = 0; python < 2; python++) {
		tally_flag lit;
		if (tally__literal_value(&lit, text, size, python)) {
			tally_buf b = TALLY_BUF_INIT;
			tally__render_literal(&b, &lit, python, NULL);
			tally_buf_release(&b);
			tally__flag_release(&lit);
		}
	}
	char *label = NULL;
	tally_resolved_flags none = {{NULL, 0}, NULL, NULL};
	if (tally__label_expand(&label, text, &none) == 0)
		free(label);
	free(text);
	return 0;
}
