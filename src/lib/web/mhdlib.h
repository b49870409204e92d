/*
 * GNU libmicrohttpd, loaded when `tally view` starts (as libgit2 and
 * libarchive are: gitlib.h, archivelib.h).
 *
 * libmicrohttpd pulls in GnuTLS and its dozen libraries: linked in, every
 * tally command would pay milliseconds of dynamic loading for the one
 * command that serves pages.  Each field is named after the function without
 * its "MHD_" prefix and has that function's own type.
 */
#ifndef TALLY_MHDLIB_H
#define TALLY_MHDLIB_H

#include <stdarg.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <microhttpd.h>

#define TALLY_MHD_FUNCTIONS(X)                                                                                  \
	X(start_daemon) X(stop_daemon) X(get_daemon_info) X(queue_response) X(lookup_connection_value)             \
	X(get_connection_values) X(create_response_from_buffer) X(create_response_from_callback)                   \
	X(create_response_from_fd) X(add_response_header) X(destroy_response)

typedef struct {
#define TALLY_MHD_FIELD(name) __typeof__(MHD_##name) *name;
	TALLY_MHD_FUNCTIONS(TALLY_MHD_FIELD)
#undef TALLY_MHD_FIELD
} tally_mhdlib;

/* The libmicrohttpd functions tally uses, or NULL (with a message in
 * tally_error_last()) when it cannot be loaded.  Thread-safe. */
const tally_mhdlib *tally__mhdlib(void);

#endif
