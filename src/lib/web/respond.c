/*
 * Answers of the web view: every one with the same security headers, JSON
 * built by jansson or as text, errors as {"error": …}, and the request's
 * parameters, store and run (one finder for every route).
 */
#include "lib/web/web.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "lib/web/mhdlib.h"

/* The app's pages load only their own scripts, styles and images, and
 * nothing may frame them.  A run's files get a sandbox of their own, so
 * that HTML or SVG a run wrote never runs with the app's origin. */
#define APP_CSP                                                                                               \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';" \
	" object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
#define FILE_CSP "sandbox; default-src 'none'; img-src 'self'; style-src 'unsafe-inline'"

void tally__web_headers(struct MHD_Response *r, bool app)
{
	const tally_mhdlib *mhd = tally__mhdlib();
	mhd->add_response_header(r, "X-Content-Type-Options", "nosniff");
	mhd->add_response_header(r, "Referrer-Policy", "no-referrer");
	mhd->add_response_header(r, "X-Frame-Options", "DENY");
	mhd->add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
	mhd->add_response_header(r, "Content-Security-Policy", app ? APP_CSP : FILE_CSP);
}

int tally__web_send(tally_web_request *req, unsigned status, const char *type, const void *data, size_t len,
                    bool app_csp)
{
	const tally_mhdlib *mhd = tally__mhdlib();
	struct MHD_Response *r = mhd->create_response_from_buffer(len, (void *)data, MHD_RESPMEM_MUST_COPY);
	if (!r)
		return MHD_NO;
	tally__web_headers(r, app_csp);
	mhd->add_response_header(r, "Content-Type", type);
	mhd->add_response_header(r, "Cache-Control", "no-store");
	if (req->set_token_cookie) {
		tally_buf cookie = TALLY_BUF_INIT;
		tally_buf_printf(&cookie, "tally_token=%s; Path=/; HttpOnly; SameSite=Strict", req->config->token);
		if (!tally_buf_oom(&cookie))
			mhd->add_response_header(r, "Set-Cookie", cookie.ptr);
		tally_buf_release(&cookie);
	}
	req->status = (int)status;
	int ret = mhd->queue_response(req->conn, status, r);
	mhd->destroy_response(r);
	return ret;
}

int tally__web_json_text(tally_web_request *req, unsigned status, char *text)
{
	if (!text)
		return tally__web_send(req, 500, "application/json", "{\"error\":\"out of memory\"}", 25, true);
	int ret = tally__web_send(req, status, "application/json; charset=utf-8", text, strlen(text), true);
	free(text);
	return ret;
}

int tally__web_json(tally_web_request *req, unsigned status, json_t *value)
{
	char *text = value ? json_dumps(value, JSON_COMPACT | JSON_PRESERVE_ORDER | TALLY_JSON_REALS) : NULL;
	json_decref(value);
	return tally__web_json_text(req, status, text);
}

int tally__web_error(tally_web_request *req, unsigned status, const char *fmt, ...)
{
	tally_buf msg = TALLY_BUF_INIT;
	va_list ap;
	va_start(ap, fmt);
	tally_buf_vprintf(&msg, fmt, ap);
	va_end(ap);
	json_t *o = json_object();
	json_object_set_new(o, "error", tally__json_text(msg.ptr ? msg.ptr : "error"));
	tally_buf_release(&msg);
	return tally__web_json(req, status, o);
}

int tally__web_lib_error(tally_web_request *req, int rc)
{
	unsigned status = rc == TALLY_ENOTFOUND                        ? 404
	                  : rc == TALLY_EINVALID || rc == TALLY_EAMBIGUOUS ? 400
	                  : rc == TALLY_ELOCKED || rc == TALLY_EEXISTS     ? 409
	                                                                   : 500;
	return tally__web_error(req, status, "%s", tally_error_last());
}

