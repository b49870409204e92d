/*
 * Live updates: the watcher thread and the event streams (/api/events).
 *
 * One watcher syncs the index twice a second and wakes every stream; each
 * stream then sends what concerns it: "runs" when the index's generation
 * moved (a run added, changed or removed), and for a followed run its new
 * scalar points (a cursor on its log), new output (from a byte offset) and
 * its end.  A stream blocks in libmicrohttpd's content callback on its own
 * connection thread, so a tab that follows a run costs a few system calls
 * per tick and memory that does not grow with the run.
 */
#include "lib/web/web.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "lib/index/index.h"
#include "lib/web/mhdlib.h"
#include "util/timeutil.h"

#define TICK_MS 500
#define PING_MS 15000
#define POINTS_PER_EVENT 5000
#define OUTPUT_PER_EVENT (256u << 10)

/* ---- the watcher ---- */

/* `ts` set to `ms` milliseconds from now (CLOCK_REALTIME, as condition variables use by default). */
static void deadline(struct timespec *ts, long ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

static void *watch_main(void *arg)
{
	tally_web_watch *w = arg;
	tally_store *store = NULL;
	if (tally_store_open(&store, w->config->runs_dir))
		store = NULL;
	pthread_mutex_lock(&w->lock);
	while (!w->stopping) {
		pthread_mutex_unlock(&w->lock);
		int64_t generation = -1;
		if (store && tally_store_sync(store, 0, NULL) == 0)
			generation = tally__index_generation(store);
		pthread_mutex_lock(&w->lock);
		if (generation >= 0)
			w->generation = generation;
		w->ticks++;
		pthread_cond_broadcast(&w->changed);
		struct timespec until;
		deadline(&until, TICK_MS);
		while (!w->stopping && pthread_cond_timedwait(&w->changed, &w->lock, &until) != ETIMEDOUT) {
			/* woken by a stream's own wait on the same condition: keep sleeping */
		}
	}
	pthread_mutex_unlock(&w->lock);
	tally_store_free(store);
	return NULL;
}

int tally__web_watch_start(tally_web_watch *w, const tally_web_config *config)
{
	pthread_mutex_init(&w->lock, NULL);
	pthread_cond_init(&w->changed, NULL);
	w->config = config;
	w->generation = -1;
	if (pthread_create(&w->thread, NULL, watch_main, w))
		return tally__error(TALLY_ERROR, "cannot start the watcher thread");
	w->started = true;
	return 0;
}

void tally__web_watch_stop(tally_web_watch *w)
{
	if (!w->started)
		return;
	pthread_mutex_lock(&w->lock);
	w->stopping = true;
	pthread_cond_broadcast(&w->changed);
	pthread_mutex_unlock(&w->lock);
	pthread_join(w->thread, NULL);
	w->started = false;
}

/* ---- one event stream ---- */

typedef struct {
	tally_web_watch *watch;
	tally_buf pending;        /* text not yet handed to libmicrohttpd */
	size_t sent;              /* … of which this much was */
	uint64_t tick;            /* the watcher's tick last acted on */
	int64_t generation;       /* the last one announced */
	int64_t last_write_ms;
	/* the followed run, if any */
	tally_store *store;
	tally_run *run;
	tally_scalar_cursor *cursor;
	uint64_t points_seen, points_skip;
	uint64_t output_next;
	bool ended;
} event_stream;

static void add_event(event_stream *s, const char *name, const char *data)
{
	tally_buf_printf(&s->pending, "event: %s\ndata: %s\n\n", name, data);
}

typedef struct {
	event_stream *s;
	tally_buf data;
	size_t n;
} points_event;

static int add_point(void *ctx, const char *tag, int64_t step, double value, int64_t time_ms)
{
	points_event *e = ctx;
	if (e->s->points_seen++ < e->s->points_skip)
		return 0; /* the page has it from /api/runs/ID/scalars */
	char text[40];
	tally_format_double(text, sizeof text, value);
	tally_buf_adds(&e->data, e->n++ ? ",{\"tag\":" : "{\"tag\":");
	tally__web_json_string(&e->data, tag, strlen(tag));
	tally_buf_printf(&e->data, ",\"step\":%lld,\"value\":%s,\"time\":%lld}", (long long)step,
	                 isfinite(value) ? text : "null", (long long)time_ms);
	/* enough for one event: stopping here, the cursor keeps the points after this one for the next */
	return e->n == POINTS_PER_EVENT;
}

/* New points since the last look, at most POINTS_PER_EVENT; true when more are waiting. */
static bool send_points(event_stream *s)
{
	points_event e = {s, TALLY_BUF_INIT, 0};
	tally_buf_adds(&e.data, "{\"points\":[");
	tally_scalar_cursor_next(s->cursor, add_point, &e);
	tally_buf_adds(&e.data, "]}");
	if (e.n && !tally_buf_oom(&e.data))
		add_event(s, "scalars", e.data.ptr);
	tally_buf_release(&e.data);
	return e.n == POINTS_PER_EVENT;
}

/* New output since the last look; true when there is more than one event's worth. */
static bool send_output(event_stream *s)
{
	tally_buf path = TALLY_BUF_INIT;
	tally_buf_printf(&path, "%s/" TALLY_META_DIR "/output", tally_run_dir(s->run));
	struct stat st;
	bool grown = !tally_buf_oom(&path) && stat(path.ptr, &st) == 0 && (uint64_t)st.st_size > s->output_next;
	tally_buf_release(&path);
	if (!grown)
		return false;
	tally_buf data = TALLY_BUF_INIT;
	uint64_t next;
	tally_buf_addc(&data, '{');
	tally__web_output_json(&data, tally_run_dir(s->run), s->output_next, s->output_next + OUTPUT_PER_EVENT, &next);
	tally_buf_printf(&data, ",\"next\":%llu}", (unsigned long long)next);
	if (next > s->output_next && !tally_buf_oom(&data))
		add_event(s, "output", data.ptr);
	tally_buf_release(&data);
	bool more = next > s->output_next && (uint64_t)st.st_size > next;
	s->output_next = next;
	return more;
}

/* The run ended: its truthful status, once everything it recorded was sent. */
static void send_end(event_stream *s)
{
	tally_run *fresh = NULL;
	if (tally_run_lookup(&fresh, s->store, tally_run_dir(s->run)))
		return; /* removed meanwhile: nothing to say */
	json_t *o = json_object();
	json_object_set_new(o, "status", json_string(tally_run_status(fresh)));
	int exit_status = tally_run_exit_status(fresh);
	json_object_set_new(o, "exit_status", exit_status >= 0 ? json_integer(exit_status) : json_null());
	char *text = json_dumps(o, JSON_COMPACT);
	if (text)
		add_event(s, "status", text);
	free(text);
	json_decref(o);
	tally_run_free(fresh);
	s->ended = true;
}

/* One look at everything the stream follows; true when more is waiting already. */
static bool look(event_stream *s, int64_t generation)
{
	if (generation >= 0 && generation != s->generation) {
		char data[64];
		snprintf(data, sizeof data, "{\"generation\":%lld}", (long long)generation);
		add_event(s, "runs", data);
		s->generation = generation;
	}
	if (!s->run || s->ended)
		return false;
	bool live = tally_run_is_live(s->run); /* before reading: what a dead run wrote is all there */
	bool more = send_points(s);
	more = send_output(s) || more;
	if (!live && !more)
		send_end(s);
	return more;
}

static ssize_t read_events(void *cls, uint64_t pos, char *buf, size_t max)
{
	event_stream *s = cls;
	tally_web_watch *w = s->watch;
	bool more = false;
	while (s->sent == s->pending.len) {
		tally_buf_clear(&s->pending);
		s->sent = 0;
		pthread_mutex_lock(&w->lock);
		struct timespec until;
		deadline(&until, 1000);
		while (!more && !w->stopping && w->ticks == s->tick &&
		       pthread_cond_timedwait(&w->changed, &w->lock, &until) != ETIMEDOUT) {
		}
		bool stopping = w->stopping;
		int64_t generation = w->generation;
		s->tick = w->ticks;
		pthread_mutex_unlock(&w->lock);
		if (stopping)
			return MHD_CONTENT_READER_END_OF_STREAM;
		more = look(s, generation);
		int64_t now = tally_now_ms();
		if (!s->pending.len && now - s->last_write_ms >= PING_MS)
			tally_buf_adds(&s->pending, ": ping\n\n"); /* a write: a closed tab is noticed */
		if (tally_buf_oom(&s->pending))
			return MHD_CONTENT_READER_END_WITH_ERROR;
	}
	size_t n = s->pending.len - s->sent < max ? s->pending.len - s->sent : max;
	memcpy(buf, s->pending.ptr + s->sent, n);
	s->sent += n;
	s->last_write_ms = tally_now_ms();
	return (ssize_t)n;
}

static void free_stream(void *cls)
{
	event_stream *s = cls;
	tally_scalar_cursor_free(s->cursor);
	tally_run_free(s->run);
	tally_store_free(s->store);
	tally_buf_release(&s->pending);
	free(s);
}

/* Follow the run `ref`: its store, the run, a cursor on its scalars. */
static int follow(tally_web_request *req, event_stream *s, const char *ref)
{
	size_t points_from, output_from;
	if (!tally__web_run_ref_ok(req, ref) ||
	    tally__web_arg_size(req, "scalars_from", 0, 0, SIZE_MAX / 2, &points_from) ||
	    tally__web_arg_size(req, "output_from", 0, 0, SIZE_MAX / 2, &output_from))
		return 1;
	int rc = tally_store_open(&s->store, req->config->runs_dir);
	if (!rc)
		rc = tally_run_lookup(&s->run, s->store, ref);
	if (!rc)
		rc = tally_run_scalar_cursor(&s->cursor, s->run);
	if (rc) {
		tally__web_lib_error(req, rc);
		return 1;
	}
	s->points_skip = points_from;
	s->output_next = output_from;
	return 0;
}

int tally__web_events(tally_web_request *req)
{
	event_stream *s = calloc(1, sizeof *s);
	if (!s)
		return MHD_NO;
	s->watch = req->watch;
	s->pending = (tally_buf)TALLY_BUF_INIT;
	s->generation = -1;
	s->last_write_ms = tally_now_ms();
	const char *ref = tally__web_arg(req, "run");
	if (ref && follow(req, s, ref)) {
		free_stream(s);
		return MHD_YES; /* answered */
	}
	tally_buf_adds(&s->pending, "retry: 2000\n\n");
	const tally_mhdlib *mhd = tally__mhdlib();
	struct MHD_Response *r = mhd->create_response_from_callback(MHD_SIZE_UNKNOWN, 16 * 1024, read_events, s, free_stream);
	if (!r) {
		free_stream(s);
		return MHD_NO;
	}
	tally__web_headers(r, true);
	mhd->add_response_header(r, "Content-Type", "text/event-stream; charset=utf-8");
	mhd->add_response_header(r, "Cache-Control", "no-store");
	mhd->add_response_header(r, "X-Accel-Buffering", "no");
	req->status = 200;
	int ret = mhd->queue_response(req->conn, 200, r);
	mhd->destroy_response(r);
	return ret;
}
