/*
 * listscan.h: Docker's container list read in one pass over the body, with
 * no JSON tree: the whole body is checked against JSON's grammar (jscan.h)
 * and only what a container record needs is kept, its strings in the
 * arena.
 */
#ifndef RECON_LISTSCAN_H
#define RECON_LISTSCAN_H

#include <stddef.h>

#include "arena.h"
#include "parse.h"

/*
 * parse_list's work (see parse.h for what an element needs and when one is
 * skipped, unlabelled or fails the list). The body must be one JSON array
 * nested at most PARSE_DEPTH_MAX deep, followed by nothing but whitespace.
 * Where members repeat a key, the last one counts (a repeated label keeps
 * the place of its first). 0 with *res filled from the arena, or -1 with a
 * reason in err; skipped containers are logged only when the body held no
 * syntax error.
 */
int listscan(const char *body, size_t len, const char *prefix, struct arena *,
             struct parse_result *res, char *err, size_t errlen);

#endif
