/*
 * flags.c: long flags with environment twins. Defaults and environment
 * values go through the same parser as the command line, so a bad
 * RECON_INTERVAL is reported like a bad --interval.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flags.h"
#include "hostproof.h"
#include "log.h"
#include "util.h"

int
parse_duration_ms(const char *s, int64_t *out)
{
	static const struct {
		const char *suffix;
		int64_t ms;
	} units[] = {
	    {"ms", 1}, {"s", 1000}, {"m", 60000}, {"h", 3600000}, {"", 1000},
	};
	char *end;
	long long v;
	size_t i;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || errno != 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) != 0)
			continue;
		if (v > INT64_MAX / units[i].ms || v < INT64_MIN / units[i].ms)
			return -1;
		*out = (int64_t)v * units[i].ms;
		return 0;
	}
	return -1;
}

int
parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	if (*s == '-')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (end == s || errno != 0)
		return -1;
	if (strcmp(end, "K") == 0 || strcmp(end, "k") == 0)
		mul = 1ULL << 10;
	else if (strcmp(end, "M") == 0)
		mul = 1ULL << 20;
	else if (strcmp(end, "G") == 0)
		mul = 1ULL << 30;
	else if (*end != '\0')
		return -1;
	if (v > UINT64_MAX / mul)
		return -1;
	*out = (uint64_t)v * mul;
	return 0;
}

static int
flag_set(const char *prog, const struct flag *f, const char *val,
         const char *from)
{
	char *end;
	long long v;

	switch (f->type) {
	case FLAG_STR:
		*(const char **)f->ptr = val;
		return 0;
	case FLAG_BOOL:
		if (val == NULL || strcmp(val, "1") == 0 ||
		    strcmp(val, "true") == 0 || strcmp(val, "yes") == 0)
			*(bool *)f->ptr = true;
		else if (strcmp(val, "0") == 0 || strcmp(val, "false") == 0 ||
		         strcmp(val, "no") == 0 || *val == '\0')
			*(bool *)f->ptr = false;
		else
			break;
		return 0;
	case FLAG_DURATION:
		if (parse_duration_ms(val, f->ptr) == 0)
			return 0;
		break;
	case FLAG_SIZE:
		if (parse_size(val, f->ptr) == 0)
			return 0;
		break;
	case FLAG_INT:
	case FLAG_MODE:
		errno = 0;
		v = strtoll(val, &end, f->type == FLAG_MODE ? 8 : 10);
		if (end != val && *end == '\0' && errno == 0) {
			*(int64_t *)f->ptr = (int64_t)v;
			return 0;
		}
		break;
	}
	fprintf(stderr, "%s: invalid value \"%s\" for --%s%s%s\n", prog, val,
	        f->name, from ? " from " : "", from ? from : "");
	return -1;
}

static const char *
flag_metavar(enum flag_type t)
{
	switch (t) {
	case FLAG_DURATION:
		return " DURATION";
	case FLAG_SIZE:
		return " SIZE";
	case FLAG_INT:
		return " N";
	case FLAG_MODE:
		return " MODE";
	case FLAG_BOOL:
		return "";
	default:
		return " VALUE";
	}
}

void
flags_usage(const char *prog, const char *synopsis, const struct flag *tab)
{
	const struct flag *f;

	printf("usage: %s %s\n\noptions:\n", prog, synopsis);
	for (f = tab; f->name != NULL; f++) {
		if (f->shortname)
			printf("  -%c, --%s%s\n", f->shortname, f->name,
			       flag_metavar(f->type));
		else
			printf("  --%s%s\n", f->name, flag_metavar(f->type));
		printf("        %s", f->help);
		if (f->env)
			printf(" [env %s]", f->env);
		if (f->defval && f->type != FLAG_BOOL)
			printf(" (default %s)", f->defval);
		printf("\n");
	}
	printf("  -h, --help\n        print this help and exit\n"
	       "  --version\n        print the version and exit\n");
}

static const struct flag *
flag_find(const struct flag *tab, const char *name, size_t len, char shortc)
{
	const struct flag *f;

	for (f = tab; f->name != NULL; f++) {
		if (shortc != 0 ? f->shortname == shortc
		                : (strlen(f->name) == len &&
		                   strncmp(f->name, name, len) == 0))
			return f;
	}
	return NULL;
}

int
flags_parse(const char *prog, const char *synopsis, struct flag *tab, int argc,
            char **argv, int *argind)
{
	const struct flag *f;
	const char *env, *val, *eq;
	char **pos;
	int i, npos = 0;

	for (f = tab; f->name != NULL; f++)
		if (f->defval && flag_set(prog, f, f->defval, "default") < 0)
			return -1;
	for (f = tab; f->name != NULL; f++)
		if (f->env && (env = getenv(f->env)) != NULL &&
		    flag_set(prog, f, env, f->env) < 0)
			return -1;

	pos = xcalloc((size_t)argc + 1, sizeof(*pos));
	for (i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--") == 0) {
			while (++i < argc)
				pos[npos++] = argv[i];
			break;
		}
		if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
			flags_usage(prog, synopsis, tab);
			exit(0);
		}
		if (strcmp(a, "--version") == 0) {
			printf("%s %s\n", prog, RECON_VERSION);
			exit(0);
		}
		if (a[0] != '-' || a[1] == '\0') {
			pos[npos++] = argv[i];
			continue;
		}
		if (a[1] != '-') {
			f = a[2] == '\0' ? flag_find(tab, NULL, 0, a[1]) : NULL;
			eq = NULL;
		} else {
			eq = strchr(a + 2, '=');
			f = flag_find(tab, a + 2,
			              eq ? (size_t)(eq - a - 2) : strlen(a + 2),
			              0);
		}
		if (f == NULL) {
			fprintf(stderr, "%s: unknown option %s (see --help)\n",
			        prog, a);
			free(pos);
			return -1;
		}
		if (eq)
			val = eq + 1;
		else if (f->type == FLAG_BOOL)
			val = NULL;
		else if (i + 1 < argc)
			val = argv[++i];
		else {
			fprintf(stderr, "%s: option --%s needs a value\n", prog,
			        f->name);
			free(pos);
			return -1;
		}
		if (flag_set(prog, f, val, NULL) < 0) {
			free(pos);
			return -1;
		}
	}
	if (argind == NULL && npos > 0) {
		fprintf(stderr, "%s: unexpected argument \"%s\" (see --help)\n",
		        prog, pos[0]);
		free(pos);
		return -1;
	}
	if (argind) {
		for (i = 0; i < npos; i++)
			argv[argc - npos + i] = pos[i];
		*argind = argc - npos;
	}
	free(pos);
	return 0;
}

void
flags_daemon_check(struct daemon_opts *o)
{
	if (o->admin_uid < -1 || o->admin_uid > (int64_t)UINT32_MAX)
		fatalx(EXIT_USAGE, "bad --admin-uid: -1 or a uid");
	if (o->max_request == 0)
		fatalx(EXIT_USAGE, "bad --max-request: 1 or more");
	if (o->max_request > o->max_message)
		o->max_request = o->max_message;
	if (o->peer_pipes < 0 || o->peer_pipes > 1000000)
		fatalx(EXIT_USAGE,
		       "bad --peer-pipes: 0 (any number) to 1000000");
}

void
flags_label_prefix_check(const char *p)
{
	size_t n = strlen(p);
	const char *q;

	for (q = p; *q != '\0'; q++)
		if (*q <= ' ' || *q > '~' || *q == '"' || *q == '\\')
			break;
	if (n == 0 || n > LABEL_PREFIX_MAX || *q != '\0')
		fatalx(EXIT_USAGE,
		       "bad --label-prefix \"%s\": want 1 to %d printable "
		       "characters, no spaces, quotes or backslashes",
		       p, LABEL_PREFIX_MAX);
}

/* What a subscriber may send the events socket: nothing it reads. */
#define EVENTS_MAX_RECV 1024

