// SPDX-License-Identifier: GPL-2.0-or-later
/* Tell systemd (Type=notify) when livemigd is ready and when it stops. */
#ifndef LIVEMIG_AGENT_NOTIFY_H
#define LIVEMIG_AGENT_NOTIFY_H

/* READY=1 once the control socket answers; a no-op outside systemd */
void notify_ready(const char *socket_path);
/* STOPPING=1 when the shutdown begins */
void notify_stopping(void);

#endif
