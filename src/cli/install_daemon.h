/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * Starting and stopping livemigd for install, start and uninstall. Where
 * systemd runs and the configuration is the packaged one, systemd does it
 * (`systemctl enable --now livemigd`); otherwise livemigd runs detached in
 * its own session with its output in STATE_DIR/livemigd.log and its pid in
 * STATE_DIR/livemigd.pid.
 */
#ifndef LIVEMIG_INSTALL_DAEMON_H
#define LIVEMIG_INSTALL_DAEMON_H

#include <stddef.h>

struct daemon_ctl {
	const char *conf;      /* livemigd.conf */
	const char *state_dir; /* pid file and log (detached) */
	const char *socket;    /* its control socket: answering = running */
};

/*
 * Start livemigd and wait until it answers on its socket. 0 with how it
 * runs in msg ("pid 1234, log /var/lib/livemig/livemigd.log" or "systemd
 * unit livemigd"); -EALREADY when it already runs; other -errno with the
 * reason (for a daemon that exited: the end of its log) in msg.
 */
int daemon_start(const struct daemon_ctl *d, char *msg, size_t msglen);

/* Stop it: 0 when it stopped or was not running (msg says which); -errno
 * with the reason in msg. */
int daemon_stop(const struct daemon_ctl *d, char *msg, size_t msglen);

#endif
