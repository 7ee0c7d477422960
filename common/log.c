/*
 * log.c: one line per event on stderr, as text or as JSON. A single
 * fputs per line keeps lines whole when threads log at once.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "util.h"

/* A message is formatted into this much before its passwords are hidden
 * and it is cut to a line. */
#define LOG_MSG_FMT 8192

static const char *log_proc = "recon";
static bool log_json;
static enum log_level log_min = LOG_LVL_INFO;

static const char *const level_names[] = {
    [LOG_LVL_DEBUG] = "debug",
    [LOG_LVL_INFO] = "info",
    [LOG_LVL_WARN] = "warn",
    [LOG_LVL_ERROR] = "error",
};

int
log_init(const char *procname, const char *format, int verbose)
{
	log_proc = procname;
	log_min = verbose ? LOG_LVL_DEBUG : LOG_LVL_INFO;
	if (format == NULL || strcmp(format, "text") == 0)
		log_json = false;
	else if (strcmp(format, "json") == 0)
		log_json = true;
	else
		return -1;
	return 0;
}

/* Appends s to out as a JSON string body (no quotes). */
static size_t
json_escape(char *out, size_t cap, const char *s)
{
	size_t n = 0;

	for (; *s != '\0' && n + 7 < cap; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			out[n++] = '\\';
			out[n++] = (char)c;
		} else if (c < 0x20) {
			n += (size_t)snprintf(out + n, cap - n, "\\u%04x", c);
		} else
			out[n++] = (char)c;
	}
	out[n] = '\0';
	return n;
}

/* msg with its control bytes written as \xNN, cut to fit out. */
static void
text_escape(char *out, size_t len, const char *msg)
{
	static const char hex[] = "0123456789abcdef";
	size_t n = 0;

	for (; *msg != '\0' && n + 5 < len; msg++) {
		unsigned char c = (unsigned char)*msg;

		if (c < 0x20 || c == 0x7f) {
			out[n++] = '\\';
			out[n++] = 'x';
			out[n++] = hex[c >> 4];
			out[n++] = hex[c & 0xf];
		} else
			out[n++] = (char)c;
	}
	out[n] = '\0';
}

/* Appends k bytes of s to out (n used of len), as many as fit. */
static void
put(char *out, size_t len, size_t *n, const char *s, size_t k)
{
	if (k > len - 1 - *n)
		k = len - 1 - *n;
	memcpy(out + *n, s, k);
	*n += k;
}

/*
 * msg with the password of every URL in it written as "***", cut to len:
 * a URL's user information is a secret (SPEC 2), and a line may carry a
 * webhook's address or a message that quotes one.
 */
static void
hide_passwords(char *msg, size_t len)
{
	char out[LOG_MSG_FMT];
	const char *p = msg, *s;
	size_t n = 0, off, plen;

	if (strstr(msg, "://") == NULL || len > sizeof(out))
		return;
	/* each "://" begins one URL for url_password */
	while ((s = strstr(p, "://")) != NULL) {
		if (url_password(s, &off, &plen)) {
			put(out, len, &n, p, (size_t)(s + off - p));
			put(out, len, &n, "***", 3);
			p = s + off + plen;
		} else {
			put(out, len, &n, p, (size_t)(s + 3 - p));
			p = s + 3;
		}
	}
	put(out, len, &n, p, strlen(p));
	out[n] = '\0';
	memcpy(msg, out, n + 1);
}

static void
log_emit(enum log_level lvl, const char *fmt, va_list ap, int err)
{
	char full[LOG_MSG_FMT], msg[2048], line[4608], ts[40];
	struct timespec now;
	struct tm tm;
	size_t n;

	if (lvl < log_min)
		return;
	/* formatted long and masked whole, then cut to a line's length, so
	 * that the cut cannot split a password from its URL (one past
	 * LOG_MSG_FMT is past the line's end too) */
	vsnprintf(full, sizeof(full), fmt, ap);
	if (err != 0) {
		n = strlen(full);
		snprintf(full + n, sizeof(full) - n, ": %s", strerror(err));
	}
	hide_passwords(full, sizeof(full));
	n = strlen(full);
	n = n < sizeof(msg) - 1 ? n : sizeof(msg) - 1;
	memcpy(msg, full, n);
	msg[n] = '\0';
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	n = strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(ts + n, sizeof(ts) - n, ".%03ldZ", now.tv_nsec / 1000000);
	if (log_json) {
		char esc[sizeof(msg) * 2];
		json_escape(esc, sizeof(esc), msg);
		snprintf(line, sizeof(line),
		         "{\"ts\":\"%s\",\"proc\":\"%s\",\"pid\":%ld,"
		         "\"level\":\"%s\",\"msg\":\"%s\"}\n",
		         ts, log_proc, (long)getpid(), level_names[lvl], esc);
	} else {
		/* one event, one line: what a peer put in a message cannot
		 * forge another (control bytes as \xNN) */
		char esc[sizeof(msg) * 2];
		text_escape(esc, sizeof(esc), msg);
		snprintf(line, sizeof(line), "%s %s[%ld]: %s: %s\n", ts,
		         log_proc, (long)getpid(), level_names[lvl], esc);
	}
	fputs(line, stderr);
}

#define LOG_FN(fn, lvl, witherr)                                               \
	void fn(const char *fmt, ...)                                          \
	{                                                                      \
		int saved = errno;                                             \
		va_list ap;                                                    \
		va_start(ap, fmt);                                             \
		log_emit(lvl, fmt, ap, witherr ? saved : 0);                   \
		va_end(ap);                                                    \
		errno = saved;                                                 \
	}

LOG_FN(log_debug, LOG_LVL_DEBUG, false)
LOG_FN(log_info, LOG_LVL_INFO, false)
LOG_FN(log_warn, LOG_LVL_WARN, true)
LOG_FN(log_warnx, LOG_LVL_WARN, false)
LOG_FN(log_error, LOG_LVL_ERROR, false)

void
fatal(int code, const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, fmt, ap, saved);
	va_end(ap);
	exit(code);
}

void
fatalx(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	log_emit(LOG_LVL_ERROR, fmt, ap, 0);
	va_end(ap);
	exit(code);
}
