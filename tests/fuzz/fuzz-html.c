/*
 * libFuzzer target: any bytes through the report's HTML escaper and syntax
 * colouring.  The escaped text must hold no markup at all and be valid
 * UTF-8; the coloured text no markup but tally's own spans.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "lib/report/report.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void only_spans(const tally_buf *b)
{
	for (const char *p = b->ptr; p && (p = memchr(p, '<', b->len - (size_t)(p - b->ptr))); p++)
		if (strncmp(p, "<span class=\"", 13) && strncmp(p, "</span>", 7))
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	tally_buf b = TALLY_BUF_INIT;
	tally__html_text(&b, (const char *)data, size);
	tally_buf_addc(&b, '\0');
	if (strpbrk(b.ptr, "<>\"'") || !tally_utf8_valid(b.ptr) || strlen(b.ptr) != b.len - 1)
		abort();
	tally_buf_release(&b);
	static const char *const names[] = {"a.py", "a.R", "a.sh", "a.c", "a.yml", "a.json"};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		tally__html_highlight(&b, names[i], (const char *)data, size);
		only_spans(&b);
		tally_buf_release(&b);
	}
	return 0;
}
