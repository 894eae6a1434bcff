/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-secret.h"

G_BEGIN_DECLS

/**
 * TbKeyUsage:
 * @TB_KEY_USAGE_ROOT_CA: the OEM root CA; certifies the CAs, the
 *   mastering key and the product keys
 * @TB_KEY_USAGE_PROVISIONING_CA: issues device certificates
 * @TB_KEY_USAGE_MASTERING: signs update protection keys (UPKs)
 * @TB_KEY_USAGE_PRODUCT: wraps image keys for a product family; its
 *   private half is provisioned into the devices of that product
 * @TB_KEY_USAGE_JOB: signs production job material
 *
 * What a key is for. A key is refused for anything else.
 */
typedef enum {
  TB_KEY_USAGE_ROOT_CA,
  TB_KEY_USAGE_PROVISIONING_CA,
  TB_KEY_USAGE_MASTERING,
  TB_KEY_USAGE_PRODUCT,
  TB_KEY_USAGE_JOB,
  TB_KEY_USAGE_N,
} TbKeyUsage;

#define TB_KEY_ALGORITHM_DEFAULT "ec-p256"

/* Where a key lives: a passphrase-encrypted PKCS#8 file in the context. */
#define TB_KEY_STORAGE_FILE "file"

#define TB_TYPE_KEY (tb_key_get_type ())
G_DECLARE_FINAL_TYPE (TbKey, tb_key, TB, KEY, GObject)

const char  *tb_key_usage_to_string        (TbKeyUsage   usage);
gboolean     tb_key_usage_from_string      (const char  *text,
                                            TbKeyUsage  *usage,
                                            GError     **error);
const char  *tb_key_usage_describe         (TbKeyUsage   usage);
const char *const *tb_key_algorithms       (void);
gboolean     tb_key_algorithm_is_supported (const char  *algorithm,
                                            GError     **error);

TbKey       *tb_key_generate               (const char  *algorithm,
                                            GError     **error);
TbKey       *tb_key_import_file            (const char  *path,
                                            const char  *passphrase,
                                            GError     **error);
TbKey       *tb_key_load                   (TbContext   *ctx,
                                            const char  *name,
                                            GError     **error);
TbKey       *tb_key_generate_on_token      (const char  *token_uri,
                                            const char  *label,
                                            const char  *algorithm,
                                            TbKeyUsage   usage,
                                            GError     **error);
TbKey       *tb_key_new_from_token         (const char  *key_uri,
                                            GError     **error);
gboolean     tb_key_is_on_token            (TbKey       *self);
TbKey       *tb_key_load_unlocked          (TbContext   *ctx,
                                            const char  *name,
                                            const char  *secret,
                                            GError     **error);
gboolean     tb_key_unlock                 (TbKey       *self,
                                            TbContext   *ctx,
                                            const char  *passphrase,
                                            GError     **error);
gboolean     tb_key_store                  (TbKey       *self,
                                            TbContext   *ctx,
                                            const char  *name,
                                            TbKeyUsage   usage,
                                            const char  *passphrase,
                                            GError     **error);
gboolean     tb_key_export_public          (TbKey       *self,
                                            const char  *path,
                                            GError     **error);
gboolean     tb_key_require_usage          (TbKey       *self,
                                            TbKeyUsage   usage,
                                            const char  *action,
                                            GError     **error);

const char  *tb_key_get_name               (TbKey       *self);
TbKeyUsage   tb_key_get_usage              (TbKey       *self);
const char  *tb_key_get_algorithm          (TbKey       *self);
const char  *tb_key_get_storage            (TbKey       *self);
char        *tb_key_describe_storage       (TbKey       *self);
const char  *tb_key_get_public_sha256      (TbKey       *self);
gboolean     tb_key_has_private            (TbKey       *self);
char        *tb_key_dup_public_pem         (TbKey       *self);

G_END_DECLS
