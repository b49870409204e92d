/*
 * tally view's server: libmicrohttpd with a thread per connection (an event
 * stream blocks in its own), every request checked before a route sees it:
 *
 *   - the token, when one is set (any address but loopback): ?token=, the
 *     tally_token cookie (set when a page is opened with ?token=) or an
 *     Authorization header;
 *   - on loopback, a Host that names it (a DNS-rebinding page cannot);
 *   - for a POST, the X-Tally-CSRF header and a same-origin Origin.
 *
 * Then the URL is dispatched to a route (api-*.c, events.c, assets.c).
 */
#include "lib/web/web.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "lib/web/mhdlib.h"

#define BODY_MAX (1u << 20)
#define CONNECTIONS_MAX 512
#define IDLE_TIMEOUT_S 120 /* event streams write at least every 15 s */

struct tally_view {
	tally_web_config config;
	tally_web_watch watch;
	struct MHD_Daemon *daemon;
	char *url;
};

/* A POST's body as it arrives. */
typedef struct {
	tally_buf body;
	bool too_large;
} upload;

/* ---- checks ---- */

/* Equal strings, in a time that does not depend on where they differ. */
static bool same_secret(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned char diff = la != lb;
	for (size_t i = 0; i < la && i < lb; i++)
		diff |= (unsigned char)(a[i] ^ b[i]);
	return !diff;
}

static const char *header(struct MHD_Connection *conn, enum MHD_ValueKind kind, const char *name)
{
	return tally__mhdlib()->lookup_connection_value(conn, kind, name);
}

/* Whether the request carries the token; `from_query` when it came as ?token=. */
static bool has_token(tally_web_request *req, bool *from_query)
{
	const tally_web_config *c = req->config;
	*from_query = false;
	if (!*c->token)
		return true;
	const char *q = header(req->conn, MHD_GET_ARGUMENT_KIND, "token");
	if (q && same_secret(q, c->token))
		return *from_query = true;
	const char *cookie = header(req->conn, MHD_COOKIE_KIND, "tally_token");
	if (cookie && same_secret(cookie, c->token))
		return true;
	const char *auth = header(req->conn, MHD_HEADER_KIND, "Authorization");
	return auth && !strncasecmp(auth, "token ", 6) && same_secret(auth + 6, c->token);
}

/* On loopback, the Host must be the loopback address or localhost with our port. */
static bool host_allowed(tally_web_request *req)
{
	if (!req->config->loopback)
		return true;
	const char *host = header(req->conn, MHD_HEADER_KIND, "Host");
	if (!host)
		return false;
	const char *names[] = {"127.0.0.1", "localhost", "[::1]", req->config->host};
	for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
		size_t len = strlen(names[i]);
		if (!strncasecmp(host, names[i], len) && host[len] == ':' &&
		    strtoul(host + len + 1, NULL, 10) == req->config->port &&
		    strspn(host + len + 1, "0123456789") == strlen(host + len + 1))
			return true;
	}
	return false;
}

/* A change must come from the page: its CSRF header, and no other origin. */
static bool change_allowed(tally_web_request *req)
{
	const char *csrf = header(req->conn, MHD_HEADER_KIND, "X-Tally-CSRF");
	if (!csrf || !same_secret(csrf, req->config->csrf))
		return false;
	const char *origin = header(req->conn, MHD_HEADER_KIND, "Origin");
	const char *host = header(req->conn, MHD_HEADER_KIND, "Host");
	if (!origin)
		return true; /* not a browser's cross-site request: those always say where they come from */
	return host && !strncmp(origin, "http://", 7) && !strcasecmp(origin + 7, host);
}

/* ---- dispatch ---- */

/* runs/ID/WHAT/REST: split in place (the copy is the caller's). */
static int route_run(tally_web_request *req, char *rest)
{
	char *id = rest, *what = strchr(rest, '/'), *path = NULL;
	if (what) {
		*what++ = '\0';
		if ((path = strchr(what, '/')))
			*path++ = '\0';
	}
	if (!*id)
		return tally__web_error(req, 404, "no run named");
	bool post = !strcmp(req->method, "POST");
	if (post)
		return what && !path ? tally__web_change(req, id, what) : tally__web_error(req, 404, "no such change");
	if (!what)
		return tally__web_run(req, id);
	if (path && !strcmp(what, "file"))
		return tally__web_file(req, id, path);
	if (path && !strcmp(what, "source"))
		return tally__web_source(req, id, path);
	if (!path && !strcmp(what, "scalars"))
		return tally__web_scalars(req, id);
	if (!path && !strcmp(what, "output"))
		return tally__web_output(req, id);
	if (!path && !strcmp(what, "files"))
		return tally__web_files(req, id);
	if (!path && !strcmp(what, "sources"))
		return tally__web_sources(req, id);
	return tally__web_error(req, 404, "no such route: /api/runs/%s/%s", id, what);
}

