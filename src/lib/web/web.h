/*
 * The web view (libtally, internal): `tally view`'s server.  server.c starts
 * libmicrohttpd (mhdlib.c), checks every request (token, Host, CSRF) and
 * hands it to a route: api-runs.c (runs, a run, changes), api-data.c (a
 * run's scalars, output, files, sources), api-sweeps.c (sweeps, diffs),
 * events.c (server-sent events, the watcher thread), assets.c (the page).
 * respond.c builds the answers all of them give.  docs/view.md is the API.
 */
#ifndef TALLY_LIB_WEB_H
#define TALLY_LIB_WEB_H

#include <pthread.h>

#include "lib/report/report.h"

struct MHD_Connection;
struct MHD_Response;

/* What every request thread shares: set up by tally_view_start(), read-only after. */
typedef struct {
	char *runs_dir;
	char *token;        /* "" when none is needed */
	char csrf[33];      /* the value of X-Tally-CSRF */
	char *host;         /* as given, for the Host check */
	unsigned port;
	bool loopback;      /* bound to a loopback address: Host must name it */
} tally_web_config;

/* The watcher: a thread that syncs the index twice a second and wakes the
 * event streams when something changed (events.c). */
typedef struct {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int64_t generation; /* of the index, as last seen */
	uint64_t ticks;     /* one per look */
	bool stopping;
	pthread_t thread;
	bool started;
	const tally_web_config *config;
} tally_web_watch;

/* One request being answered. */
typedef struct {
	struct MHD_Connection *conn;
	const tally_web_config *config;
	tally_web_watch *watch;
	const char *method;
	const char *path;      /* below /api/, e.g. "runs/1/scalars" */
	const char *body;      /* a POST's body (NUL-terminated), "" otherwise */
	size_t body_len;
	tally_store *store;    /* opened on first use by tally__web_store() */
	bool set_token_cookie; /* a page opened with ?token=: remember it in a cookie */
	int status;            /* of the answer queued, for the tests of the routes */
} tally_web_request;

/* ---- answers (respond.c); each returns MHD_YES or MHD_NO ---- */

/* The security headers every answer carries; `app` the app's own CSP, else a run's file's. */
void tally__web_headers(struct MHD_Response *r, bool app);
int tally__web_send(tally_web_request *req, unsigned status, const char *type, const void *data, size_t len,
                    bool app_csp);
/* JSON text (takes `text`, which may be NULL: out of memory). */
int tally__web_json_text(tally_web_request *req, unsigned status, char *text);
/* A jansson value (takes the reference). */
int tally__web_json(tally_web_request *req, unsigned status, json_t *value);
int tally__web_error(tally_web_request *req, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* tally_error_last() with a status from a libtally result code (404 for not found…). */
int tally__web_lib_error(tally_web_request *req, int rc);
/* A string as JSON text ("…"), `len` bytes that need not be UTF-8 (U+FFFD) nor end in NUL. */
void tally__web_json_string(tally_buf *out, const char *s, size_t len);
/* A query parameter, or NULL. */
const char *tally__web_arg(tally_web_request *req, const char *name);
/* A whole-number parameter in [min, max], `fallback` when absent; -1 (and an answer sent) when bad. */
int tally__web_arg_size(tally_web_request *req, const char *name, size_t fallback, size_t min, size_t max,
                        size_t *out);
/* Whether `ref` may name a run here: an id, its prefix or random part, a name or an index —
 * never a path (tally_run_lookup() takes those too); false with a 400 answered. */
bool tally__web_run_ref_ok(tally_web_request *req, const char *ref);
/* The run `id` names in the runs directory, or in its archive when `archive` is given (the run
 * refers to *archive then: free it after the run); NULL with an answer sent when there is none. */
tally_run *tally__web_find_run(tally_web_request *req, const char *id, tally_store **archive);
/* The request's store (its own SQLite connection: requests run on threads of their own). */
tally_store *tally__web_store(tally_web_request *req);

/* ---- routes: each answers the request (api-*.c, events.c, assets.c) ---- */

int tally__web_info(tally_web_request *req);
int tally__web_columns(tally_web_request *req);
int tally__web_runs(tally_web_request *req);
/* runs/ID[/WHAT[/PATH]]: `id` and `what` ("" for the run itself), `rest` after them */
int tally__web_run(tally_web_request *req, const char *id);
int tally__web_change(tally_web_request *req, const char *id, const char *what);
int tally__web_scalars(tally_web_request *req, const char *id);
int tally__web_output(tally_web_request *req, const char *id);
int tally__web_files(tally_web_request *req, const char *id);
int tally__web_file(tally_web_request *req, const char *id, const char *path);
int tally__web_sources(tally_web_request *req, const char *id);
int tally__web_source(tally_web_request *req, const char *id, const char *path);
int tally__web_sweeps(tally_web_request *req);
int tally__web_sweep(tally_web_request *req, const char *id);
int tally__web_diff(tally_web_request *req);
int tally__web_events(tally_web_request *req);
/* GET of anything outside /api/: the page and its assets. */
int tally__web_asset(tally_web_request *req, const char *url);

/* "chunks":[…] of a run's output from byte `from` to `to` into `out`, and where the next read starts. */
int tally__web_output_json(tally_buf *out, const char *dir, uint64_t from, uint64_t to, uint64_t *next);
/* Downsample one series to at most `points` (min and max of consecutive buckets), in place; the new length. */
size_t tally__web_downsample(int64_t *step, int64_t *time, double *value, size_t n, size_t points);

/* ---- the watcher (events.c) ---- */

int tally__web_watch_start(tally_web_watch *w, const tally_web_config *config);
void tally__web_watch_stop(tally_web_watch *w);

#endif
