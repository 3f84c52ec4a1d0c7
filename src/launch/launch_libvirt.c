// SPDX-License-Identifier: GPL-2.0-or-later
/* The libvirt launcher: a persistent (defined) domain with the copy on
 * virtio (a qcow2 file, or an RBD clone as a network disk), a virtio NIC,
 * the serial console into a file; started, then watched until the
 * first-boot marker says it is up. */
#include <errno.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "launcher.h"
#include "rbd_disk.h"
#include "text_edit.h"
#include "util.h"

#define OVMF_CODE "/usr/share/OVMF/OVMF_CODE_4M.fd"
#define OVMF_VARS "/usr/share/OVMF/OVMF_VARS_4M.fd"

/* XML text and attribute values */
static void xml_put(FILE *f, const char *s)
{
	for (; *s; s++)
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '\'': fputs("&apos;", f); break;
		case '"': fputs("&quot;", f); break;
		default: fputc(*s, f);
		}
}

static void paths(const struct launch_request *rq, char *log, char *nvram, size_t len)
{
	snprintf(log, len, "%s/%s.serial.log", rq->state_dir, rq->name);
	snprintf(nvram, len, "%s/%s_VARS.fd", rq->state_dir, rq->name);
}

static int nic_xml(FILE *f, const char *nic)
{
	if (!strcmp(nic, "user")) {
		fputs("    <interface type='user'>\n", f);
	} else if (!strncmp(nic, "network:", 8)) {
		fputs("    <interface type='network'>\n      <source network='", f);
		xml_put(f, nic + 8);
		fputs("'/>\n", f);
	} else if (!strncmp(nic, "bridge:", 7)) {
		fputs("    <interface type='bridge'>\n      <source bridge='", f);
		xml_put(f, nic + 7);
		fputs("'/>\n", f);
	} else {
		return -EINVAL;
	}
	fputs("      <model type='virtio'/>\n    </interface>\n", f);
	return 0;
}

/* An RBD clone as QEMU's rbd driver opens it (qemu-block-extra): the
 * monitors by address, cephx with the key in a libvirt secret; the
 * launched QEMU reads no Ceph configuration. */
static void rbd_disk_xml(FILE *f, const struct launch_request *rq, int i)
{
	const json_t *m;
	size_t k;

	fputs("    <disk type='network' device='disk'>\n      <driver name='qemu' type='raw'/>\n", f);
	if (rq->ceph_secret) {
		fputs("      <auth username='", f);
		xml_put(f, rq->ceph_id);
		fputs("'>\n        <secret type='ceph' uuid='", f);
		xml_put(f, rq->ceph_secret);
		fputs("'/>\n      </auth>\n", f);
	}
	fputs("      <source protocol='rbd' name='", f);
	xml_put(f, rq->disks[i] + strlen(RBD_PREFIX));
	fputs("'>\n", f);
	json_array_foreach(rq->ceph_monitors, k, m) {
		fputs("        <host name='", f);
		xml_put(f, json_string_value(json_object_get(m, "host")) ?: "");
		fprintf(f, "' port='%d'/>\n", (int)json_integer_value(json_object_get(m, "port")));
	}
	fputs("      </source>\n", f);
}

char *libvirt_domain_xml(const struct launch_request *rq)
{
	char log[1024], nvram[1024], *xml = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&xml, &len);
	int uefi = !strcmp(rq->firmware, "uefi");

	paths(rq, log, nvram, sizeof(log));
	/* TCG here ('qemu'): a host with KVM would say type='kvm' */
	fputs("<domain type='qemu'>\n  <name>", f);
	xml_put(f, rq->name);
	fprintf(f, "</name>\n  <memory unit='MiB'>%u</memory>\n  <vcpu>%u</vcpu>\n", rq->memory_mib, rq->vcpus);
	fputs("  <os>\n    <type arch='x86_64' machine='q35'>hvm</type>\n", f);
	if (uefi) {
		fputs("    <loader readonly='yes' secure='no' type='pflash'>" OVMF_CODE "</loader>\n"
		      "    <nvram template='" OVMF_VARS "'>", f);
		xml_put(f, nvram);
		fputs("</nvram>\n", f);
	}
	fputs("  </os>\n  <features><acpi/><apic/></features>\n"
	      "  <clock offset='utc'/>\n  <on_poweroff>destroy</on_poweroff>\n"
	      "  <on_reboot>restart</on_reboot>\n  <on_crash>destroy</on_crash>\n  <devices>\n", f);
	/* the machine's disks in its order, vda first: the only one the
	 * firmware boots (BIOS disk 0, which GRUB's core.img expects) */
	for (int i = 0; i < rq->n_disks; i++) {
		if (rq->rbd_parents[i]) {
			rbd_disk_xml(f, rq, i);
		} else {
			fputs("    <disk type='file' device='disk'>\n      <driver name='qemu' type='qcow2'/>\n"
			      "      <source file='", f);
			xml_put(f, rq->disks[i]);
			fputs("'/>\n", f);
		}
		fprintf(f, "      <target dev='vd%c' bus='virtio'/>\n%s    </disk>\n", 'a' + i,
			i ? "" : "      <boot order='1'/>\n");
	}
	if (nic_xml(f, rq->nic)) {
		fclose(f);
		free(xml);
		return NULL;
	}
	fputs("    <serial type='file'>\n      <source path='", f);
	xml_put(f, log);
	fputs("'/>\n      <target port='0'/>\n    </serial>\n    <memballoon model='none'/>\n"
	      "  </devices>\n</domain>\n", f);
	fclose(f);
	return xml;
}