static int route_api(tally_web_request *req)
{
	const char *p = req->path;
	bool get = strcmp(req->method, "POST") != 0;
	if (!strncmp(p, "runs/", 5)) {
		char *copy = strdup(p + 5);
		int ret = copy ? route_run(req, copy) : MHD_NO;
		free(copy);
		return ret;
	}
	if (!get)
		return tally__web_error(req, 405, "only runs/ID/… take POST");
	if (!strcmp(p, "info"))
		return tally__web_info(req);
	if (!strcmp(p, "columns"))
		return tally__web_columns(req);
	if (!strcmp(p, "runs"))
		return tally__web_runs(req);
	if (!strcmp(p, "sweeps"))
		return tally__web_sweeps(req);
	if (!strncmp(p, "sweeps/", 7) && p[7] && !strchr(p + 7, '/'))
		return tally__web_sweep(req, p + 7);
	if (!strcmp(p, "diff"))
		return tally__web_diff(req);
	if (!strcmp(p, "events"))
		return tally__web_events(req);
	return tally__web_error(req, 404, "no such route: /api/%s", p);
}

/* A request whose checks passed. */
static int dispatch(tally_web_request *req, const char *url)
{
	if (!strncmp(url, "/api/", 5)) {
		req->path = url + 5;
		return route_api(req);
	}
	if (strcmp(req->method, "GET") && strcmp(req->method, "HEAD"))
		return tally__web_error(req, 405, "%s is not allowed here", req->method);
	return tally__web_asset(req, url);
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *conn, const char *url, const char *method,
                                  const char *version, const char *data, size_t *data_size, void **con_cls)
{
	tally_view *view = cls;
	bool post = !strcmp(method, "POST");
	if (post && !*con_cls) { /* the headers: refuse now, before reading a body, or wait for it */
		tally_web_request early = {.conn = conn, .config = &view->config, .method = method, .body = ""};
		bool token_in_query;
		if (!host_allowed(&early) || !has_token(&early, &token_in_query) || !change_allowed(&early))
			return tally__web_error(&early, 403, "a change needs the page's token, Host, X-Tally-CSRF header and origin") ==
			               MHD_YES
			           ? MHD_YES
			           : MHD_NO;
		upload *u = calloc(1, sizeof *u);
		if (!u)
			return MHD_NO;
		u->body = (tally_buf)TALLY_BUF_INIT;
		*con_cls = u;
		return MHD_YES;
	}
	upload *u = *con_cls;
	if (post && *data_size) {
		if (u->body.len + *data_size > BODY_MAX)
			u->too_large = true;
		else
			tally_buf_add(&u->body, data, *data_size);
		*data_size = 0;
		return MHD_YES;
	}
	tally_web_request req = {.conn = conn, .config = &view->config, .watch = &view->watch, .method = method,
	                         .body = u && u->body.ptr ? u->body.ptr : "", .body_len = u ? u->body.len : 0};
	int ret;
	bool token_in_query = false;
	if (!host_allowed(&req))
		ret = tally__web_error(&req, 403, "this server answers only to its loopback address");
	else if (!has_token(&req, &token_in_query))
		ret = tally__web_error(&req, 403, "a token is needed — open the URL `tally view` printed");
	else if (strcmp(method, "GET") && strcmp(method, "HEAD") && !post)
		ret = tally__web_error(&req, 405, "%s is not allowed", method);
	else if (post && !change_allowed(&req))
		ret = tally__web_error(&req, 403, "a change needs the page's X-Tally-CSRF header and its own origin");
	else if (u && u->too_large)
		ret = tally__web_error(&req, 413, "the body is larger than 1 MiB");
	else {
		req.set_token_cookie = token_in_query && strncmp(url, "/api/", 5);
		ret = dispatch(&req, url);
	}
	tally_store_free(req.store);
	return ret == MHD_YES ? MHD_YES : MHD_NO;
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **con_cls, enum MHD_RequestTerminationCode toe)
{
	upload *u = *con_cls;
	if (u) {
		tally_buf_release(&u->body);
		free(u);
		*con_cls = NULL;
	}
}

/* ---- starting and stopping ---- */

/* `n` random bytes as 2n hex digits into `out`. */
static int random_hex(char *out, size_t n)
{
	unsigned char bytes[32];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool ok = fd >= 0 && n <= sizeof bytes && read(fd, bytes, n) == (ssize_t)n;
	if (fd >= 0)
		close(fd);
	if (!ok)
		return tally__error_errno(TALLY_ERROR, "cannot read /dev/urandom");
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", bytes[i]);
	return 0;
}

static bool is_loopback(const struct sockaddr *sa)
{
	if (sa->sa_family == AF_INET)
		return (ntohl(((const struct sockaddr_in *)(const void *)sa)->sin_addr.s_addr) >> 24) == 127;
	if (sa->sa_family == AF_INET6)
		return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)(const void *)sa)->sin6_addr);
	return false;
}

