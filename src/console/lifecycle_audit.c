// SPDX-License-Identifier: GPL-2.0-or-later
/* The audit record of an operator's lifecycle action (lifecycle.h): the
 * same for the API and the admin command. */
#include "lifecycle.h"

#include <errno.h>

static const char *const audit_actions[LCA_NACTIONS] = {
	"lifecycle.test", "lifecycle.mark-ready", "lifecycle.cutover", "lifecycle.revert",
	"lifecycle.finalize",
};

int lifecycle_audit_record(struct db *db, const struct lifecycle_audit *in, struct audit_rec *out)
{
	char to[24];
	json_t *d;
	int rc;

	if ((unsigned)in->action >= LCA_NACTIONS)
		return -EINVAL;
	rc = lifecycle_state(db, in->machine_ref, to, sizeof(to));
	if (rc)
		return rc;
	d = json_pack("{s:s, s:s, s:o}", "from", in->from, "to", to, "job",
		      in->job ? json_integer(in->job) : json_null());
	if (!d)
		return -ENOMEM;
	if (in->point)
		json_object_set_new(d, "point", json_integer(in->point));
	if (in->size && in->size->cpus)
		json_object_set_new(d, "cpus", json_integer(in->size->cpus));
	if (in->size && in->size->memory_mib)
		json_object_set_new(d, "memory_mib", json_integer(in->size->memory_mib));
	*out = (struct audit_rec){ .account_id = in->account_id, .machine_ref = in->machine_ref,
				   .action = audit_actions[in->action], .detail = d };
	return 0;
}
