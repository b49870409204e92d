#include "lib/manage/archivelib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "lib/manage/manage.h"

#ifndef TALLY_LIBARCHIVE_SONAME
#define TALLY_LIBARCHIVE_SONAME "libarchive.so"
#endif

static tally_archivelib table;
static const tally_archivelib *loaded;
static char load_error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *handle = dlopen(TALLY_LIBARCHIVE_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(load_error, sizeof load_error, "cannot load libarchive (%s) — install Debian's libarchive13",
		         dlerror());
		return;
	}
	void *sym;
	/* dlsym() hands back void *; POSIX guarantees it converts to a function pointer. */
#define TALLY_ARCHIVE_BIND(name)                   \
	if (!(sym = dlsym(handle, "archive_" #name))) \
		goto missing;                              \
	*(void **)(&table.name) = sym;
	TALLY_ARCHIVE_FUNCTIONS(TALLY_ARCHIVE_BIND)
#undef TALLY_ARCHIVE_BIND
	loaded = &table;
	return;
missing:
	snprintf(load_error, sizeof load_error, "the libarchive found lacks a function tally needs (%s)", dlerror());
	dlclose(handle);
}

const tally_archivelib *tally__archivelib(void)
{
	pthread_once(&once, load);
	if (!loaded)
		tally__error(TALLY_ERROR, "%s", load_error);
	return loaded;
}
