#ifndef TALLY_DIGEST_H
#define TALLY_DIGEST_H

#include <stddef.h>

/* SHA-256 of `len` bytes at `data` as 64 lower-case hex digits and a NUL; 0, or -1 on failure. */
int tally_sha256_hex(const void *data, size_t len, char hex[65]);

#endif
