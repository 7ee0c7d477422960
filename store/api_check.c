/*
 * api_check.c: the checks of SPEC §5 on what a write would store: id
 * patterns, kinds, source_kind, notification URLs (as libcurl, which
 * will POST to them, reads them), JSON-text fields (as json-c reads
 * them), port ranges.
 */
#include <stdio.h>
#include <string.h>

#include <curl/curl.h>
#include <json-c/json.h>

#include "api_impl.h"
#include "util.h"

/* Empty, or one JSON value with nothing but white space after it. */
static const char *
json_check(const char *s)
{
	enum json_tokener_error e;
	struct json_tokener *tok;
	json_object *o;
	size_t n, end;

	if (str_empty(s))
		return NULL;
	n = strlen(s);
	if (n > WIRE_TEXT_MAX || (tok = json_tokener_new()) == NULL)
		return "too large";
	json_tokener_set_flags(tok, JSON_TOKENER_STRICT);
	/* the NUL included: a number or literal at the very end finishes */
	o = json_tokener_parse_ex(tok, s, (int)n + 1);
	e = json_tokener_get_error(tok);
	end = json_tokener_get_parse_end(tok);
	json_object_put(o);
	json_tokener_free(tok);
	if (e != json_tokener_success)
		return json_tokener_error_desc(e);
	for (; end < n; end++)
		if (s[end] != ' ' && s[end] != '\t' && s[end] != '\n' &&
		    s[end] != '\r')
			return "trailing data after the JSON value";
	return NULL;
}

/* NULL when url is an http or https URL with a host, as libcurl reads it
 * (the one that will POST to it), with no space or control byte. */
static const char *
url_check(const char *url)
{
	const char *why = NULL, *p;
	char *scheme = NULL, *host = NULL;
	CURLU *u;

	for (p = url; *p != '\0'; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return "must not hold spaces or control characters";
	if ((u = curl_url()) == NULL)
		return "unable to check: out of memory";
	if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
		why = "not a URL";
	else if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
	         (strcmp(scheme, "http") != 0 && strcmp(scheme, "https") != 0))
		why = "must be an http:// or https:// URL";
	else if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK ||
	         *host == '\0')
		why = "must name a host";
	curl_free(scheme);
	curl_free(host);
	curl_url_cleanup(u);
	return why;
}

const char *
api_check_workload(const struct wire_workload *w)
{
	static char why[160];
	static const struct {
		const char *name;
		size_t off;
	} json_fields[] = {
	    {"source_config", offsetof(struct wire_workload, source_config)},
	    {"trigger_config", offsetof(struct wire_workload, trigger_config)},
	    {"public_faces", offsetof(struct wire_workload, public_faces)},
	};
	const char *e;
	size_t i;

	if (!id_valid(w->id))
		return "id: " ID_PATTERN;
	if (!kind_valid(w->kind))
		return "kind: must be project, site or stack";
	if (!str_empty(w->app_id) && !id_valid(w->app_id))
		return "app_id: " ID_PATTERN;
	if (!str_empty(w->parent_workload_id) &&
	    !id_valid(w->parent_workload_id))
		return "parent_workload_id: " ID_PATTERN;
	if (!str_empty(w->source_kind) && !source_kind_valid(w->source_kind))
		return "source_kind: must match ^[a-z0-9][a-z0-9_-]{0,63}$";
	if (!str_empty(w->notification_url) &&
	    (e = url_check(w->notification_url)) != NULL) {
		snprintf(why, sizeof(why), "notification_url: %s", e);
		return why;
	}
	for (i = 0; i < sizeof(json_fields) / sizeof(json_fields[0]); i++) {
		e = json_check(
		    *(char *const *)((const char *)w + json_fields[i].off));
		if (e != NULL) {
			snprintf(why, sizeof(why), "%s: not JSON: %s",
			         json_fields[i].name, e);
			return why;
		}
	}
	return NULL;
}

const char *
api_check_row(const struct wire_row *row)
{
	if (!id_valid(row->id))
		return "id: " ID_PATTERN;
	if (!id_valid(row->workload_id))
		return "workload_id: " ID_PATTERN;
	if (!str_empty(row->role) && !id_valid(row->role))
		return "role: " ID_PATTERN;
	if (!str_empty(row->container_id) && !id_valid(row->container_id))
		return "container_id: " ID_PATTERN;
	if (row->port < 0 || row->port > 65535)
		return "port: must be 0 to 65535";
	return NULL;
}
