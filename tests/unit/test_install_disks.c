// SPDX-License-Identifier: GPL-2.0-or-later
/* install_disks.c: the default choice of disks leaves out virtual disks and
 * drives for removable media (a server's empty floppy or CD-ROM drive cannot
 * even be opened), never the root disk; an explicit list takes any disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "install_disks.h"

/* an inventory as `livemig inventory --json` has it, the fields that matter */
static json_t *inventory(void)
{
	return json_pack("{s:[{s:s,s:s,s:I,s:b,s:b,s:b},{s:s,s:s,s:I,s:b,s:b,s:b},"
			 "{s:s,s:s,s:I,s:b,s:b,s:b},{s:s,s:s,s:I,s:b,s:b,s:b},"
			 "{s:s,s:s,s:I,s:b,s:b,s:b}]}",
			 "disks",
			 "name", "fd0", "device", "/dev/fd0", "size", (json_int_t)4096, "virtual", 0,
			 "removable", 1, "root", 0,
			 "name", "sda", "device", "/dev/sda", "size", (json_int_t)1 << 33, "virtual", 0,
			 "removable", 0, "root", 1,
			 "name", "sdb", "device", "/dev/sdb", "size", (json_int_t)1 << 30, "virtual", 0,
			 "removable", 0, "root", 0,
			 "name", "sr0", "device", "/dev/sr0", "size", (json_int_t)1 << 20, "virtual", 0,
			 "removable", 1, "root", 0,
			 "name", "loop3", "device", "/dev/loop3", "size", (json_int_t)1 << 24, "virtual", 1,
			 "removable", 0, "root", 0);
}

static void default_leaves_out_removable_and_virtual(void **state)
{
	json_t *inv = inventory();
	struct disk_set s;
	char err[256], names[256];

	(void)state;
	assert_non_null(inv);
	assert_int_equal(disks_from_inventory(inv, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(s.n, 5);
	assert_true(s.d[0].removable);
	assert_false(s.d[1].removable);
	disks_choose_default(&s);
	disks_chosen_names(&s, names, sizeof(names));
	assert_string_equal(names, "sda, sdb");
	assert_int_equal(disks_check(&s, err, sizeof(err)), 0);
	json_decref(inv);
}

static void removable_root_is_kept(void **state)
{
	json_t *inv = inventory();
	struct disk_set s;
	char err[256], names[256];

	(void)state;
	/* a machine booted from a USB disk: its root is still replicated */
	assert_int_equal(disks_from_inventory(inv, "sr0", &s, err, sizeof(err)), 0);
	disks_choose_default(&s);
	disks_chosen_names(&s, names, sizeof(names));
	assert_string_equal(names, "sda, sdb, sr0");
	json_decref(inv);
}

static void explicit_list_takes_removable(void **state)
{
	json_t *inv = inventory();
	struct disk_set s;
	char err[256], names[256];

	(void)state;
	assert_int_equal(disks_from_inventory(inv, NULL, &s, err, sizeof(err)), 0);
	assert_int_equal(disks_choose(&s, "sda,sr0", err, sizeof(err)), 0);
	disks_chosen_names(&s, names, sizeof(names));
	assert_string_equal(names, "sda, sr0");
	json_decref(inv);
}

static void listing_says_removable(void **state)
{
	json_t *inv = inventory();
	struct disk_set s;
	char err[256], buf[4096] = "";
	FILE *f = fmemopen(buf, sizeof(buf) - 1, "w");

	(void)state;
	assert_non_null(f);
	assert_int_equal(disks_from_inventory(inv, NULL, &s, err, sizeof(err)), 0);
	disks_print(f, &s);
	fclose(f);
	assert_non_null(strstr(buf, "fd0"));
	assert_non_null(strstr(buf, "removable media"));
	assert_non_null(strstr(buf, "root: holds /, cannot be left out"));
	json_decref(inv);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(default_leaves_out_removable_and_virtual),
		cmocka_unit_test(removable_root_is_kept),
		cmocka_unit_test(explicit_list_takes_removable),
		cmocka_unit_test(listing_says_removable),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
