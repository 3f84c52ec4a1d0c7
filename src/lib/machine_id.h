/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * The machine id and the identity it is derived from (docs/identity.md,
 * "Machine id"). The console derives every machine's id with this, and the
 * installer checks the console's answer with it: one formula, one owner.
 */
#ifndef LIVEMIG_MACHINE_ID_H
#define LIVEMIG_MACHINE_ID_H

#define MACHINE_ID_LEN 32 /* hex digits */
#define MACHINE_INSTANCE_ID_MAX 64

/*
 * Lowercase hex SHA-256 of account "\n" source ":" value, first 32 digits.
 * Account names never hold a newline, so two accounts never hash the same
 * text. 0, or -ENOMEM (OpenSSL failed) with out empty.
 */
int machine_id_derive(const char *account, const char *source, const char *value,
		      char out[MACHINE_ID_LEN + 1]);

/* 1 when s is a plausible instance id: 1..64 printable, non-space ASCII. */
int machine_instance_id_valid(const char *s);

/*
 * Whether (source, value) is an identity as identity_detect() writes it:
 * "metadata" with an instance id, or "mac" with a unicast, non-zero MAC in
 * lowercase "aa:bb:cc:dd:ee:ff" (one spelling per machine, so one id).
 * NULL when it is, else why not (a static string).
 */
const char *machine_identity_invalid(const char *source, const char *value);

#endif
