/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <openssl/x509.h>

#include "tb-cert.h"

G_BEGIN_DECLS

/* What the pieces of TbCert share (tb-cert.c: loading, storing, export,
 * accessors; tb-cert-issue.c: issuing; tb-cert-verify.c: chains and
 * revocation), and what other core modules use to build certificates. */

#define TB_CERT_FILE_MAX_BYTES (1024u * 1024u)

struct _TbCert {
  GObject parent_instance;

  X509 *x509;
  char *name;
  char *key_name;
  char *sha256;
  GDateTime *not_before;
  GDateTime *not_after;
};

X509   *tb_cert_get_x509        (TbCert *self);
TbCert *tb_cert_new_for_x509    (X509   *x509);
gboolean tb_cert_add_profile_extensions (X509 *x509, X509 *issuer, TbCertProfile profile, GError **error);
gboolean tb_cert_random_serial  (X509 *x509, GError **error);
const EVP_MD *tb_cert_digest_for_key (EVP_PKEY *pkey);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (X509, X509_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (BIO, BIO_free)

G_END_DECLS
