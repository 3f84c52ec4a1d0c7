// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * What can be known about the change-tracking module without loading it:
 * Secure Boot from the EFI variable and from mokutil's words, modprobe's
 * errors turned into reasons and remedies, and the secure-boot and
 * kmod-loadable checks on a system image in a temporary directory, judged by
 * the configured tracker (kmod fails; auto, scan or none warn with a remedy:
 * a module that cannot load is never a pass).
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "kmod_probe.h"
#include "prereq.h"

#define SB_VAR "/sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"

static char base[256];

#include "scratch_dir.h"

static void put(const char *rel, const void *data, size_t len)
{
	char p[600], dir[600];
	int fd;

	snprintf(p, sizeof(p), "%s%s", base, rel);
	memcpy(dir, p, sizeof(p));
	for (char *s = dir + strlen(base) + 1; (s = strchr(s, '/')); s++) {
		*s = '\0';
		if (mkdir(dir, 0755) && errno != EEXIST)
			fail_msg("mkdir %s: %s", dir, strerror(errno));
		*s = '/';
	}
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, data, len), (ssize_t)len);
	close(fd);
}

static void drop(const char *rel)
{
	char p[600];

	snprintf(p, sizeof(p), "%s%s", base, rel);
	assert_int_equal(unlink(p), 0);
}

static void test_efivar(void **state)
{
	static const uint8_t on[] = { 6, 0, 0, 0, 1 }, off[] = { 6, 0, 0, 0, 0 };

	(void)state;
	assert_int_equal(kmod_sb_from_efivar(on, sizeof(on)), KMOD_SB_ENABLED);
	assert_int_equal(kmod_sb_from_efivar(off, sizeof(off)), KMOD_SB_DISABLED);
	assert_int_equal(kmod_sb_from_efivar(on, 4), KMOD_SB_UNKNOWN); /* attributes only */
}

static void test_mokutil(void **state)
{
	(void)state;
	assert_int_equal(kmod_sb_from_mokutil("SecureBoot enabled\n"), KMOD_SB_ENABLED);
	assert_int_equal(kmod_sb_from_mokutil("SecureBoot disabled\nPlatform is in Setup Mode\n"),
			 KMOD_SB_DISABLED);
	assert_int_equal(kmod_sb_from_mokutil("EFI variables are not supported on this system\n"),
			 KMOD_SB_NOT_EFI);
	assert_int_equal(kmod_sb_from_mokutil("Failed to read SecureBoot\n"), KMOD_SB_UNKNOWN);
}