static const char *virt_error(void)
{
	virErrorPtr e = virGetLastError();

	return e && e->message ? e->message : "unknown libvirt error";
}

static int domain_alive(void *arg)
{
	int state, reason;

	if (virDomainGetState(arg, &state, &reason, 0) < 0)
		return 0;
	return state == VIR_DOMAIN_RUNNING || state == VIR_DOMAIN_BLOCKED || state == VIR_DOMAIN_PAUSED;
}

static void remove_domain(virDomainPtr dom)
{
	if (virDomainIsActive(dom) == 1)
		virDomainDestroy(dom);
	virDomainUndefineFlags(dom, VIR_DOMAIN_UNDEFINE_NVRAM);
}

static int libvirt_launch(const struct launch_request *rq, json_t **result)
{
	char log[1024], nvram[1024], *xml, *line = NULL, *tail = NULL, err[600] = "", addr[64];
	virConnectPtr conn = NULL;
	virDomainPtr dom = NULL;
	uint64_t t0 = now_mono_ns();
	int rc;

	*result = json_pack("{s:s, s:s}", "driver", "libvirt", "name", rq->name);
	paths(rq, log, nvram, sizeof(log));
	xml = libvirt_domain_xml(rq);
	if (!xml) {
		snprintf(err, sizeof(err), "unknown --nic %s: use user, network:NAME or bridge:NAME", rq->nic);
		rc = -EINVAL;
		goto out;
	}
	conn = virConnectOpen(rq->uri);
	if (!conn) {
		snprintf(err, sizeof(err), "cannot connect to libvirt at %s: %s", rq->uri, virt_error());
		free(xml);
		rc = -ECONNREFUSED;
		goto out;
	}
	unlink(log); /* the watch must not see an earlier boot's marker */
	dom = virDomainDefineXML(conn, xml);
	free(xml);
	if (!dom) {
		snprintf(err, sizeof(err), "libvirt refused the domain: %s", virt_error());
		rc = -EINVAL;
		goto close;
	}
	if (virDomainCreate(dom) < 0) {
		snprintf(err, sizeof(err), "libvirt could not start the domain: %s", virt_error());
		rc = -EIO;
		goto close;
	}
	json_object_set_new(*result, "serial_log", json_string(log));
	rc = serial_watch(log, rq->marker, rq->timeout_s, domain_alive, dom, &line, &tail);
	json_object_set_new(*result, "seconds", json_integer((json_int_t)((now_mono_ns() - t0) / 1000000000ull)));
	if (line)
		json_object_set_new(*result, "marker_line", json_string(line));
	switch (rc) {
	case 0:
		if (!marker_address(line, addr, sizeof(addr)))
			json_object_set_new(*result, "address", json_string(addr));
		break;
	case -ENETUNREACH:
		snprintf(err, sizeof(err), "the guest booted but configured no IPv4 address: %s", line);
		break;
	case -EIO:
		snprintf(err, sizeof(err), "the boot stopped: %s", line);
		break;
	case -ECHILD:
		snprintf(err, sizeof(err), "the domain stopped before it was up");
		break;
	default:
		snprintf(err, sizeof(err), "not up within %llu s (no first-boot marker on the serial console)",
			 (unsigned long long)rq->timeout_s);
	}
	if (rc)
		json_object_set_new(*result, "serial_tail", json_string(tail ? tail : ""));
close:
	if (rc && dom && !rq->keep_on_failure)
		remove_domain(dom);
	if (dom)
		virDomainFree(dom);
	if (conn)
		virConnectClose(conn);
out:
	json_object_set_new(*result, "state", json_string(rc ? "failed" : "up"));
	if (rc)
		json_object_set_new(*result, "error", json_string(err));
	free(line);
	free(tail);
	return rc;
}

static int libvirt_destroy(const struct launch_request *rq, json_t **result)
{
	virConnectPtr conn = virConnectOpen(rq->uri);
	virDomainPtr dom;
	int rc = 0, found;

	*result = json_pack("{s:s, s:s}", "driver", "libvirt", "name", rq->name);
	if (!conn) {
		json_object_set_new(*result, "error", json_string(virt_error()));
		return -ECONNREFUSED;
	}
	/* idempotent: a domain that is not there is what destroy wants */
	dom = virDomainLookupByName(conn, rq->name);
	found = dom != NULL;
	if (dom) {
		remove_domain(dom);
		virDomainFree(dom);
	}
	virConnectClose(conn);
	json_object_set_new(*result, "state", json_string(found ? "destroyed" : "absent"));
	/* only now: librbd refuses to remove a clone a QEMU has open */
	if (rq->n_rbd) {
		char err[500];

		rc = launch_release_clones(rq, *result, err, sizeof(err));
		if (rc)
			json_object_set_new(*result, "error", json_string(err));
	}
	return rc;
}

const struct launcher launcher_libvirt = {
	.name = "libvirt",
	.launch = libvirt_launch,
	.destroy = libvirt_destroy,
};
