#include "lib/web/mhdlib.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#include "lib/web/web.h"

#ifndef TALLY_LIBMICROHTTPD_SONAME
#define TALLY_LIBMICROHTTPD_SONAME "libmicrohttpd.so"
#endif

static tally_mhdlib table;
static const tally_mhdlib *loaded;
static char load_error[512];
static pthread_once_t once = PTHREAD_ONCE_INIT;

static void load(void)
{
	void *handle = dlopen(TALLY_LIBMICROHTTPD_SONAME, RTLD_NOW | RTLD_LOCAL);
	if (!handle) {
		snprintf(load_error, sizeof load_error,
		         "cannot load libmicrohttpd (%s) — install Debian's libmicrohttpd12", dlerror());
		return;
	}
	void *sym;
	/* dlsym() hands back void *; POSIX guarantees it converts to a function pointer. */
#define TALLY_MHD_BIND(name)                   \
	if (!(sym = dlsym(handle, "MHD_" #name))) \
		goto missing;                          \
	*(void **)(&table.name) = sym;
	TALLY_MHD_FUNCTIONS(TALLY_MHD_BIND)
#undef TALLY_MHD_BIND
	loaded = &table;
	return;
missing:
	snprintf(load_error, sizeof load_error, "the libmicrohttpd found lacks a function tally needs (%s)", dlerror());
	dlclose(handle);
}

const tally_mhdlib *tally__mhdlib(void)
{
	pthread_once(&once, load);
	if (!loaded)
		tally__error(TALLY_ERROR, "%s", load_error);
	return loaded;
}
