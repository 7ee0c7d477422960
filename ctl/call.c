/*
 * call.c: reconctl's side of the typed clients (common/<proc>_clnt.h): the
 * handle of each process, what a call's outcome means for the exit code,
 * operator JSON read into records, and the output helpers.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clnt.h"
#include "ctl.h"
#include "nngx.h"
#include "wirejson.h"

struct clnt *
ctl_clnt(const char *proc)
{
	const char *url = NULL;
	char name[64], buf[4200];

	if (strcmp(proc, "store") == 0)
		url = ctl_opts.store_url;
	else if (strcmp(proc, "lister") == 0)
		url = ctl_opts.lister_url;
	else if (strcmp(proc, "dispatcher") == 0)
		url = ctl_opts.dispatcher_url;
	snprintf(name, sizeof(name), "%s.ctl", proc);
	if (nngx_url(buf, sizeof(buf), url, ctl_opts.run_dir, name) < 0) {
		fprintf(stderr, "reconctl: run dir path too long\n");
		return NULL;
	}
	snprintf(name, sizeof(name), "%s-ctl-url", proc);
	if (ctl_url_check(name, buf) == -1)
		return NULL;
	return clnt_new(buf, ctl_opts.timeout_ms);
}

int
ctl_url_check(const char *flag, const char *url)
{
	char err[512];

	if (nngx_url_check(url, nngx_tls_default(), ctl_opts.insecure_tcp, err,
	                   sizeof(err)) == 0)
		return 0;
	fprintf(stderr, "reconctl: bad --%s: %s\n", flag, err);
	return -1;
}

json_object *
ctl_reply_json(const char *proc, const struct wbuf *reply)
{
	char werr[WIRE_ERR_LEN];
	json_object *r;

	if ((r = wire_to_json(reply->data, reply->len, werr)) == NULL)
		fprintf(stderr, "reconctl: bad reply from %s: %s\n", proc,
		        werr);
	return r;
}

int
ctl_status(const char *proc, const struct clnt_result *r)
{
	json_object *o;

	switch (r->status) {
	case CLNT_OK:
		return CTL_EXIT_OK;
	case CLNT_REFUSED:
		if (ctl_opts.json &&
		    (o = ctl_reply_json(proc, &r->reply)) != NULL) {
			ctl_print_json(o);
			json_object_put(o);
		}
		fprintf(stderr, "reconctl: %s: %s\n",
		        r->code[0] != '\0' ? r->code : "error",
		        r->message[0] != '\0' ? r->message : "request refused");
		return CTL_EXIT_NO;
	case CLNT_BADREPLY:
		fprintf(stderr, "reconctl: bad reply from %s: %s\n", proc,
		        r->err);
		return CTL_EXIT_UNREACHABLE;
	default:
		fprintf(stderr, "reconctl: %s unreachable: %s\n", proc, r->err);
		return CTL_EXIT_UNREACHABLE;
	}
}

void
ctl_print_json(json_object *o)
{
	puts(json_object_to_json_string_ext(
	    o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
}

/* Where a scan of the raw input is: json-c builds an object for every
 * value before we see any, so the count is kept on the bytes. */
struct input_scan {
	size_t bytes, values;
	bool in_str, esc;
};

/* Counts the values in buf (the ',' '[' '{' outside strings); -1 when
 * the input is past a bound. */
static int
input_scan(struct input_scan *sc, const char *buf, size_t n)
{
	size_t i;

	sc->bytes += n;
	if (sc->bytes > CTL_INPUT_MAX)
		return -1;
	for (i = 0; i < n; i++) {
		if (sc->in_str) {
			if (sc->esc)
				sc->esc = false;
			else if (buf[i] == '\\')
				sc->esc = true;
			else if (buf[i] == '"')
				sc->in_str = false;
		} else if (buf[i] == '"')
			sc->in_str = true;
		else if (buf[i] == ',' || buf[i] == '[' || buf[i] == '{')
			sc->values++;
	}
	return sc->values > CTL_INPUT_VALUES ? -1 : 0;
}

