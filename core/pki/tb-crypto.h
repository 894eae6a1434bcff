/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Small key-agreement and key-wrapping helpers shared by the UPK (image
 * keys) and provisioning (product keys to devices); core/ only. */

#include <openssl/evp.h>
#include <glib.h>

#include "tb-openssl-private.h"

G_BEGIN_DECLS

gboolean tb_crypto_ecdh          (EVP_PKEY      *own,
                                  EVP_PKEY      *peer,
                                  guint8        *shared,
                                  gsize         *shared_len,
                                  GError       **error);
gboolean tb_crypto_hkdf_sha256   (const guint8  *ikm,
                                  gsize          ikm_len,
                                  const guint8  *salt,
                                  gsize          salt_len,
                                  const guint8  *info,
                                  gsize          info_len,
                                  guint8        *out,
                                  gsize          out_len,
                                  GError       **error);
gboolean tb_crypto_aes256_kw     (gboolean       wrap,
                                  const guint8  *kek,
                                  const guint8  *in,
                                  gsize          in_len,
                                  guint8        *out,
                                  gsize         *out_len,
                                  GError       **error);
gboolean tb_crypto_verify_device_signature (const guint8 pub[65],
                                            const char   *label,
                                            const guint8 *prefix,
                                            gsize         prefix_len,
                                            const guint8 *signed_data,
                                            gsize         signed_len,
                                            const guint8 *sig,
                                            gsize         sig_len);

G_END_DECLS
