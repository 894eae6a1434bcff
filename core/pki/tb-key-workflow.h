/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-key.h"
#include "tb-progress.h"

G_BEGIN_DECLS

/**
 * TbKeyGenerateOptions:
 * @name: the key's name in the context (tb_name_is_valid())
 * @usage: what the key is for
 * @algorithm: (nullable): %TB_KEY_ALGORITHM_DEFAULT when %NULL
 * @token_uri: (nullable): generate it on this PKCS#11 token; %NULL: in
 *   software, stored encrypted with @passphrase
 * @pin: (nullable): the token's PIN, set for the process when not empty
 * @passphrase: (nullable): the context passphrase (a software key)
 * @defer_save: store the key but leave saving context.json to the caller
 *   (several keys, one save)
 */
typedef struct {
  const char *name;
  TbKeyUsage usage;
  const char *algorithm;
  const char *token_uri;
  const char *pin;
  const char *passphrase;
  gboolean defer_save;
} TbKeyGenerateOptions;

/**
 * TbKeyImportOptions:
 * @name: the key's name in the context (tb_name_is_valid())
 * @usage: what the key is for
 * @file: (nullable): the key file (PEM, DER, PKCS#8, encrypted PKCS#8,
 *   PKCS#12); %NULL with @token_uri
 * @file_passphrase: (nullable): opens an encrypted @file
 * @token_uri: (nullable): record a key already on a PKCS#11 token instead
 * @passphrase: (nullable): the context passphrase (a key from a file)
 */
typedef struct {
  const char *name;
  TbKeyUsage usage;
  const char *file;
  const char *file_passphrase;
  const char *token_uri;
  const char *passphrase;
} TbKeyImportOptions;

gboolean tb_key_workflow_check_name (TbContext                  *ctx,
                                     const char                 *name,
                                     GError                    **error);
TbKey   *tb_key_workflow_generate   (TbContext                  *ctx,
                                     const TbKeyGenerateOptions *options,
                                     TbProgress                 *progress,
                                     GError                    **error);
TbKey   *tb_key_workflow_read       (const TbKeyImportOptions   *options,
                                     GError                    **error);
TbKey   *tb_key_workflow_import     (TbContext                  *ctx,
                                     const TbKeyImportOptions   *options,
                                     TbKey                      *key,
                                     TbProgress                 *progress,
                                     GError                    **error);

G_END_DECLS
