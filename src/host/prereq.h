/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Prerequisite checks for a Linux source machine: one check per item of the
 * seed's "Linux Machines" list (docs/prerequisites.md). Each result says what
 * was seen and, for a failure, the exact command that fixes it on this
 * distribution. Used by `livemig check`, `livemig install`, the daemon's
 * NOT_READY state and the packages' postinst; none of them needs the daemon.
 *
 * Every check looks at the system under o->root ("/" normally), so a test or
 * an installer can examine a mounted image. Programs (python --version, the
 * /tmp exec probe) only run where that makes sense: python is executed only
 * when root is "/", the probe script is run from ROOT/tmp.
 */
#ifndef LIVEMIG_PREREQ_H
#define LIVEMIG_PREREQ_H

#include <stddef.h>

#include <jansson.h>

enum prereq_verdict { PREREQ_PASS, PREREQ_WARN, PREREQ_FAIL };

struct prereq_result {
	char id[32];      /* stable, e.g. "kernel-headers"; what --waive names */
	char title[96];   /* the requirement, one line */
	enum prereq_verdict verdict;
	char seen[256];   /* what was found, paths as seen inside root */
	char remedy[256]; /* a command for this distribution; "" when none is needed */
	int waived;       /* a failure the operator waived: reported, does not block */
};

struct prereq_options {
	const char *root;               /* "/" normally; NULL means "/" */
	const char *const *waive;       /* NULL-terminated ids, or NULL */
	/* livemigd's tracker (scan, kmod, auto) or NULL when not known: decides
	 * whether the kernel module checks fail, warn or only inform */
	const char *tracker;
};

/* Enough room for every check prereq_run knows, with space to grow. */
#define PREREQ_MAX_RESULTS 16

/*
 * Runs every check in a fixed order and returns the number of results
 * written (<= max), or -errno when root is not a readable directory.
 */
int prereq_run(const struct prereq_options *o, struct prereq_result *out, size_t max);

/* 1 if no result fails (waived failures don't count), else 0. */
int prereq_ready(const struct prereq_result *r, size_t n);

/* {"ready": bool, "checks": [{"id", "title", "verdict": "pass"|"warn"|"fail",
 *  "seen", "remedy", "waived": bool}, ...]}; NULL on allocation failure. */
json_t *prereq_json(const struct prereq_result *r, size_t n);

/* "pass", "warn", "fail". */
const char *prereq_verdict_name(enum prereq_verdict v);

/* 1 if id names a check (for validating --waive), else 0. */
int prereq_known_id(const char *id);
/* The i-th check's id, or NULL past the end (for listing them). */
const char *prereq_check_id(size_t i);

#endif