void
flags_listen_opts(const struct daemon_opts *o, enum listen_kind kind,
                  int64_t mode, struct nngx_listen_opts *lo)
{
	memset(lo, 0, sizeof(*lo));
	lo->mode = (int)mode;
	lo->admin_uid = o->admin_uid;
	lo->peer_pipes = (int)o->peer_pipes;
	switch (kind) {
	case LISTEN_CTL:
		lo->max_msg = o->max_request;
		break;
	case LISTEN_WRITERS:
		lo->max_msg = o->max_message;
		lo->writers_only = true;
		break;
	case LISTEN_EVENTS:
		lo->max_msg = EVENTS_MAX_RECV;
		break;
	}
}

/*
 * nng's engine (mbedTLS) parses each file but does not check that the key
 * is the certificate's (the handshake would fail later, unexplained):
 * libcrypto does, as the lister's host proof and the store's verifier
 * will read the same files.
 */
int
flags_tls_load(struct nngx_tls *t, const char *cert, const char *key,
               const char *ca, char *err, size_t errlen)
{
	struct hostproof_signer *sg;
	struct hostproof_verifier *v;
	char herr[HOSTPROOF_ERR_LEN];

	if (nngx_tls_load(t, cert, key, ca, err, errlen) == -1)
		return -1;
	if (!t->loaded)
		return 0;
	if ((sg = hostproof_signer_open(cert, key, herr)) == NULL) {
		xsnprintf(err, errlen, "--tls-cert %s, --tls-key %s: %s", cert,
		          key, herr);
		nngx_tls_free(t);
		return -1;
	}
	hostproof_signer_close(sg);
	if ((v = hostproof_verifier_open(ca, 1, herr)) == NULL) {
		xsnprintf(err, errlen, "--tls-ca %s: %s", ca, herr);
		nngx_tls_free(t);
		return -1;
	}
	hostproof_verifier_close(v);
	return 0;
}
