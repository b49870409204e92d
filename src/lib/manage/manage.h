/*
 * Changing runs as wholes (libtally, internal): moving them into the archive
 * and back, removing and stopping them (manage.c), claiming run names, and
 * export, import and copy (transfer.c, through libarchive: archivelib.h).
 */
#ifndef TALLY_LIB_MANAGE_H
#define TALLY_LIB_MANAGE_H

#include "lib/index/index.h"

/* Claim `name` for a run about to be created in `store`: the name's lock
 * (names.c) is taken, and with `replace` the run holding the name is first
 * archived; released by closing `*lock_fd` once the new run's run.json is
 * written.  TALLY_EEXISTS when the name is taken and not `replace`. */
int tally__name_claim(tally_store *store, const char *name, bool replace, int *lock_fd);

#endif
