/*
 * Annotating runs after the fact: label, tags, mark, comments.
 *
 * Every edit is a read-modify-write of run.json under an flock on
 * .tally/edit.lock, so edits from several processes at once are all kept
 * (the run's own lock is held by its supervisor for its whole life, so it
 * cannot serve).  The supervisor of a running run takes the same lock for
 * its final write and keeps what was edited meanwhile
 * (tally__meta_merge_annotations).  The index hears of the change through
 * its pending list, so queries see it at once.
 */
#include "lib/run/run.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include "util/timeutil.h"

typedef int (*meta_change)(json_t *meta, const void *arg);

/* Apply `change` to the run's run.json as it is on disk now, atomically and under the edit lock. */
static int edit(tally_run *run, meta_change change, const void *arg)
{
	int lock = tally__meta_edit_lock(run->dir);
	if (lock < 0)
		return tally__error_errno(TALLY_ERROR, "cannot lock run %s for editing", run->id);
	json_t *meta = NULL;
	int rc = tally__meta_load(&meta, run->dir, run->store->host);
	if (!rc)
		rc = change(meta, arg);
	if (!rc)
		rc = tally__meta_save(run->dir, meta, TALLY_DURABLE);
	close(lock);
	if (rc) {
		json_decref(meta);
		return rc;
	}
	json_decref(run->meta);
	run->meta = meta;
	free(run->json_text);
	run->json_text = NULL;
	tally__run_refresh_fields(run);
	const char *name = strrchr(run->dir, '/');
	tally__store_note_changed_run(run->store, name ? name + 1 : run->dir);
	tally__store_touch(run->store);
	return 0;
}

/* Labels and tags are one line of text: no control characters (a terminal would obey them). */
static int check_line(const char *what, const char *text)
{
	int rc = tally__check_text(what, text);
	if (rc)
		return rc;
	for (const unsigned char *p = (const unsigned char *)text; *p; p++)
		if (*p < 0x20 || *p == 0x7f)
			return tally__error(TALLY_EINVALID, "%s cannot hold control characters (byte 0x%02x)", what, *p);
	return 0;
}

/* ---- label ---- */

static int change_label(json_t *meta, const void *arg)
{
	const char *label = arg;
	if (label && *label)
		json_object_set_new(meta, "label", tally__json_text(label));
	else
		json_object_del(meta, "label");
	return 0;
}

int tally_run_set_label(tally_run *run, const char *label)
{
	int rc = label ? check_line("the label", label) : 0;
	return rc ? rc : edit(run, change_label, label);
}

/* ---- tags ---- */

typedef struct {
	const char *const *add, *const *remove;
} tag_change;

static bool has_tag(json_t *tags, const char *tag)
{
	size_t i;
	json_t *t;
	json_array_foreach(tags, i, t) if (json_is_string(t) && !strcmp(json_string_value(t), tag)) return true;
	return false;
}

static int change_tags(json_t *meta, const void *arg)
{
	const tag_change *c = arg;
	json_t *tags = json_object_get(meta, "tags");
	if (!json_is_array(tags)) {
		tags = json_array();
		json_object_set_new(meta, "tags", tags);
	}
	for (const char *const *t = c->remove; t && *t; t++)
		for (size_t i = json_array_size(tags); i-- > 0;)
			if (json_is_string(json_array_get(tags, i)) && !strcmp(json_string_value(json_array_get(tags, i)), *t))
				json_array_remove(tags, i);
	for (const char *const *t = c->add; t && *t; t++)
		if (!has_tag(tags, *t))
			json_array_append_new(tags, tally__json_text(*t));
	return 0;
}

int tally_run_change_tags(tally_run *run, const char *const *add, const char *const *remove)
{
	for (const char *const *t = add; t && *t; t++) {
		int rc = check_line("a tag", *t);
		if (rc)
			return rc;
		if (!**t)
			return tally__error(TALLY_EINVALID, "a tag cannot be empty");
	}
	tag_change c = {add, remove};
	return edit(run, change_tags, &c);
}

/* ---- mark ---- */

static int change_mark(json_t *meta, const void *arg)
{
	if (*(const bool *)arg)
		json_object_set_new(meta, "marked", json_true());
	else
		json_object_del(meta, "marked");
	return 0;
}

int tally_run_set_marked(tally_run *run, int marked)
{
	bool m = marked != 0;
	return edit(run, change_mark, &m);
}

/* ---- comments ---- */

typedef struct {
	const char *text;
	const char *user, *host;
	size_t delete_index;  /* 1-based; 0 = add `text` */
} comment_change;

static int change_comments(json_t *meta, const void *arg)
{
	const comment_change *c = arg;
	json_t *list = json_object_get(meta, "comments");
	if (c->delete_index) {
		if (!json_is_array(list) || c->delete_index > json_array_size(list))
			return tally__error(TALLY_ENOTFOUND, "run %s has no comment %zu — see `tally comment --list`",
			                    json_is_string(json_object_get(meta, "id")) ? json_string_value(json_object_get(meta, "id"))
			                                                                : "(without an id)",
			                    c->delete_index);
		json_array_remove(list, c->delete_index - 1);
		return 0;
	}
	if (!json_is_array(list)) {
		list = json_array();
		json_object_set_new(meta, "comments", list);
	}
	char iso[40];
	tally_format_iso_ms(iso, sizeof iso, tally_now_ms());
	json_t *entry = json_object();
	json_object_set_new(entry, "text", tally__json_text(c->text));
	json_object_set_new(entry, "user", tally__json_text(c->user));
	json_object_set_new(entry, "host", tally__json_text(c->host));
	json_object_set_new(entry, "time", json_string(iso));
	json_array_append_new(list, entry);
	return 0;
}

int tally_run_add_comment(tally_run *run, const char *text)
{
	int rc = tally__check_text("the comment", text);
	if (rc)
		return rc;
	if (!*text)
		return tally__error(TALLY_EINVALID, "a comment cannot be empty");
	const char *user = tally__user_name();
	comment_change c = {text, user ? user : "unknown", run->store->host, 0};
	return edit(run, change_comments, &c);
}

int tally_run_delete_comment(tally_run *run, size_t index)
{
	if (index == 0)
		return tally__error(TALLY_EINVALID, "comments are numbered from 1");
	comment_change c = {NULL, NULL, NULL, index};
	return edit(run, change_comments, &c);
}
