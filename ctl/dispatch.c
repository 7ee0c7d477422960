/*
 * dispatch.c: reconctl dispatch WID. Asks the dispatcher for a manual
 * plugin run; the dispatcher asks the store, which checks the workload
 * and sends the job, and its answer comes back here.
 */
#include <stdio.h>

#include "clnt.h"
#include "ctl.h"
#include "dispatcher_clnt.h"

int
ctl_dispatch(char **args)
{
	struct clnt_result r = {0};
	struct wire_write_reply w;
	struct clnt *c;
	char line[2 * WIRE_ID_MAX + 32];
	int rc;

	if ((c = ctl_clnt("dispatcher")) == NULL)
		return CTL_EXIT_USAGE;
	dispatcher_clnt_dispatch(c, args[0], &r, &w);
	if ((rc = ctl_status("dispatcher", &r)) == CTL_EXIT_OK) {
		if (w.job[0] != '\0')
			snprintf(line, sizeof(line), "dispatch of %s %s\n",
			         args[0], w.job);
		else
			snprintf(line, sizeof(line),
			         "dispatch of %s requested\n", args[0]);
		rc = ctl_done("dispatcher", &r, line);
	}
	clnt_result_free(&r);
	clnt_free(c);
	return rc;
}
