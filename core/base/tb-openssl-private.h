/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What every OpenSSL user in core/ shares, and nothing more: the EVP
 * autoptr cleanups, the random generator and the GError that carries
 * OpenSSL's own reason. For core/ only (the UI never does crypto). The key code (pki/tb-key*) and
 * the token code (pki/tb-pkcs11*) both stand on it, so neither needs the
 * other's private header for them. */

#include <glib.h>
#include <openssl/evp.h>

G_BEGIN_DECLS

gboolean tb_crypto_random_bytes (guint8     *out,
                                 gsize       len,
                                 GError    **error);
void tb_set_error_from_openssl (GError    **error,
                                int         code,
                                const char *format,
                                ...) G_GNUC_PRINTF (3, 4);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY, EVP_PKEY_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_PKEY_CTX, EVP_PKEY_CTX_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (EVP_MD_CTX, EVP_MD_CTX_free)

G_END_DECLS
