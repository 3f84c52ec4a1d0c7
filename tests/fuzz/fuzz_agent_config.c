// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * Fuzz livemigd's configuration parser (src/agent/agent_config.c, on top
 * of src/lib/ini.c): the file is root's, but `livemig install` writes
 * values into it that came from the console and from the operator, and a
 * parser that crashes or reads past a value is a bug whatever the source.
 * Beyond "no crash, leak or UB": an accepted configuration has what
 * validate() promises (a machine name, staging address, certificate
 * paths, 1..FRAME_MAX_DISKS disks with distinct names).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			fprintf(stderr, "fuzz_agent_config: %s:%d: check failed: %s\n", \
				__FILE__, __LINE__, #cond);                          \
			abort();                                                     \
		}                                                                    \
	} while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct agent_config c;
	char err[512];
	char *text;

	if (size > 1 << 16)
		return 0;
	text = malloc(size + 1);
	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	agent_config_defaults(&c);
	if (!agent_config_parse(text, &c, err, sizeof(err))) {
		CHECK(c.machine[0] && c.staging_host[0] && c.cert[0] && c.key[0] && c.ca[0]);
		CHECK(c.ndisks >= 1 && c.ndisks <= FRAME_MAX_DISKS);
		for (unsigned i = 0; i < c.ndisks; i++) {
			CHECK(c.disks[i].name[0] && c.disks[i].path[0]);
			for (unsigned j = 0; j < i; j++)
				CHECK(strcmp(c.disks[i].name, c.disks[j].name));
		}
	} else {
		CHECK(err[0]);
	}
	free(text);
	return 0;
}
