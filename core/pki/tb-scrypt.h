/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>
#include <openssl/x509.h>

G_BEGIN_DECLS

gboolean              tb_scrypt         (const char *pass, gsize pass_len, const guint8 *salt, gsize salt_len,
                                         guint64 n, guint32 r, guint32 p, guint8 *out, gsize out_len,
                                         GError **error);
void                  tb_scrypt_use_generic_vectors (gboolean generic);
const char           *tb_scrypt_get_vector_unit     (void);
PKCS8_PRIV_KEY_INFO  *tb_pkcs8_decrypt  (const X509_SIG *p8, const char *pass, gsize pass_len, GError **error);

G_END_DECLS
