/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

#include "tb-pkcs11-uri.h"

G_BEGIN_DECLS

/**
 * TbTokenInfo:
 * @label: the token label
 * @uri: the token's RFC 7512 URI (with `?module-path=` when the module
 *   was given by path)
 *
 * A PKCS#11 token present in a slot.
 */
typedef struct {
  char *label;
  char *serial;
  char *manufacturer;
  char *model;
  char *module;
  char *uri;
  gboolean initialized;
} TbTokenInfo;

typedef char *(*TbPkcs11PinFunc) (const char *token_label,
                                  gpointer    data,
                                  GError    **error);

void        tb_token_info_free        (TbTokenInfo *info);
gboolean    tb_token_info_is_trust_store (const TbTokenInfo *info);
GPtrArray  *tb_pkcs11_list_tokens     (const char  *module_path,
                                       GError     **error);
void        tb_pkcs11_reset           (void);
void        tb_pkcs11_set_pin         (const char  *pin);
void        tb_pkcs11_set_pin_func    (TbPkcs11PinFunc func,
                                       gpointer    data);
gboolean    tb_pkcs11_has_pin         (void);
gboolean    tb_pkcs11_get_key_flags   (const char  *key_uri,
                                       gboolean    *sensitive,
                                       gboolean    *extractable,
                                       GError     **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTokenInfo, tb_token_info_free)

G_END_DECLS