/* Where to listen: `host` (a name or an address) and `port`, into `addr`. */
static int resolve(const char *host, unsigned port, struct sockaddr_storage *addr)
{
	struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE}, *found;
	int err = getaddrinfo(host, NULL, &hints, &found);
	if (err)
		return tally__error(TALLY_EINVALID, "--host %s: %s — give an address such as 127.0.0.1 or 0.0.0.0", host,
		                    gai_strerror(err));
	memset(addr, 0, sizeof *addr);
	memcpy(addr, found->ai_addr, found->ai_addrlen);
	freeaddrinfo(found);
	if (addr->ss_family == AF_INET)
		((struct sockaddr_in *)(void *)addr)->sin_port = htons((uint16_t)port);
	else
		((struct sockaddr_in6 *)(void *)addr)->sin6_port = htons((uint16_t)port);
	return 0;
}

static int check_token(const char *token)
{
	size_t len = strlen(token);
	if (len < 8 || len > 128 || strspn(token, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~") != len)
		return tally__error(TALLY_EINVALID, "--token: 8 to 128 letters, digits or -_.~");
	return 0;
}

static char *make_url(const tally_web_config *c, int family)
{
	tally_buf url = TALLY_BUF_INIT;
	bool v6 = family == AF_INET6 && !strchr(c->host, '[');
	tally_buf_printf(&url, "http://%s%s%s:%u/", v6 ? "[" : "", c->host, v6 ? "]" : "", c->port);
	if (*c->token)
		tally_buf_printf(&url, "?token=%s", c->token);
	return tally_buf_detach(&url);
}

static void view_free(tally_view *v)
{
	free(v->config.runs_dir);
	free(v->config.token);
	free(v->config.host);
	free(v->url);
	free(v);
}

int tally_view_start(tally_view **out, tally_store *store, const tally_view_options *opts)
{
	*out = NULL;
	tally_view_options defaults = TALLY_VIEW_OPTIONS_INIT;
	if (!opts)
		opts = &defaults;
	if (opts->version != TALLY_VIEW_OPTIONS_VERSION)
		return tally__error(TALLY_EINVALID, "tally_view_options version %u is not supported", opts->version);
	if (opts->port > 65535)
		return tally__error(TALLY_EINVALID, "--port %u: a port is 0 to 65535", opts->port);
	if (opts->token && check_token(opts->token))
		return TALLY_EINVALID;
	const tally_mhdlib *mhd = tally__mhdlib();
	if (!mhd)
		return TALLY_ERROR;
	struct sockaddr_storage addr;
	const char *host = opts->host ? opts->host : "127.0.0.1";
	int rc = resolve(host, opts->port, &addr);
	if (rc)
		return rc;
	tally_view *v = calloc(1, sizeof *v);
	if (!v)
		return tally__error_oom();
	tally_web_config *c = &v->config;
	c->loopback = is_loopback((struct sockaddr *)&addr);
	c->runs_dir = strdup(tally_store_path(store));
	c->host = strdup(host);
	c->token = strdup(opts->token ? opts->token : "");
	if (!c->runs_dir || !c->host || !c->token) {
		view_free(v);
		return tally__error_oom();
	}
	if (!opts->token && !c->loopback) { /* reachable from elsewhere: never without a token */
		free(c->token);
		c->token = calloc(1, 49);
		rc = !c->token ? tally__error_oom() : random_hex(c->token, 24);
		if (rc) {
			view_free(v);
			return rc;
		}
	}
	if ((rc = random_hex(c->csrf, 16))) {
		view_free(v);
		return rc;
	}
	/* The watcher first: a stream that connects at once waits on it. */
	if ((rc = tally__web_watch_start(&v->watch, c))) {
		view_free(v);
		return rc;
	}
	unsigned flags = MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_POLL |
	                 (addr.ss_family == AF_INET6 ? MHD_USE_IPv6 : 0);
	v->daemon = mhd->start_daemon(flags, (uint16_t)opts->port, NULL, NULL, on_request, v, MHD_OPTION_SOCK_ADDR,
	                              (struct sockaddr *)&addr, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	                              MHD_OPTION_CONNECTION_LIMIT, (unsigned)CONNECTIONS_MAX,
	                              MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)IDLE_TIMEOUT_S, MHD_OPTION_END);
	if (!v->daemon) {
		rc = tally__error(TALLY_ERROR, "cannot listen on %s port %u — is it in use? (--port N, or 0 for any free one)",
		                  host, opts->port);
		tally__web_watch_stop(&v->watch);
		view_free(v);
		return rc;
	}
	const union MHD_DaemonInfo *info = mhd->get_daemon_info(v->daemon, MHD_DAEMON_INFO_BIND_PORT);
	c->port = info ? info->port : opts->port;
	if (!(v->url = make_url(c, addr.ss_family))) {
		tally__web_watch_stop(&v->watch);
		mhd->stop_daemon(v->daemon);
		view_free(v);
		return tally__error_oom();
	}
	*out = v;
	return 0;
}

const char *tally_view_url(const tally_view *view)
{
	return view->url;
}

void tally_view_stop(tally_view *view)
{
	if (!view)
		return;
	tally__web_watch_stop(&view->watch); /* event streams see it and end */
	tally__mhdlib()->stop_daemon(view->daemon);
	pthread_cond_destroy(&view->watch.changed);
	pthread_mutex_destroy(&view->watch.lock);
	view_free(view);
}
