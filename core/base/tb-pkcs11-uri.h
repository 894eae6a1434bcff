/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* PKCS#11 URIs (RFC 7512) as text, with no token touched
 * (tb-pkcs11-uri.c). */

#include <glib.h>

G_BEGIN_DECLS

gboolean    tb_pkcs11_is_uri          (const char  *text);
gboolean    tb_pkcs11_uri_is_valid    (const char  *uri,
                                       GError     **error);
char       *tb_pkcs11_uri_dup_token_label (const char *uri);
char       *tb_pkcs11_describe_uri    (const char  *uri);

G_END_DECLS
