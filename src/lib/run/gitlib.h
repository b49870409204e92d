/*
 * libgit2, loaded when first needed.
 *
 * libgit2 and the libraries it pulls in (mbed TLS, libssh2, OpenSSL's
 * libcrypto, Kerberos…) cost about 6 ms of dynamic loading — more than the
 * rest of `tally runs` — and only a run started inside a git work tree uses
 * them.  So tally links against none of them and dlopen()s libgit2 instead.
 */
#ifndef TALLY_GITLIB_H
#define TALLY_GITLIB_H

#include <git2.h>

typedef struct {
	int (*libgit2_init)(void);
	int (*libgit2_shutdown)(void);
	int (*repository_open_ext)(git_repository **, const char *, unsigned int, const char *);
	int (*repository_is_bare)(const git_repository *);
	const char *(*repository_workdir)(const git_repository *);
	void (*repository_free)(git_repository *);
	int (*repository_head)(git_reference **, git_repository *);
	int (*status_options_init)(git_status_options *, unsigned int);
	int (*status_list_new)(git_status_list **, git_repository *, const git_status_options *);
	size_t (*status_list_entrycount)(git_status_list *);
	const git_status_entry *(*status_byindex)(git_status_list *, size_t);
	void (*status_list_free)(git_status_list *);
	int (*reference_name_to_id)(git_oid *, git_repository *, const char *);
	int (*reference_is_branch)(const git_reference *);
	const char *(*reference_shorthand)(const git_reference *);
	void (*reference_free)(git_reference *);
	char *(*oid_tostr)(char *, size_t, const git_oid *);
	/* diffs of two texts (tally diff) */
	int (*diff_options_init)(git_diff_options *, unsigned int);
	int (*patch_from_buffers)(git_patch **, const void *, size_t, const char *, const void *, size_t, const char *,
	                          const git_diff_options *);
	const git_diff_delta *(*patch_get_delta)(const git_patch *);
	int (*patch_line_stats)(size_t *, size_t *, size_t *, const git_patch *);
	int (*patch_to_buf)(git_buf *, git_patch *);
	void (*patch_free)(git_patch *);
	void (*buf_dispose)(git_buf *);
} tally_gitlib;

/* The libgit2 functions tally uses, or NULL (with a message in tally_error_last())
 * when libgit2 cannot be loaded.  Thread-safe; loads once per process. */
const tally_gitlib *tally__gitlib(void);

#endif