/* Whether only white space is left of the input. */
static bool
input_rest_blank(FILE *f, struct input_scan *sc, const char *buf, size_t n)
{
	char more[4096];
	size_t i;

	for (;;) {
		for (i = 0; i < n; i++)
			if (buf[i] != ' ' && buf[i] != '\t' && buf[i] != '\n' &&
			    buf[i] != '\r')
				return false;
		if ((n = fread(more, 1, sizeof(more), f)) == 0)
			return true;
		if ((sc->bytes += n) > CTL_INPUT_MAX)
			return false;
		buf = more;
	}
}

static json_object *
ctl_read_json(const char *path)
{
	FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	struct input_scan sc = {0};
	json_tokener *tok;
	json_object *o = NULL;
	enum json_tokener_error jerr = json_tokener_continue;
	char buf[65536];
	size_t n, used = 0;
	char why[64] = "";

	if (f == NULL) {
		fprintf(stderr, "reconctl: unable to open %s: %s\n", path,
		        strerror(errno));
		return NULL;
	}
	tok = json_tokener_new_ex(32);
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0) {
		if (input_scan(&sc, buf, n) == -1)
			break;
		o = json_tokener_parse_ex(tok, buf, (int)n);
		jerr = json_tokener_get_error(tok);
		if (jerr != json_tokener_continue) {
			used = json_tokener_get_parse_end(tok);
			break;
		}
	}
	if (sc.bytes <= CTL_INPUT_MAX && sc.values <= CTL_INPUT_VALUES &&
	    jerr == json_tokener_success &&
	    !input_rest_blank(f, &sc, buf + used, n - used) &&
	    sc.bytes <= CTL_INPUT_MAX)
		snprintf(why, sizeof(why), "more after the JSON value");
	if (sc.bytes > CTL_INPUT_MAX)
		snprintf(why, sizeof(why), "larger than %u MiB",
		         CTL_INPUT_MAX >> 20);
	else if (sc.values > CTL_INPUT_VALUES)
		snprintf(why, sizeof(why), "more than %d JSON values",
		         CTL_INPUT_VALUES);
	if (f != stdin)
		fclose(f);
	if (why[0] != '\0') {
		fprintf(stderr, "reconctl: %s: %s: refused\n", path, why);
		json_object_put(o);
		o = NULL;
	} else if (o == NULL || jerr != json_tokener_success) {
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

/* JSON -> msgpack -> the record's strict decoder: one set of rules for
 * what a field may hold, the wire's. */
static int
ctl_read_record(const char *path, const char *what,
                int (*decode)(const void *, size_t, struct arena *, void *,
                              char *),
                struct arena *a, void *out)
{
	json_object *o = ctl_read_json(path);
	struct wbuf b = {0};
	char werr[WIRE_ERR_LEN];
	int r = -1;

	if (o == NULL)
		return -1;
	if (wire_from_json(&b, o) == -1)
		fprintf(stderr, "reconctl: %s: nested too deeply\n", path);
	else if (decode(b.data, b.len, a, out, werr) == -1)
		fprintf(stderr, "reconctl: %s: not a %s: %s\n", path, what,
		        werr);
	else
		r = 0;
	json_object_put(o);
	wbuf_free(&b);
	return r;
}

static int
dec_workload(const void *buf, size_t len, struct arena *a, void *out, char *err)
{
	return wire_decode_workload_strict(buf, len, a, out, err);
}

static int
dec_row(const void *buf, size_t len, struct arena *a, void *out, char *err)
{
	return wire_decode_row_strict(buf, len, a, out, err);
}

int
ctl_read_workload(const char *path, struct arena *a, struct wire_workload *w)
{
	return ctl_read_record(path, "workload", dec_workload, a, w);
}

int
ctl_read_row(const char *path, struct arena *a, struct wire_row *row)
{
	return ctl_read_record(path, "container row", dec_row, a, row);
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
