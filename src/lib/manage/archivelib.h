/*
 * libarchive, loaded when first needed (as libgit2 is, see gitlib.h).
 *
 * libarchive and what it pulls in (zlib, liblzma, libzstd, libxml2, nettle,
 * libacl…) cost about 5 ms of dynamic loading per process: linked in, every
 * tally command would pay that for the one command in twenty that reads or
 * writes archives.  Each field is named after the function without its
 * "archive_" prefix and has that function's own type.
 */
#ifndef TALLY_ARCHIVELIB_H
#define TALLY_ARCHIVELIB_H

#include <archive.h>
#include <archive_entry.h>

#define TALLY_ARCHIVE_FUNCTIONS(X)                                                                          \
	X(entry_new) X(entry_free) X(entry_filetype) X(entry_pathname) X(entry_set_pathname) X(entry_hardlink) \
	X(entry_set_hardlink) X(entry_symlink) X(entry_size) X(entry_perm) X(entry_set_perm) X(entry_set_uid)  \
	X(entry_set_gid) X(error_string) X(filter_bytes)                                                       \
	X(read_new) X(read_free) X(read_support_filter_all) X(read_support_format_tar)                         \
	X(read_support_format_zip) X(read_support_format_cpio) X(read_open_filename) X(read_next_header2)      \
	X(read_data_block) X(read_disk_new) X(read_disk_open) X(read_disk_descend) X(read_disk_set_behavior)   \
	X(read_disk_set_standard_lookup) X(read_disk_set_symlink_physical)                                     \
	X(write_new) X(write_free) X(write_close) X(write_set_format_pax_restricted) X(write_set_format_zip)    \
	X(write_add_filter_gzip) X(write_open_fd) X(write_header) X(write_data) X(write_data_block)                     \
	X(write_finish_entry) X(write_disk_new) X(write_disk_set_options)

typedef struct {
#define TALLY_ARCHIVE_FIELD(name) __typeof__(archive_##name) *name;
	TALLY_ARCHIVE_FUNCTIONS(TALLY_ARCHIVE_FIELD)
#undef TALLY_ARCHIVE_FIELD
} tally_archivelib;

/* The libarchive functions tally uses, or NULL (with a message in
 * tally_error_last()) when libarchive cannot be loaded.  Thread-safe. */
const tally_archivelib *tally__archivelib(void);

#endif
