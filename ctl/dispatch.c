/*
 * dispatch.c: reconctl dispatch WID. Asks the dispatcher for a manual
 * plugin run; the dispatcher asks the store, which checks the workload
 * and sends the job, and its answer comes back here.
 */
#include <stdio.h>

#include "ctl.h"

int
ctl_dispatch(char **args)
{
	json_object *req = ctl_req("dispatch"), *reply, *job;
	int rc;

	json_object_object_add(req, "id", json_object_new_string(args[0]));
	if ((rc = ctl_call("dispatcher", req, &reply)) != CTL_EXIT_OK)
		return rc;
	if (ctl_opts.json)
		ctl_print_json(reply);
	else if (json_object_object_get_ex(reply, "job", &job))
		printf("dispatch of %s %s\n", args[0],
		       json_object_get_string(job));
	else
		printf("dispatch of %s requested\n", args[0]);
	json_object_put(reply);
	return CTL_EXIT_OK;
}
