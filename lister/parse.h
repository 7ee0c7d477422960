/*
 * parse.h: Docker's JSON (container list, /version, error bodies) into the
 * wire's records, with json-c under a depth limit. A list is all or
 * nothing (R8): any syntax error, truncation or malformed element fails it.
 */
#ifndef RECON_PARSE_H
#define RECON_PARSE_H

#include <stddef.h>

#include "arena.h"
#include "wire.h"

/* Docker's list nests about six levels deep (NetworkSettings.Networks...). */
#define PARSE_DEPTH_MAX 32

struct parse_result {
	struct wire_container *containers;
	size_t ncontainers;
	size_t skipped;    /* unrepresentable on the wire: over-long, NUL */
	size_t unlabelled; /* lacked <prefix>workload.id despite the filter */
};

/*
 * Parses a /containers/json body. Each element needs Id, Image, State
 * (strings), Created (integer), Labels (object of strings, or null) and
 * Ports (array of {PrivatePort, PublicPort?, Type}, or null); a wrong type
 * fails the whole list. Only labels starting with prefix are kept; ports
 * are the PublicPorts in Docker's order. A container whose id is longer
 * than WIRE_ID_MAX, or whose image, state or kept labels are longer than
 * WIRE_LABEL_MAX or hold a NUL, is skipped and counted: a label anyone can
 * set must not stop the whole host from being reconciled.
 * 0 with *res filled from the arena, or -1 with a reason in err.
 */
int parse_list(const char *body, size_t len, const char *prefix, struct arena *,
               struct parse_result *res, char *err, size_t errlen);

/* ApiVersion and MinAPIVersion of a /version body (min_api "" when the
 * daemon does not say). 0, or -1 with a reason in err. */
int parse_version(const char *body, size_t len, char *api, size_t apilen,
                  char *min_api, size_t minlen, char *err, size_t errlen);

/* Docker's error body {"message": "..."} into msg; falls back to the first
 * bytes of the body, made printable. Never fails. */
void parse_error_message(const char *body, size_t len, char *msg,
                         size_t msglen);

#endif
