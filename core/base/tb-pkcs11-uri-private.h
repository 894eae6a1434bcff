/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* PKCS#11 URIs as p11-kit sees them, for core/ only: the one parser and the
 * one formatter (tb-pkcs11-uri.c). */

#include <p11-kit/pkcs11.h>
#include <p11-kit/uri.h>

#include "tb-pkcs11-uri.h"

G_BEGIN_DECLS

P11KitUri  *tb_pkcs11_parse_uri      (const char        *text,
                                      GError           **error);
char       *tb_pkcs11_format_uri     (P11KitUri         *uri,
                                      P11KitUriType      type,
                                      const char        *module_path);
char       *tb_pkcs11_padded         (const CK_UTF8CHAR *field,
                                      gsize              len);

G_END_DECLS
