/*
 * flags.h: long flags with environment twins, one table per program.
 * Order of precedence: default < environment < command line.
 */
#ifndef RECON_FLAGS_H
#define RECON_FLAGS_H

#include <stdbool.h>
#include <stdint.h>

#include "nngx.h"

enum flag_type {
	FLAG_STR,      /* char ** */
	FLAG_DURATION, /* int64_t * (milliseconds): 500ms, 30s, 5m, 1h */
	FLAG_INT,      /* int64_t * */
	FLAG_SIZE,     /* uint64_t *: bytes, with K, M, G suffixes */
	FLAG_MODE,     /* int64_t *: octal file mode */
	FLAG_BOOL,     /* bool *: takes no value */
};

struct flag {
	const char *name; /* long name without "--" */
	char shortname;   /* single-letter alias, 0 for none */
	const char *env;  /* environment twin, NULL for none */
	enum flag_type type;
	void *ptr;          /* where the parsed value goes */
	const char *defval; /* default as text (parsed like input), or NULL */
	const char *help;   /* one line for --help */
};

#define FLAG_END                                                               \
	{                                                                      \
		NULL, 0, NULL, FLAG_BOOL, NULL, NULL, NULL                     \
	}

/*
 * Options shared by every daemon. Fill with FLAGS_DAEMON(&opts) in a table.
 */
struct daemon_opts {
	char *run_dir;
	char *log_format;
	bool verbose;
	int64_t notify_fd;
	uint64_t max_message;
	uint64_t max_request;
	int64_t peer_pipes;
	int64_t socket_mode;
	int64_t admin_uid;
	char *tls_cert, *tls_key, *tls_ca; /* SPEC §10: FLAGS_TLS */
	bool insecure_tcp;
};

/* SPEC §10's network transport, for every program that may use a remote
 * address: mutual TLS for tls+tcp:// (all three files or none), and
 * tcp:// in clear only when asked for. Checked by daemon_start (and
 * reconctl) with nngx_tls_load and nngx_url_check. */
#define FLAGS_TLS(cert, key, ca, insecure)                                     \
	{"tls-cert",                                                           \
	 0,                                                                    \
	 "RECON_TLS_CERT",                                                     \
	 FLAG_STR,                                                             \
	 (cert),                                                               \
	 NULL,                                                                 \
	 "our certificate for tls+tcp:// (PEM; CN or DNS SAN: the host)"},     \
	    {"tls-key",                                                        \
	     0,                                                                \
	     "RECON_TLS_KEY",                                                  \
	     FLAG_STR,                                                         \
	     (key),                                                            \
	     NULL,                                                             \
	     "its private key (PEM, unencrypted)"},                            \
	    {"tls-ca",                                                         \
	     0,                                                                \
	     "RECON_TLS_CA",                                                   \
	     FLAG_STR,                                                         \
	     (ca),                                                             \
	     NULL,                                                             \
	     "CA bundle (PEM) the peer's certificate must be signed by"},      \
	{                                                                      \
		"insecure-tcp", 0, "RECON_INSECURE_TCP", FLAG_BOOL,            \
		    (insecure), NULL,                                          \
		    "allow tcp:// (no encryption, no authentication)"          \
	}

/* What every daemon takes, recon-http (which listens on no nng socket)
 * included. */
#define FLAGS_DAEMON_BASE(o)                                                   \
	{"run-dir",                                                            \
	 0,                                                                    \
	 "RECON_RUN_DIR",                                                      \
	 FLAG_STR,                                                             \
	 &(o)->run_dir,                                                        \
	 "/run/recon",                                                         \
	 "directory for sockets and lock files (created 0750)"},               \
	    {"log-format",     0,      "RECON_LOG_FORMAT",         FLAG_STR,   \
	     &(o)->log_format, "text", "log lines as text or json"},           \
	    {"verbose",           'v', NULL, FLAG_BOOL, &(o)->verbose, NULL,   \
	     "log at debug level"},                                            \
	    {"notify-fd",                                                      \
	     0,                                                                \
	     "RECON_NOTIFY_FD",                                                \
	     FLAG_INT,                                                         \
	     &(o)->notify_fd,                                                  \
	     "-1",                                                             \
	     "write a newline to this fd once ready (s6)"},                    \
	    FLAGS_TLS(&(o)->tls_cert, &(o)->tls_key, &(o)->tls_ca,             \
	              &(o)->insecure_tcp)

