// SPDX-License-Identifier: GPL-2.0-or-later
/* Host name, machine id, RAM, CPUs and kernel. */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "inventory_internal.h"
#include "sysfs_attr.h"

int inv_count_cpu_list(const char *s)
{
	long total = 0;

	if (!*s)
		return -EINVAL;
	while (*s) {
		char *end;
		long a, b;

		if (!isdigit((unsigned char)*s))
			return -EINVAL;
		a = b = strtol(s, &end, 10);
		if (*end == '-') {
			if (!isdigit((unsigned char)end[1]))
				return -EINVAL;
			b = strtol(end + 1, &end, 10);
		}
		if (b < a || b - a >= 1 << 20)
			return -EINVAL;
		total += b - a + 1;
		if (total > INT_MAX / 2)
			return -EINVAL;
		if (*end == ',')
			end++;
		else if (*end)
			return -EINVAL;
		s = end;
	}
	return (int)total;
}

/* The value of "Key: value" lines (meminfo, cpuinfo), first match. */
static int proc_field(const char *path, const char *key, char *val, size_t len)
{
	size_t klen = strlen(key);
	char line[1024];
	FILE *f = fopen(path, "re");
	int rc = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *p = line + klen;

		if (strncmp(line, key, klen) || (*p != ':' && *p != ' ' && *p != '\t'))
			continue;
		p += strspn(p, " \t:");
		p[strcspn(p, "\n")] = '\0';
		snprintf(val, len, "%s", p);
		rc = 0;
		break;
	}
	fclose(f);
	return rc;
}

static int add_memory(json_t *doc, json_t *warnings, const char *proc)
{
	char path[4096], val[64];
	unsigned long long kb;
	char unit[8] = "";

	snprintf(path, sizeof(path), "%s/meminfo", proc);
	if (proc_field(path, "MemTotal", val, sizeof(val)) ||
	    sscanf(val, "%llu %7s", &kb, unit) != 2 || strcmp(unit, "kB")) {
		inv_warn(warnings, "memory: no MemTotal in %s", path);
		return json_object_set_new(doc, "memory_bytes", json_null()) ? -ENOMEM : 0;
	}
	return json_object_set_new(doc, "memory_bytes", json_integer((json_int_t)(kb * 1024))) ?
		       -ENOMEM : 0;
}

static int add_cpus(json_t *doc, json_t *warnings, const char *sysfs, const char *proc)
{
	char path[4096], buf[4096], model[256];
	long n = -1;

	/* the kernel's list of online CPUs, what nproc counts outside cgroup
	 * or affinity limits */
	if (attr_readf(buf, sizeof(buf), "%s/devices/system/cpu/online", sysfs) == 0)
		n = inv_count_cpu_list(buf);
	if (n <= 0 && !strcmp(sysfs, "/sys"))
		n = sysconf(_SC_NPROCESSORS_ONLN);
	if (n <= 0)
		inv_warn(warnings, "cores: cannot read %s/devices/system/cpu/online", sysfs);
	if (json_object_set_new(doc, "cores", n > 0 ? json_integer(n) : json_null()))
		return -ENOMEM;
	/* x86 says "model name"; arm64 has no model line at all */
	snprintf(path, sizeof(path), "%s/cpuinfo", proc);
	if (proc_field(path, "model name", model, sizeof(model)))
		return json_object_set_new(doc, "cpu_model", json_null()) ? -ENOMEM : 0;
	attr_clean(model);
	return json_object_set_new(doc, "cpu_model", json_string(model)) ? -ENOMEM : 0;
}

static int add_machine_id(json_t *doc, json_t *warnings, const char *path)
{
	char id[64];
	size_t i;
	int rc = attr_read(path, id, sizeof(id));

	if (rc) {
		inv_warn(warnings, "machine_id: %s: %s", path, strerror(-rc));
		return json_object_set_new(doc, "machine_id", json_null()) ? -ENOMEM : 0;
	}
	for (i = 0; id[i] && isxdigit((unsigned char)id[i]); i++)
		;
	if (i != 32 || id[i]) {
		inv_warn(warnings, "machine_id: %s does not hold 32 hex digits", path);
		return json_object_set_new(doc, "machine_id", json_null()) ? -ENOMEM : 0;
	}
	return json_object_set_new(doc, "machine_id", json_string(id)) ? -ENOMEM : 0;
}

int inv_system(json_t *doc, json_t *warnings, const char *sysfs, const char *proc,
	       const char *machine_id_path)
{
	char host[HOST_NAME_MAX + 1];
	struct utsname u;
	json_t *k;
	int rc;

	if (gethostname(host, sizeof(host)) == 0) {
		host[sizeof(host) - 1] = '\0';
	} else {
		inv_warn(warnings, "hostname: %s", strerror(errno));
		host[0] = '\0';
	}
	if (json_object_set_new(doc, "hostname", host[0] ? json_string(host) : json_null()))
		return -ENOMEM;
	if ((rc = add_machine_id(doc, warnings, machine_id_path)) ||
	    (rc = add_memory(doc, warnings, proc)) || (rc = add_cpus(doc, warnings, sysfs, proc)))
		return rc;
	if (uname(&u))
		return json_object_set_new(doc, "kernel", json_null()) ? -ENOMEM : 0;
	k = json_pack("{s:s, s:s, s:s}", "release", u.release, "version", u.version, "machine",
		      u.machine);
	return !k || json_object_set_new(doc, "kernel", k) ? -ENOMEM : 0;
}
