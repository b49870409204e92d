/*
 * What every part of libtally shares (never installed): the last error and
 * JSON helpers.  Public names are tally_*; cross-file internals tally__*.
 *
 * libtally is layered (docs/architecture.md): core, slurm, scalars, flags, store,
 * run, index, manage, launch, sweep, report; each folder of src/lib includes
 * and calls only its own and the layers before it (tests/check-layers.py).
 */
#ifndef TALLY_LIB_CORE_H
#define TALLY_LIB_CORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "tally.h"
#include "util/buf.h"
#include "util/fsutil.h"
#include "util/strlist.h"

/* Reals with 15 significant digits: 0.1 stays "0.1", and any decimal a user
 * or a script wrote with up to 15 digits reads back exactly. */
#define TALLY_JSON_REALS JSON_REAL_PRECISION(15)

/* A run directory keeps tally's files in this subfolder (docs/run-format.md). */
#define TALLY_META_DIR ".tally"
/* run.json's "format": 2 since scalar logs are blocks (format-1 runs read the same). */
#define TALLY_RUN_FORMAT 2
/* Room for a run id and its NUL. */
#define TALLY_ID_MAX 64

/* ---- errors (error.c) ---- */

/* Set the thread's last error and return `code`, so `return tally__error(...)` reads well. */
int tally__error(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Same, with ": <strerror(errno)>" appended. */
int tally__error_errno(int code, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int tally__error_oom(void);

/* A JSON string for text from the system (paths, argv, environment): bytes
 * that are not UTF-8 become U+FFFD, since JSON cannot hold them. */
json_t *tally__json_text(const char *s);
/* "int", "float", "bool", "string" or "null": a value's type as run.json's
 * flag_types and the index name it (NULL is "null"). */
const char *tally__json_type_name(const json_t *v);
/* TALLY_EINVALID unless `value` is UTF-8 text; `what` names it in the message. */
int tally__check_text(const char *what, const char *value);

#endif
