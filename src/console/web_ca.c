// SPDX-License-Identifier: GPL-2.0-or-later
/*
 * The certificate an installer needs to trust this console (web.h):
 *   GET /api/v1/ca/console.pem   PEM; no sign-in (it is no secret: every
 *                                TLS handshake with the console shows it)
 * The token page offers it and writes it into its install commands, which
 * point console_ca at it. It is --console-ca when serve was given one, else
 * the last certificate of --tls-cert's chain: the top of what the console
 * presents, which is the trust anchor when the chain ends at its CA or the
 * certificate signs itself.
 */
#include <errno.h>
#include <string.h>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "console.h"
#include "web.h"

int console_ca_from_chain(const char *chain_pem, char **out)
{
	BIO *in = BIO_new_mem_buf(chain_pem, -1), *mem = NULL;
	X509 *x, *last = NULL;
	BUF_MEM *bm;
	int rc = -EINVAL;

	*out = NULL;
	if (!in)
		return -ENOMEM;
	while ((x = PEM_read_bio_X509(in, NULL, NULL, NULL))) {
		X509_free(last);
		last = x;
	}
	ERR_clear_error(); /* the end of the chain reads as an error */
	if (!last)
		goto out;
	rc = -ENOMEM;
	mem = BIO_new(BIO_s_mem());
	if (!mem || !PEM_write_bio_X509(mem, last))
		goto out;
	BIO_get_mem_ptr(mem, &bm);
	*out = strndup(bm->data, bm->length);
	rc = *out ? 0 : -ENOMEM;
out:
	X509_free(last);
	BIO_free(mem);
	BIO_free(in);
	return rc;
}

void web_ca_get(struct request *rq, struct reply *rp)
{
	const char *pem = rq->c->console_ca_pem;

	if (!pem) {
		reply_error(rp, 404, "no_console_ca", "this console has no CA certificate to offer: "
			    "start serve with --console-ca FILE");
		return;
	}
	rp->status = 200;
	rp->raw = pem;
	rp->raw_len = strlen(pem);
	rp->content_type = "application/x-pem-file";
}