#define FLAGS_DAEMON(o)                                                        \
	FLAGS_DAEMON_BASE(o),                                                  \
	    {"max-message",                                                    \
	     0,                                                                \
	     "RECON_MAX_MESSAGE",                                              \
	     FLAG_SIZE,                                                        \
	     &(o)->max_message,                                                \
	     "64M",                                                            \
	     "largest message ingest and jobs accept (trusted senders)"},      \
	    {"max-request",                                                    \
	     0,                                                                \
	     "RECON_MAX_REQUEST",                                              \
	     FLAG_SIZE,                                                        \
	     &(o)->max_request,                                                \
	     "4M",                                                             \
	     "largest request a ctl socket accepts"},                          \
	    {"peer-pipes",                                                     \
	     0,                                                                \
	     "RECON_PEER_PIPES",                                               \
	     FLAG_INT,                                                         \
	     &(o)->peer_pipes,                                                 \
	     "16",                                                             \
	     "connections one untrusted uid may hold to a socket"},            \
	    {"socket-mode",     0,      "RECON_SOCKET_MODE",       FLAG_MODE,  \
	     &(o)->socket_mode, "0660", "mode of ipc socket files"},           \
	{                                                                      \
		"admin-uid", 0, "RECON_ADMIN_UID", FLAG_INT, &(o)->admin_uid,  \
		    "-1",                                                      \
		    "uid allowed to change state besides root and our own "    \
		    "(-1: none)"                                               \
	}

/*
 * Loads --tls-cert, --tls-key, --tls-ca into t (none given: t->loaded
 * false) and checks them as the host proof will use them (libcrypto: the
 * key is the certificate's, the CA bundle parses). 0, or -1 with err
 * naming what is missing or the file at fault.
 */
int flags_tls_load(struct nngx_tls *t, const char *cert, const char *key,
                   const char *ca, char *err, size_t errlen);

/* --NAME-url: the nng address of socket FILE (daemon_url's default is
 * ipc://RUN_DIR/FILE), with its environment twin. */
#define FLAG_SOCKET_URL(name, env, p, what, file)                              \
	{                                                                      \
		name, 0, env, FLAG_STR, (p), NULL,                             \
		    what " (default ipc://<run-dir>/" file ")"                 \
	}
/* --label-prefix, shared by the store and the lister, checked by
 * flags_label_prefix_check: 1 to LABEL_PREFIX_MAX printable bytes with no
 * space, quote or backslash (the lister puts it in a JSON filter). */
#define LABEL_PREFIX_MAX 256
#define FLAG_LABEL_PREFIX(p)                                                   \
	{                                                                      \
		"label-prefix", 0, "RECON_LABEL_PREFIX", FLAG_STR, (p),        \
		    "tinyforge.", "prefix of the labels read from containers"  \
	}
void flags_label_prefix_check(const char *);

/* Checks the shared options (exits 100 naming the bad one); a
 * --max-request over --max-message is lowered to it. */
void flags_daemon_check(struct daemon_opts *);

/* What a daemon's socket takes (SPEC §2): a ctl socket requests up to
 * --max-request from anyone who may open it; a writers' socket (ingest,
 * jobs) messages up to --max-message from trusted peers only; the events
 * socket nothing worth reading. */
enum listen_kind { LISTEN_CTL, LISTEN_WRITERS, LISTEN_EVENTS };
void flags_listen_opts(const struct daemon_opts *, enum listen_kind,
                       int64_t mode, struct nngx_listen_opts *);

/*
 * Parses defaults, environment, then argv[1..]. Positional arguments are
 * left in argv order starting at *argind (NULL: none allowed). Handles
 * --help (prints synopsis and the table, exits 0) and --version.
 * Returns 0, or -1 after printing "prog: reason" to stderr (usage: exit 100).
 */
int flags_parse(const char *prog, const char *synopsis, struct flag *tab,
                int argc, char **argv, int *argind);
/* Prints the table as --help does. */
void flags_usage(const char *prog, const char *synopsis,
                 const struct flag *tab);

/* "250ms", "30s", "5m", "1h", plain digits are seconds; may be negative. */
int parse_duration_ms(const char *, int64_t *);
/* "64M", "1G", "4096", "16K". */
int parse_size(const char *, uint64_t *);

#endif
