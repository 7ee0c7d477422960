/*
 * log.h: one line per event to stderr, as text or JSON.
 * log_warn appends strerror(errno); log_warnx does not. fatal/fatalx exit
 * with the code given (100 usage/permanent, 111 temporary).
 */
#ifndef RECON_LOG_H
#define RECON_LOG_H

#include <stdarg.h>

#define EXIT_USAGE 100
#define EXIT_TEMP  111

enum log_level { LOG_LVL_DEBUG, LOG_LVL_INFO, LOG_LVL_WARN, LOG_LVL_ERROR };

/* format: "text" or "json"; returns -1 for an unknown format. */
int log_init(const char *procname, const char *format, int verbose);
void log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *, ...) __attribute__((format(printf, 1, 2)));
__attribute__((noreturn)) void fatal(int code, const char *, ...)
    __attribute__((format(printf, 2, 3)));
__attribute__((noreturn)) void fatalx(int code, const char *, ...)
    __attribute__((format(printf, 2, 3)));

#endif
