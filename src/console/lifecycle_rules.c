// SPDX-License-Identifier: GPL-2.0-or-later
/* The lifecycle's transition table and the agent's cutover report (lifecycle.h). */
#include "lifecycle.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

static const char *const state_names[LC_NSTATES] = {
	"READY_FOR_TEST", "TESTING", "READY_FOR_CUTOVER", "CUTTING_OVER", "CUTOVER", "FINALIZED",
};

static const char *const action_names[LCA_NACTIONS] = {
	"test", "mark-ready", "cutover", "revert", "finalize",
};

const char *lc_state_name(enum lc_state s)
{
	return (unsigned)s < LC_NSTATES ? state_names[s] : "?";
}

int lc_state_parse(const char *name, enum lc_state *out)
{
	for (int i = 0; i < LC_NSTATES; i++)
		if (!strcmp(name, state_names[i])) {
			*out = (enum lc_state)i;
			return 0;
		}
	return -EINVAL;
}

const char *lc_action_name(enum lc_action a)
{
	return (unsigned)a < LCA_NACTIONS ? action_names[a] : "?";
}

int lc_action_parse(const char *name, enum lc_action *out)
{
	for (int i = 0; i < LCA_NACTIONS; i++)
		if (!strcmp(name, action_names[i])) {
			*out = (enum lc_action)i;
			return 0;
		}
	return -EINVAL;
}

/* Why a cannot run in f's state (NULL: it can), and where it leads. */
static const char *refusal(const struct lc_facts *f, enum lc_action a, enum lc_state *to)
{
	switch (a) {
	case LCA_TEST:
		*to = LC_TESTING;
		return f->state == LC_READY_FOR_TEST ? NULL
		       : "a test launch starts from READY_FOR_TEST";
	case LCA_MARK_READY:
		*to = LC_READY_FOR_CUTOVER;
		if (f->state != LC_TESTING)
			return "only a test (TESTING) can be marked ready";
		if (f->launching)
			return "the test launch has not ended yet: wait for it, or revert after it";
		return f->instance_ok ? NULL : "the test instance is not up";
	case LCA_CUTOVER:
		*to = LC_CUTTING_OVER;
		if (f->state != LC_READY_FOR_CUTOVER)
			return "a cutover starts from READY_FOR_CUTOVER (after a test marked ready)";
		return f->registered ? NULL
		       : "the machine is deregistered: no agent runs to make the cutover point";
	case LCA_REVERT:
		*to = f->state == LC_CUTOVER ? LC_READY_FOR_CUTOVER : LC_READY_FOR_TEST;
		if (f->state != LC_TESTING && f->state != LC_CUTOVER)
			return "only TESTING and CUTOVER can be reverted";
		return f->launching ? "the launch has not ended yet: revert after it" : NULL;
	case LCA_FINALIZE:
		*to = LC_FINALIZED;
		return f->state == LC_CUTOVER ? NULL : "only a machine in CUTOVER can be finalized";
	default:
		*to = f->state;
		return "unknown action";
	}
}

static void allowed_text(const struct lc_facts *f, char *buf, size_t n)
{
	enum lc_state to;
	size_t used = 0;

	buf[0] = '\0';
	for (int a = 0; a < LCA_NACTIONS; a++)
		if (!refusal(f, (enum lc_action)a, &to) && used < n)
			used += (size_t)snprintf(buf + used, n - used, "%s%s", used ? ", " : "",
						 action_names[a]);
	if (!buf[0])
		snprintf(buf, n, "%s", f->state == LC_FINALIZED ? "nothing (FINALIZED is the end)"
				       : f->state == LC_CUTTING_OVER
					       ? "nothing: the cutover ends by itself (CUTOVER, or "
						 "READY_FOR_CUTOVER when it fails)"
					       : "nothing until the running job ends");
}

int lc_transition(const struct lc_facts *f, enum lc_action a, enum lc_state *to, char *why,
		  size_t whylen)
{
	const char *no = refusal(f, a, to);
	char allowed[160];

	if (!no)
		return 0;
	allowed_text(f, allowed, sizeof(allowed));
	snprintf(why, whylen, "cannot %s in state %s: %s; allowed now: %s", lc_action_name(a),
		 lc_state_name(f->state), no, allowed);
	return -EPERM;
}

json_t *lc_allowed_json(const struct lc_facts *f)
{
	json_t *list = json_array();
	enum lc_state to;

	for (int a = 0; list && a < LCA_NACTIONS; a++)
		if (!refusal(f, (enum lc_action)a, &to))
			json_array_append_new(list, json_string(action_names[a]));
	return list;
}

int cutover_report_parse(const json_t *doc, struct cutover_report *r)
{
	const json_t *c = json_object_get(doc, "cutover"), *v;
	const char *state;

	memset(r, 0, sizeof(*r));
	if (!c)
		return -ENOENT;
	if (!json_is_object(c) || !json_is_integer(json_object_get(c, "requested_at")))
		return -EINVAL;
	r->requested_at = json_integer_value(json_object_get(c, "requested_at"));
	state = json_string_value(json_object_get(c, "state"));
	if (!state || (strcmp(state, "running") && strcmp(state, "done") && strcmp(state, "failed")))
		return -EINVAL;
	strcpy(r->state, state);
	v = json_object_get(c, "consistent_ns");
	if (v && !json_is_integer(v))
		return -EINVAL;
	r->consistent_ns = json_integer_value(v);
	v = json_object_get(c, "point_id");
	if (v && (!json_is_integer(v) || json_integer_value(v) < 0))
		return -EINVAL;
	r->point_id = json_integer_value(v);
	v = json_object_get(c, "error");
	if (v && !json_is_string(v) && !json_is_null(v))
		return -EINVAL;
	if (json_is_string(v)) {
		/* one line, shown in the job's log: cut at a newline or the size */
		size_t n = strcspn(json_string_value(v), "\r\n");

		if (n >= sizeof(r->error))
			n = sizeof(r->error) - 1;
		memcpy(r->error, json_string_value(v), n);
		r->error[n] = '\0';
	}
	return 0;
}
