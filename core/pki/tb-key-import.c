/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Reading an existing private key into a TbKey: PEM or DER, traditional,
 * PKCS#8 (encrypted or not) or PKCS#12, from a file or from memory. A
 * public key alone is refused. */

#include "config.h"

#include "tb-key-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/decoder.h>
#include <openssl/err.h>
#include <openssl/pkcs12.h>
#include <string.h>

#include "tb-error.h"
#include "tb-file.h"
#include "tb-secret.h"

static gboolean
pkey_has_private (EVP_PKEY *pkey)
{
  BIGNUM *bn = NULL;
  size_t len = 0;

  if (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) ||
      EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_RSA_D, &bn))
    {
      BN_clear_free (bn);
      return TRUE;
    }
  return EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, NULL, 0, &len) && len > 0;
}

static gboolean
looks_encrypted (const char *data, gsize len)
{
  return g_strstr_len (data, (gssize) len, "ENCRYPTED PRIVATE KEY") != NULL ||
         g_strstr_len (data, (gssize) len, "Proc-Type: 4,ENCRYPTED") != NULL;
}

static EVP_PKEY *
import_pkcs12 (const char *path, const guint8 *data, gsize len, const char *passphrase, GError **error)
{
  const unsigned char *p = data;
  PKCS12 *p12 = d2i_PKCS12 (NULL, &p, (long) len);
  EVP_PKEY *pkey = NULL;
  X509 *cert = NULL;

  if (p12 == NULL)
    {
      ERR_clear_error ();
      return NULL;
    }
  if (!PKCS12_mac_present (p12) || !PKCS12_verify_mac (p12, passphrase, -1))
    {
      if (PKCS12_mac_present (p12))
        {
          PKCS12_free (p12);
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                       passphrase != NULL ? _("Wrong passphrase for the PKCS#12 file %s")
                                          : _("The PKCS#12 file %s is protected: give its passphrase"),
                       path);
          return NULL;
        }
    }
  if (!PKCS12_parse (p12, passphrase, &pkey, &cert, NULL) || pkey == NULL)
    {
      PKCS12_free (p12);
      X509_free (cert);
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("%s: the PKCS#12 file holds no usable private key"), path);
      return NULL;
    }
  PKCS12_free (p12);
  X509_free (cert);
  return pkey;
}

/**
 * tb_key_import_file:
 * @path: a PEM or DER private key (traditional, PKCS#8, encrypted
 *   PKCS#8) or a PKCS#12 file
 * @passphrase: (nullable): the file's passphrase, if it is protected
 *
 * Reads an existing private key. A public key alone is refused (a key of
 * the context must be able to sign or unwrap).
 */
TbKey *
tb_key_import_file (const char *path, const char *passphrase, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;
  TbKey *key;

  if (!tb_file_read_bounded (path, TB_KEY_FILE_MAX_BYTES, &data, &len, error))
    return NULL;
  key = tb_key_import_data (data, len, path, passphrase, error);
  tb_secret_wipe (data, len);
  return key;
}

/**
 * tb_key_import_data: (skip)
 * @origin: where the data comes from, for messages
 *
 * tb_key_import_file() on bytes in memory.
 */
TbKey *
tb_key_import_data (const char *data, gsize len, const char *origin, const char *passphrase, GError **error)
{
  const char *path = origin;
  g_autoptr(EVP_PKEY) pkey = NULL;
  OSSL_DECODER_CTX *dctx;
  const unsigned char *p;
  size_t left;
  g_autoptr(GError) p12_error = NULL;

  if (len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is empty"), path);
      return NULL;
    }

  if ((guint8) data[0] == 0x30)
    {
      pkey = import_pkcs12 (path, (const guint8 *) data, len, passphrase, &p12_error);
      if (p12_error != NULL)
        {
          g_propagate_error (error, g_steal_pointer (&p12_error));
          return NULL;
        }
    }

  if (pkey == NULL)
    {
      dctx = OSSL_DECODER_CTX_new_for_pkey (&pkey, NULL, NULL, NULL, EVP_PKEY_KEYPAIR, NULL, NULL);
      if (dctx == NULL)
        {
          tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot set up a key decoder"));
          return NULL;
        }
      if (passphrase != NULL)
        OSSL_DECODER_CTX_set_passphrase (dctx, (const unsigned char *) passphrase, strlen (passphrase));
      p = (const unsigned char *) data;
      left = len;
      if (!OSSL_DECODER_from_data (dctx, &p, &left))
        pkey = NULL;
      OSSL_DECODER_CTX_free (dctx);
    }

  if (pkey == NULL)
    {
      if (looks_encrypted (data, len))
        {
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                       passphrase != NULL ? _("Wrong passphrase for the encrypted key %s")
                                          : _("The key %s is encrypted: give its passphrase"),
                       path);
          return NULL;
        }
      if (g_strstr_len (data, (gssize) len, "PUBLIC KEY") != NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s holds only a public key; importing a key needs its private half"), path);
          return NULL;
        }
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA,
                                 _("%s is not a private key in PEM, DER, PKCS#8 or PKCS#12 form"), path);
      return NULL;
    }
  if (!pkey_has_private (pkey))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s holds only a public key; importing a key needs its private half"), path);
      return NULL;
    }
  return tb_key_new_for_pkey (pkey, TRUE, error);
}
