/* SPDX-License-Identifier: GPL-3.0-or-later */

/* PKCS#11 URIs (RFC 7512) as text: what names a key on a token, parsed,
 * checked, formatted and described, with no module loaded and no session
 * opened. The context and its audit log describe key storage with it; the
 * token code (pki/tb-pkcs11*.c) stands on it. */

#include "config.h"

#include "tb-pkcs11-uri-private.h"

#include <glib/gi18n-lib.h>
#include <stdlib.h>
#include <string.h>

#include "tb-error.h"

#define TB_PKCS11_URI_SCHEME "pkcs11:"

char *
tb_pkcs11_padded (const CK_UTF8CHAR *field, gsize len)
{
  g_autofree char *s = g_strndup ((const char *) field, len);
  return g_strdup (g_strchomp (s));
}

/* The one formatter of our PKCS#11 URIs: RFC 7512 by p11-kit, plus the
 * module's path as a query attribute when the token is not one of
 * p11-kit's configured modules. */
char *
tb_pkcs11_format_uri (P11KitUri *uri, P11KitUriType type, const char *module_path)
{
  char *text = NULL;
  char *out;

  if (p11_kit_uri_format (uri, type, &text) != P11_KIT_URI_OK)
    text = strdup (TB_PKCS11_URI_SCHEME);
  if (module_path != NULL)
    {
      g_autofree char *escaped = g_uri_escape_string (module_path, "/", FALSE);
      out = g_strdup_printf ("%s?module-path=%s", text, escaped);
    }
  else
    out = g_strdup (text);
  free (text);
  return out;
}

/**
 * tb_pkcs11_is_uri:
 * @text: (nullable): a key's storage, an option's value
 *
 * Whether @text names something on a token (a `pkcs11:` URI) rather than
 * a file. It does not check the URI: tb_pkcs11_uri_is_valid() does.
 */
gboolean
tb_pkcs11_is_uri (const char *text)
{
  return text != NULL && g_str_has_prefix (text, TB_PKCS11_URI_SCHEME);
}

P11KitUri *
tb_pkcs11_parse_uri (const char *text, GError **error)
{
  P11KitUri *uri = p11_kit_uri_new ();
  int rc = text != NULL ? p11_kit_uri_parse (text, P11_KIT_URI_FOR_ANY, uri) : P11_KIT_URI_BAD_SCHEME;

  if (rc != P11_KIT_URI_OK)
    {
      p11_kit_uri_free (uri);
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("“%s” is not a PKCS#11 URI (RFC 7512): %s"),
                   text != NULL ? text : "", p11_kit_uri_message (rc));
      return NULL;
    }
  return uri;
}

gboolean
tb_pkcs11_uri_is_valid (const char *text, GError **error)
{
  P11KitUri *uri = tb_pkcs11_parse_uri (text, error);

  if (uri == NULL)
    return FALSE;
  p11_kit_uri_free (uri);
  return TRUE;
}

/**
 * tb_pkcs11_describe_uri:
 *
 * Returns: (transfer full): "token LABEL (serial S), object NAME" for people
 */
char *
tb_pkcs11_describe_uri (const char *text)
{
  P11KitUri *uri = tb_pkcs11_parse_uri (text, NULL);
  CK_TOKEN_INFO *ti;
  CK_ATTRIBUTE_PTR label;
  g_autofree char *token = NULL, *serial = NULL, *object = NULL;

  if (uri == NULL)
    return g_strdup (text);
  ti = p11_kit_uri_get_token_info (uri);
  token = tb_pkcs11_padded (ti->label, sizeof ti->label);
  serial = tb_pkcs11_padded (ti->serialNumber, sizeof ti->serialNumber);
  label = p11_kit_uri_get_attribute (uri, CKA_LABEL);
  object = label != NULL ? g_strndup (label->pValue, label->ulValueLen) : g_strdup ("?");
  p11_kit_uri_free (uri);
  return g_strdup_printf (_("Token “%s” (serial %s), key “%s”"), token, serial[0] != '\0' ? serial : "?", object);
}

/**
 * tb_pkcs11_uri_dup_token_label:
 *
 * Returns: (transfer full) (nullable): the token label a key URI names
 */
char *
tb_pkcs11_uri_dup_token_label (const char *text)
{
  P11KitUri *uri = tb_pkcs11_parse_uri (text, NULL);
  CK_TOKEN_INFO *ti;
  char *label;

  if (uri == NULL)
    return NULL;
  ti = p11_kit_uri_get_token_info (uri);
  label = tb_pkcs11_padded (ti->label, sizeof ti->label);
  p11_kit_uri_free (uri);
  return label;
}
