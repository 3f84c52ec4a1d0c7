// SPDX-License-Identifier: GPL-2.0-or-later
/* The machine id and its identity's form (machine_id.h). */
#include "machine_id.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>

#include <openssl/evp.h>

#include "util.h"

int machine_id_derive(const char *account, const char *source, const char *value,
		      char out[MACHINE_ID_LEN + 1])
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	/* one-shot EVP_Digest would need the three parts joined first */
	ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) &&
	     EVP_DigestUpdate(ctx, account, strlen(account)) && EVP_DigestUpdate(ctx, "\n", 1) &&
	     EVP_DigestUpdate(ctx, source, strlen(source)) && EVP_DigestUpdate(ctx, ":", 1) &&
	     EVP_DigestUpdate(ctx, value, strlen(value)) && EVP_DigestFinal_ex(ctx, md, &mdlen) &&
	     mdlen == 32;
	EVP_MD_CTX_free(ctx);
	if (!ok) {
		/* an empty id is refused everywhere, unlike a plausible wrong one */
		out[0] = '\0';
		return -ENOMEM;
	}
	hex_encode(md, MACHINE_ID_LEN / 2, out);
	return 0;
}

int machine_instance_id_valid(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > MACHINE_INSTANCE_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!isgraph((unsigned char)s[i]))
			return 0;
	return 1;
}

static int lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static int hex_val(char c)
{
	return c <= '9' ? c - '0' : c - 'a' + 10;
}

const char *machine_identity_invalid(const char *source, const char *value)
{
	int nonzero = 0;

	if (!strcmp(source, "metadata"))
		return machine_instance_id_valid(value)
			       ? NULL
			       : "a metadata identity's value must be an instance id: 1 to 64 "
				 "printable characters without blanks";
	if (strcmp(source, "mac"))
		return "the identity's source must be \"metadata\" or \"mac\"";
	if (strlen(value) != 17)
		goto bad_mac;
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? value[i] != ':' : !lower_hex(value[i]))
			goto bad_mac;
		if (i % 3 != 2 && value[i] != '0')
			nonzero = 1;
	}
	if (hex_val(value[1]) & 1)
		return "a mac identity's value must be a unicast address (not multicast)";
	if (!nonzero)
		return "a mac identity's value must not be all zeros";
	return NULL;
bad_mac:
	return "a mac identity's value must be a MAC address in lower case, "
	       "aa:bb:cc:dd:ee:ff";
}
