// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz livemigd's checkpoint loader (src/agent/checkpoint.c): the file is
 * read back after a crash, possibly torn or damaged. The input is handed
 * over as a file (a memfd, through /proc/self/fd), as the agent reads it.
 * Beyond "no crash, leak or UB": a checkpoint accepted is within the
 * limits the engine relies on, and one refused says why.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_checkpoint: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                          \
			abort();                                                     \
		}                                                                    \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct checkpoint cp;
	const char *why = NULL;
	char path[64];
	int fd, rc;

	if (size > 1 << 20)
		return 0;
	fd = memfd_create("checkpoint", MFD_CLOEXEC);
	if (fd < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	rc = checkpoint_load(path, &cp, &why);
	close(fd);
	if (!rc) {
		CHECK(!why);
		CHECK(cp.ndisks <= FRAME_MAX_DISKS);
		CHECK(memchr(cp.machine, '\0', sizeof(cp.machine)));
		for (unsigned i = 0; i < cp.ndisks; i++) {
			CHECK(memchr(cp.disks[i].name, '\0', sizeof(cp.disks[i].name)));
			CHECK(cp.disks[i].mirror_watermark <= cp.disks[i].size);
		}
	} else {
		CHECK(rc == -EINVAL && why);
	}
	return 0;
}
