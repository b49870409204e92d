#include "util/digest.h"

#include <mbedtls/sha256.h>

/*
 * Hex SHA-256 of `data` into `hex` (65 bytes).  mbed TLS's, because libgit2
 * already loads it: linking OpenSSL's libcrypto as well would add about 4 ms
 * of dynamic loading to every tally command.
 */
int tally_sha256_hex(const void *data, size_t len, char hex[65])
{
	static const char digits[] = "0123456789abcdef";
	unsigned char md[32];
	if (mbedtls_sha256_ret(data, len, md, 0) != 0)
		return -1;
	for (int i = 0; i < 32; i++) {
		hex[2 * i] = digits[md[i] >> 4];
		hex[2 * i + 1] = digits[md[i] & 15];
	}
	hex[64] = '\0';
	return 0;
}