static void test_explain(void **state)
{
	char why[256], remedy[256];

	(void)state;
	kmod_explain_modprobe(1, "modprobe: ERROR: could not insert 'livemig_cbt': Key was "
			      "rejected by service\n", KMOD_SB_ENABLED, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(why, "Secure Boot rejected"));
	assert_non_null(strstr(remedy, "mokutil --import /var/lib/dkms/mok.pub"));
	kmod_explain_modprobe(1, "modprobe: ERROR: could not insert 'livemig_cbt': Operation "
			      "not permitted\n", KMOD_SB_ENABLED, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(why, "Secure Boot rejected"));
	kmod_explain_modprobe(1, "modprobe: ERROR: could not insert 'livemig_cbt': Operation "
			      "not permitted\n", KMOD_SB_DISABLED, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(why, "not permitted"));
	kmod_explain_modprobe(1, "modprobe: FATAL: Module livemig_cbt not found in directory "
			      "/lib/modules/6.1.0-56-amd64\n", KMOD_SB_UNKNOWN, why, sizeof(why),
			      remedy, sizeof(remedy));
	assert_non_null(strstr(why, "not built for this kernel"));
	assert_non_null(strstr(why, "the livemig-cbt-dkms package"));
	assert_non_null(strstr(remedy, "the livemig-cbt-dkms package"));
	assert_non_null(strstr(remedy, "dkms autoinstall"));
	kmod_explain_modprobe(1, "modprobe: ERROR: could not insert 'livemig_cbt': Invalid "
			      "module format\n", KMOD_SB_UNKNOWN, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(why, "another kernel"));
	kmod_explain_modprobe(-ENOENT, "", KMOD_SB_UNKNOWN, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(why, "modprobe is not installed"));
	kmod_explain_modprobe(1, "something new\nsecond line", KMOD_SB_UNKNOWN, why, sizeof(why),
			      remedy, sizeof(remedy));
	assert_string_equal(why, "modprobe livemig_cbt failed (status 1): something new");
	assert_string_equal(remedy, "run modprobe livemig_cbt as root for the whole message");
	/* every reason comes with a remedy */
	kmod_explain_modprobe(1, "modprobe: ERROR: could not insert 'livemig_cbt': Function "
			      "not implemented\n", KMOD_SB_NOT_EFI, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_string_equal(why, "this kernel cannot load modules");
	assert_non_null(strstr(remedy, "tracker = scan"));
	kmod_explain_modprobe(1, "modprobe: ERROR: could not insert 'livemig_cbt': Operation "
			      "not permitted\n", KMOD_SB_DISABLED, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(remedy, "run as root"));
	kmod_explain_modprobe(-ENOENT, "", KMOD_SB_UNKNOWN, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(remedy, "install kmod"));
	kmod_explain_modprobe(-EACCES, "", KMOD_SB_UNKNOWN, why, sizeof(why), remedy,
			      sizeof(remedy));
	assert_non_null(strstr(remedy, "as root"));
}

static void test_secure_boot_root(void **state)
{
	static const uint8_t on[] = { 6, 0, 0, 0, 1 }, off[] = { 6, 0, 0, 0, 0 };
	char how[64];

	(void)state;
	assert_int_equal(kmod_secure_boot(base, how, sizeof(how)), KMOD_SB_NOT_EFI);
	put(SB_VAR, on, sizeof(on));
	assert_int_equal(kmod_secure_boot(base, how, sizeof(how)), KMOD_SB_ENABLED);
	assert_string_equal(how, "EFI variable SecureBoot");
	put(SB_VAR, off, sizeof(off));
	assert_int_equal(kmod_secure_boot(base, how, sizeof(how)), KMOD_SB_DISABLED);
	drop(SB_VAR); /* EFI without the variable: nothing enforces signatures */
	assert_int_equal(kmod_secure_boot(base, how, sizeof(how)), KMOD_SB_DISABLED);
	for (const char *d = "/sys/firmware/efi/efivars"; ; ) {
		char p[600];

		snprintf(p, sizeof(p), "%s%s", base, d);
		assert_int_equal(rmdir(p), 0);
		if (!strcmp(d, "/sys"))
			break;
		d = !strcmp(d, "/sys/firmware/efi/efivars") ? "/sys/firmware/efi" :
		    !strcmp(d, "/sys/firmware/efi") ? "/sys/firmware" : "/sys";
	}
}

/* Run the checks on the image with tracker t; the result of check id. */
static struct prereq_result check(const char *t, const char *id)
{
	struct prereq_result r[PREREQ_MAX_RESULTS];
	struct prereq_options o = { .root = base, .tracker = t };
	int n = prereq_run(&o, r, PREREQ_MAX_RESULTS);

	assert_true(n > 0);
	for (int i = 0; i < n; i++)
		if (!strcmp(r[i].id, id))
			return r[i];
	fail_msg("no check %s", id);
	return r[0];
}

static void test_checks_by_tracker(void **state)
{
	static const uint8_t on[] = { 6, 0, 0, 0, 1 };
	struct prereq_result r;

	(void)state;
	put("/proc/sys/kernel/osrelease", "6.1.0-56-amd64\n", 15);
	put("/etc/os-release", "ID=debian\n", 10);

	/* no module built: kmod fails, auto, scan and none warn; each says what it
	 * costs and names the package that exists */
	r = check("kmod", "kmod-loadable");
	assert_int_equal(r.verdict, PREREQ_FAIL);
	assert_non_null(strstr(r.seen, "not built for 6.1.0-56-amd64"));
	assert_non_null(strstr(r.seen, "will not start"));
	assert_non_null(strstr(r.remedy, "dkms autoinstall"));
	assert_non_null(strstr(r.remedy, "the livemig-cbt-dkms package"));
	r = check("auto", "kmod-loadable");
	assert_int_equal(r.verdict, PREREQ_WARN);
	assert_non_null(strstr(r.seen, "falls back to the scan tracker"));
	assert_non_null(strstr(r.remedy, "livemig-cbt-dkms"));
	r = check("scan", "kmod-loadable");
	assert_int_equal(r.verdict, PREREQ_WARN);
	assert_non_null(strstr(r.seen, "not used now (tracker = scan"));
	assert_non_null(strstr(r.remedy, "livemig-cbt-dkms"));
	r = check(NULL, "kmod-loadable");
	assert_int_equal(r.verdict, PREREQ_WARN);
	assert_non_null(strstr(r.seen, "livemig install writes tracker = auto"));
	assert_non_null(strstr(r.remedy, "livemig-cbt-dkms"));

	put("/lib/modules/6.1.0-56-amd64/updates/dkms/livemig_cbt.ko.xz", "x", 1);
	r = check("kmod", "kmod-loadable");
	assert_int_equal(r.verdict, PREREQ_PASS);
	assert_non_null(strstr(r.seen, "/lib/modules/6.1.0-56-amd64/updates/dkms/livemig_cbt.ko.xz"));

	/* Secure Boot */
	r = check("kmod", "secure-boot");
	assert_int_equal(r.verdict, PREREQ_PASS);
	assert_non_null(strstr(r.seen, "not booted through EFI"));
	put(SB_VAR, on, sizeof(on));
	r = check("kmod", "secure-boot");
	assert_int_equal(r.verdict, PREREQ_FAIL);
	assert_non_null(strstr(r.seen, "no DKMS signing key"));
	assert_non_null(strstr(r.remedy, "install livemig-cbt-dkms"));
	assert_non_null(strstr(r.remedy, "mokutil --import /var/lib/dkms/mok.pub"));
	put("/var/lib/dkms/mok.pub", "cert", 4);
	r = check("auto", "secure-boot");
	assert_int_equal(r.verdict, PREREQ_WARN);
	assert_non_null(strstr(r.seen, "Secure Boot enabled"));
	assert_non_null(strstr(r.remedy, "mokutil --import /var/lib/dkms/mok.pub"));
	r = check("scan", "secure-boot");
	assert_int_equal(r.verdict, PREREQ_WARN);
	assert_non_null(strstr(r.remedy, "mokutil --import /var/lib/dkms/mok.pub"));
}

static int setup(void **state)
{
	(void)state;
	return scratch_dir_make("test_kmod_probe");
}

static int teardown(void **state)
{
	(void)state;
	return scratch_dir_remove();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_efivar),
		cmocka_unit_test(test_mokutil),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_secure_boot_root),
		cmocka_unit_test(test_checks_by_tracker),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
