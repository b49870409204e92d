#include "lib/run/gitlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stddef.h>

#include "lib/run/run.h"

#ifndef TALLY_LIBGIT2_SONAME
#define TALLY_LIBGIT2_SONAME "libgit2.so"
#endif

static tally_gitlib table;
static const tally_gitlib *loaded;
static char load_error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* dlsym() hands back void *; POSIX guarantees it converts to a function pointer. */
#define BIND(field, symbol)                                           \
	do {                                                              \
		void *sym = dlsym(handle, symbol);                            \
		if (!sym)                                                     \
			goto missing;                                             \
		*(void **)(&table.field) = sym;                               \
	} while (0)

static void load(void)
{
	/* Only the ABI tally was compiled against: another major version's
	 * structs (git_status_options…) could differ. */
	void *handle = dlopen(TALLY_LIBGIT2_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(load_error, sizeof load_error, "cannot load libgit2 (%s)", dlerror());
		return;
	}
	BIND(libgit2_init, "git_libgit2_init");
	BIND(libgit2_shutdown, "git_libgit2_shutdown");
	BIND(repository_open_ext, "git_repository_open_ext");
	BIND(repository_is_bare, "git_repository_is_bare");
	BIND(repository_workdir, "git_repository_workdir");
	BIND(repository_free, "git_repository_free");
	BIND(repository_head, "git_repository_head");
	BIND(status_options_init, "git_status_options_init");
	BIND(status_list_new, "git_status_list_new");
	BIND(status_list_entrycount, "git_status_list_entrycount");
	BIND(status_byindex, "git_status_byindex");
	BIND(status_list_free, "git_status_list_free");
	BIND(reference_name_to_id, "git_reference_name_to_id");
	BIND(reference_is_branch, "git_reference_is_branch");
	BIND(reference_shorthand, "git_reference_shorthand");
	BIND(reference_free, "git_reference_free");
	BIND(oid_tostr, "git_oid_tostr");
	BIND(diff_options_init, "git_diff_options_init");
	BIND(patch_from_buffers, "git_patch_from_buffers");
	BIND(patch_get_delta, "git_patch_get_delta");
	BIND(patch_line_stats, "git_patch_line_stats");
	BIND(patch_to_buf, "git_patch_to_buf");
	BIND(patch_free, "git_patch_free");
	BIND(buf_dispose, "git_buf_dispose");
	loaded = &table;
	return;
missing:
	snprintf(load_error, sizeof load_error, "the libgit2 found lacks a function tally needs (%s)", dlerror());
	dlclose(handle);
}

const tally_gitlib *tally__gitlib(void)
{
	pthread_once(&once, load);
	if (!loaded)
		tally__error(TALLY_ERROR, "%s", load_error);
	return loaded;
}
