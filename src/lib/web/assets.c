/*
 * The page and its assets (web/view.html, view.css, js/, vendor/), compiled
 * in by scripts/embed-assets.py: "/" is view.html, "/assets/PATH" the file
 * at web/PATH.
 */
#include "lib/web/web.h"

#include <string.h>

#include "lib/web/mhdlib.h"
#include "web-view-assets.h"

static const struct view_asset *find_asset(const char *path)
{
	for (size_t i = 0; i < sizeof view_assets / sizeof *view_assets; i++)
		if (!strcmp(view_assets[i].path, path))
			return &view_assets[i];
	return NULL;
}

int tally__web_asset(tally_web_request *req, const char *url)
{
	const struct view_asset *a = NULL;
	if (!strcmp(url, "/") || !strcmp(url, "/index.html"))
		a = find_asset("view.html");
	else if (!strncmp(url, "/assets/", 8))
		a = find_asset(url + 8);
	if (!a)
		return tally__web_send(req, 404, "text/plain; charset=utf-8", "not found\n", 10, true);
	return tally__web_send(req, 200, a->type, a->data, a->len, true);
}
