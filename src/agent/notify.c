// SPDX-License-Identifier: GPL-2.0-or-later
/* sd_notify(3) for the packaged unit (Type=notify): systemctl start returns
 * once livemigd serves its control socket, so `livemig status` right after
 * a start never meets a missing socket. Without NOTIFY_SOCKET (a detached
 * daemon, the tests) sd_notify does nothing. */
#include <systemd/sd-daemon.h>

#include "log.h"
#include "notify.h"

void notify_ready(const char *socket_path)
{
	int r = sd_notifyf(0, "READY=1\nSTATUS=serving %s", socket_path);

	if (r < 0)
		log_warn("cannot notify systemd of readiness: error %d", -r);
}

void notify_stopping(void)
{
	sd_notify(0, "STOPPING=1");
}