/* The length of the valid UTF-8 sequence at `s` (at most `left` bytes), 0 when there is none. */
static size_t utf8_sequence(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n = c < 0x80 ? 1 : (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
	if (!n || n > left || (n == 2 && c < 0xC2) || (n == 4 && c > 0xF4))
		return 0;
	for (size_t i = 1; i < n; i++)
		if ((s[i] & 0xC0) != 0x80)
			return 0;
	if (n == 3 && ((c == 0xE0 && s[1] < 0xA0) || (c == 0xED && s[1] >= 0xA0)))
		return 0; /* overlong, or a surrogate */
	if (n == 4 && ((c == 0xF0 && s[1] < 0x90) || (c == 0xF4 && s[1] >= 0x90)))
		return 0;
	return n;
}

void tally__web_json_string(tally_buf *out, const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s, *end = p + len;
	tally_buf_addc(out, '"');
	while (p < end) {
		const unsigned char *run = p; /* bytes that go as they are */
		while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\' && *p != '<')
			p++;
		tally_buf_add(out, run, (size_t)(p - run));
		if (p == end)
			break;
		if (*p >= 0x80) {
			size_t n = utf8_sequence(p, (size_t)(end - p));
			if (n)
				tally_buf_add(out, p, n);
			else
				tally_buf_adds(out, "\\ufffd");
			p += n ? n : 1;
			continue;
		}
		switch (*p) {
		case '"': tally_buf_adds(out, "\\\""); break;
		case '\\': tally_buf_adds(out, "\\\\"); break;
		case '\n': tally_buf_adds(out, "\\n"); break;
		case '\r': tally_buf_adds(out, "\\r"); break;
		case '\t': tally_buf_adds(out, "\\t"); break;
		/* '<' as an escape: the JSON stays inert even if something renders it as HTML */
		default: tally_buf_printf(out, "\\u%04x", *p); break;
		}
		p++;
	}
	tally_buf_addc(out, '"');
}

const char *tally__web_arg(tally_web_request *req, const char *name)
{
	const char *v = tally__mhdlib()->lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND, name);
	return v && *v ? v : NULL;
}

int tally__web_arg_size(tally_web_request *req, const char *name, size_t fallback, size_t min, size_t max,
                        size_t *out)
{
	const char *v = tally__web_arg(req, name);
	*out = fallback;
	if (!v)
		return 0;
	char *end;
	errno = 0;
	unsigned long long n = strtoull(v, &end, 10);
	if (*v == '-' || *end || errno || n < min || n > max) {
		tally__web_error(req, 400, "parameter %s=%s is not a whole number from %zu to %zu", name, v, min, max);
		return -1;
	}
	*out = (size_t)n;
	return 0;
}

bool tally__web_run_ref_ok(tally_web_request *req, const char *ref)
{
	if (*ref && !strchr(ref, '/') && strcmp(ref, ".") && strcmp(ref, ".."))
		return true;
	tally__web_error(req, 400, "'%s' is not a run id, name or index", ref);
	return false;
}

/* The run `id` names in the runs directory, or in its archive (`*archive`
 * set: the run refers to it, free it after the run); an answer sent when none. */
tally_run *tally__web_find_run(tally_web_request *req, const char *id, tally_store **archive)
{
	if (!tally__web_run_ref_ok(req, id))
		return NULL;
	tally_store *store = tally__web_store(req);
	if (!store) {
		tally__web_lib_error(req, TALLY_ERROR);
		return NULL;
	}
	int rc = archive ? tally_store_open_archive(archive, store) : 0;
	tally_run *run = NULL;
	if (!rc)
		rc = tally_run_lookup(&run, archive ? *archive : store, id);
	if (rc)
		tally__web_lib_error(req, rc);
	return rc ? NULL : run;
}

tally_store *tally__web_store(tally_web_request *req)
{
	if (!req->store && tally_store_open(&req->store, req->config->runs_dir))
		req->store = NULL;
	return req->store;
}
