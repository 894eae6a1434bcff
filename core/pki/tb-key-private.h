/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* OpenSSL-typed key API, for core/ only (the UI never does crypto). */

#include <openssl/evp.h>

#include "tb-key.h"
#include "tb-openssl-private.h"

G_BEGIN_DECLS

/* What the pieces of TbKey share (tb-key.c: the object, generation,
 * accessors; tb-key-import.c: reading existing keys; tb-key-store.c: keys
 * in a context, unlocking, PEM export): its fields and the file size
 * bound. */

#define TB_KEY_FILE_MAX_BYTES (1024u * 1024u)

struct _TbKey {
  GObject parent_instance;

  char *name;
  TbKeyUsage usage;
  char *algorithm;
  char *storage;
  char *file;
  char *public_file;
  char *public_sha256;
  EVP_PKEY *public_key;
  EVP_PKEY *private_key;
};

EVP_PKEY *tb_key_get_public_pkey   (TbKey      *self);
EVP_PKEY *tb_key_get_private_pkey  (TbKey      *self);
TbKey    *tb_key_new_for_pkey      (EVP_PKEY   *pkey,
                                    gboolean    has_private,
                                    GError    **error);
TbKey    *tb_key_new_from_point    (const guint8 *point,
                                    GError      **error);
gboolean  tb_key_get_p256_point    (TbKey      *self,
                                    guint8     *point);
gboolean  tb_key_get_p256_scalar   (TbKey      *self,
                                    guint8     *scalar);
TbKey    *tb_key_import_data       (const char *data,
                                    gsize       len,
                                    const char *origin,
                                    const char *passphrase,
                                    GError    **error);
char     *tb_key_dup_encrypted_pem (TbKey      *self,
                                    const char *passphrase,
                                    gsize      *len,
                                    GError    **error);
char     *tb_pkey_describe_algorithm (EVP_PKEY *pkey);
char     *tb_pkey_public_sha256    (EVP_PKEY   *pkey);


G_END_DECLS
