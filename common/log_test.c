/*
 * log_test.c: one event is one line: control bytes a peer put in a
 * message are written as \xNN in text, escaped in JSON.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "log.h"

/* What one log_warnx(fmt, s) wrote to stderr, in buf. */
static void
capture(const char *format, const char *s, char *buf, size_t len)
{
	int fds[2], saved;
	ssize_t n;

	assert_int_equal(log_init("recon-test", format, 0), 0);
	assert_int_equal(pipe(fds), 0);
	fflush(stderr);
	saved = dup(2);
	dup2(fds[1], 2);
	log_warnx("url %s", s);
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = read(fds[0], buf, len - 1);
	close(fds[0]);
	assert_true(n > 0);
	buf[n] = '\0';
}

static void
control_bytes_escaped(void **state)
{
	char buf[512];

	capture("text", "http://x/a\nwarn: forged\r\x1b[2J", buf, sizeof(buf));
	/* one line: the only newline ends it */
	assert_non_null(strchr(buf, '\n'));
	assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1);
	assert_non_null(
	    strstr(buf, "http://x/a\\x0awarn: forged\\x0d\\x1b[2J"));
	assert_null(strchr(buf, '\x1b'));
	capture("json", "a\nb\"c", buf, sizeof(buf));
	assert_int_equal(strchr(buf, '\n') - buf, (long)strlen(buf) - 1);
	assert_non_null(strstr(buf, "a\\u000ab\\\"c"));
	/* printable text and UTF-8 pass as they are */
	capture("text", "caf\xc3\xa9 ok", buf, sizeof(buf));
	assert_non_null(strstr(buf, "url caf\xc3\xa9 ok\n"));
}

static void
url_passwords_hidden(void **state)
{
	char buf[512];

	(void)state;
	capture("text", "to http://hook:pw-1@127.0.0.1:80/x: HTTP 5xx", buf,
	        sizeof(buf));
	assert_non_null(strstr(buf, "to http://hook:***@127.0.0.1:80/x: HTTP"));
	assert_null(strstr(buf, "pw-1"));
	/* every URL of the line; the last @ ends the user information */
	capture("json", "\"https://a:b@c@h/\" and ftp://u:v@w end", buf,
	        sizeof(buf));
	assert_non_null(strstr(buf, "https://a:***@h/"));
	assert_non_null(strstr(buf, "ftp://u:***@w end"));
	/* no password, no @ in the authority, an @ in the path: as they are */
	capture("text", "http://u@h/ http://h:80/a@b x://", buf, sizeof(buf));
	assert_non_null(strstr(buf, "url http://u@h/ http://h:80/a@b x://\n"));
}

/* A line is cut to its length after its passwords are hidden: no cut
 * splits a password from the @ that shows it. */
static void
url_passwords_hidden_when_cut(void **state)
{
	static char msg[12000], buf[16384];

	(void)state;
	/* the line's end falls inside the password, before its @ */
	memset(msg, 'a', 2024);
	strcpy(msg + 2024, " https://u:pass-0123456789@h/x");
	capture("text", msg, buf, sizeof(buf));
	assert_null(strstr(buf, "pass-"));
	memset(msg, 'a', 2000);
	strcpy(msg + 2000, " https://u:pass-0123456789@h/x");
	capture("text", msg, buf, sizeof(buf));
	assert_non_null(strstr(buf, "https://u:***@h/x"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(control_bytes_escaped),
	    cmocka_unit_test(url_passwords_hidden),
	    cmocka_unit_test(url_passwords_hidden_when_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
