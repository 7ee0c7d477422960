/*
 * lister_ctl_test.c: lister_ctl.c's two checks of the lister's health: docker
 * (a list call succeeded within 3 x the Docker timeout, after a first full
 * pass) and events (the stream is open, or was lost less than 3 x timeout
 * ago).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "lister_ctl.h"

#define TMO 1000

static void
test_docker_check(void **state)
{
	struct worker_status st;

	memset(&st, 0, sizeof(st));
	st.last_ok_mono = 5000;
	assert_false(lister_ctl_docker_ok(&st, 5000, TMO)); /* no pass yet */
	st.ever_ok = true;
	assert_true(lister_ctl_docker_ok(&st, 5000, TMO));
	assert_true(lister_ctl_docker_ok(&st, 5000 + 3 * TMO, TMO));
	assert_false(lister_ctl_docker_ok(&st, 5000 + 3 * TMO + 1, TMO));
	/* However long the interval: only the last good list counts. */
	st.last_ok = true;
	assert_false(lister_ctl_docker_ok(&st, 5000 + 60 * TMO, TMO));
}

static void
test_events_check(void **state)
{
	struct docker_events_status es;

	memset(&es, 0, sizeof(es));
	es.since_mono = 1000; /* start, not yet subscribed */
	assert_true(lister_ctl_events_ok(&es, 1000 + 3 * TMO, TMO));
	assert_false(lister_ctl_events_ok(&es, 1000 + 3 * TMO + 1, TMO));
	es.connected = true;
	assert_true(lister_ctl_events_ok(&es, 1000000, TMO));
	es.connected = false; /* lost at 1000000 */
	es.since_mono = 1000000;
	assert_true(lister_ctl_events_ok(&es, 1000000 + 2 * TMO, TMO));
	assert_false(lister_ctl_events_ok(&es, 1000000 + 4 * TMO, TMO));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_docker_check),
	    cmocka_unit_test(test_events_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
