/*
 * call.c: reconctl's one path to a daemon: JSON request -> msgpack ->
 * ctl socket -> msgpack reply -> JSON; and its output helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnt.h"
#include "ctl.h"
#include "nngx.h"
#include "wirejson.h"

json_object *
ctl_req(const char *t)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "t", json_object_new_string(t));
	return o;
}

static const char *
ctl_url(const char *proc, char *buf, size_t len)
{
	const char *url = NULL;
	char name[64];

	if (strcmp(proc, "store") == 0)
		url = ctl_opts.store_url;
	else if (strcmp(proc, "lister") == 0)
		url = ctl_opts.lister_url;
	else if (strcmp(proc, "dispatcher") == 0)
		url = ctl_opts.dispatcher_url;
	snprintf(name, sizeof(name), "%s.ctl", proc);
	if (nngx_url(buf, len, url, ctl_opts.run_dir, name) < 0)
		return NULL;
	return buf;
}

int
ctl_call(const char *proc, json_object *req, json_object **reply)
{
	struct wbuf out = {0}, in = {0};
	char url[4200], err[256], werr[WIRE_ERR_LEN];
	json_object *r, *ok, *e, *code, *msg;
	int rc;

	*reply = NULL;
	if (ctl_url(proc, url, sizeof(url)) == NULL) {
		fprintf(stderr, "reconctl: run dir path too long\n");
		json_object_put(req);
		return CTL_EXIT_USAGE;
	}
	if (wire_from_json(&out, req) < 0) {
		fprintf(stderr, "reconctl: request nested too deeply\n");
		json_object_put(req);
		wbuf_free(&out);
		return CTL_EXIT_USAGE;
	}
	json_object_put(req);
	rc = clnt_call(url, &out, ctl_opts.timeout_ms, &in, err, sizeof(err));
	wbuf_free(&out);
	if (rc != CLNT_OK) {
		fprintf(stderr, "reconctl: %s unreachable: %s\n", proc, err);
		wbuf_free(&in);
		return CTL_EXIT_UNREACHABLE;
	}
	r = wire_to_json(in.data, in.len, werr);
	wbuf_free(&in);
	if (r == NULL) {
		fprintf(stderr, "reconctl: bad reply from %s: %s\n", proc,
		        werr);
		return CTL_EXIT_UNREACHABLE;
	}
	if (!json_object_object_get_ex(r, "ok", &ok) ||
	    !json_object_get_boolean(ok)) {
		code = msg = NULL;
		if (json_object_object_get_ex(r, "error", &e)) {
			json_object_object_get_ex(e, "code", &code);
			json_object_object_get_ex(e, "message", &msg);
		}
		if (ctl_opts.json)
			ctl_print_json(r);
		fprintf(stderr, "reconctl: %s: %s\n",
		        code ? json_object_get_string(code) : "error",
		        msg ? json_object_get_string(msg) : "request refused");
		json_object_put(r);
		return CTL_EXIT_NO;
	}
	*reply = r;
	return CTL_EXIT_OK;
}

void
ctl_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

json_object *
ctl_read_json(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	json_tokener *tok;
	json_object *o = NULL;
	enum json_tokener_error jerr = json_tokener_continue;
	char buf[65536];
	size_t n;

	if (f == NULL) {
		fprintf(stderr, "reconctl: unable to open %s: %s\n", path,
		        strerror(errno));
		return NULL;
	}
	tok = json_tokener_new_ex(32);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		o = json_tokener_parse_ex(tok, buf, (int)n);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_continue)
			break;
	}
	if (f != stdin)
		fclose(f);
	if (o == NULL || jerr != json_tokener_success) {
		fprintf(stderr, "reconctl: unable to parse %s: %s\n", path,
		        jerr == json_tokener_continue
		            ? "unexpected end of input"
		            : json_tokener_error_desc(jerr));
		json_object_put(o);
		o = NULL;
	} else if (!json_object_is_type(o, json_type_object)) {
		fprintf(stderr, "reconctl: %s: expected a JSON object\n", path);
		json_object_put(o);
		o = NULL;
	}
	json_tokener_free(tok);
	return o;
}

void
ctl_table(json_object *arr, const struct ctl_col *cols, int ncols)
{
	size_t n = json_object_array_length(arr), i;
	int c, w[16] = {0};
	char cell[512];
	json_object *v;

	for (c = 0; c < ncols; c++)
		w[c] = (int)strlen(cols[c].title);
	/* two passes: widths, then rows */
	for (int pass = 0; pass < 2; pass++) {
		if (pass == 1) {
			for (c = 0; c < ncols; c++)
				printf("%-*s%s", c == ncols - 1 ? 0 : w[c],
				       cols[c].title,
				       c == ncols - 1 ? "\n" : "  ");
		}
		for (i = 0; i < n; i++) {
			json_object *o = json_object_array_get_idx(arr, i);
			for (c = 0; c < ncols; c++) {
				cell[0] = '\0';
				if (cols[c].fmt)
					cols[c].fmt(o, cell, sizeof(cell));
				else if (json_object_object_get_ex(
				             o, cols[c].key, &v))
					snprintf(cell, sizeof(cell), "%s",
					         json_object_get_string(v));
				if (cell[0] == '\0')
					snprintf(cell, sizeof(cell), "-");
				if (pass == 0) {
					if ((int)strlen(cell) > w[c])
						w[c] = (int)strlen(cell);
				} else
					printf("%-*s%s",
					       c == ncols - 1 ? 0 : w[c], cell,
					       c == ncols - 1 ? "\n" : "  ");
			}
		}
	}
}
