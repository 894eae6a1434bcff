/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-crypto.h"

#include <glib/gi18n-lib.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/kdf.h>

#include <string.h>

#include "tb-error.h"
#include "tb-key-private.h"
#include "tb-pkcs11-private.h"

/* far above any key, far below an int */
#define TB_CRYPTO_KW_MAX_LEN 4096u

/**
 * tb_crypto_hkdf_sha256: (skip)
 */
gboolean
tb_crypto_hkdf_sha256 (const guint8 *ikm, gsize ikm_len, const guint8 *salt, gsize salt_len, const guint8 *info,
                       gsize info_len, guint8 *out, gsize out_len, GError **error)
{
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
  EVP_KDF_CTX *kctx = kdf != NULL ? EVP_KDF_CTX_new (kdf) : NULL;
  OSSL_PARAM params[5];
  guint n = 0;
  gboolean ok;

  /* an empty salt or info is left out: OpenSSL refuses a NULL octet
   * string, and RFC 5869 treats an absent salt as HashLen zero bytes */
  params[n++] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
  params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, (void *) ikm, ikm_len);
  if (salt_len > 0)
    params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, (void *) salt, salt_len);
  if (info_len > 0)
    params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, (void *) info, info_len);
  params[n] = OSSL_PARAM_construct_end ();
  ok = kctx != NULL && EVP_KDF_derive (kctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free (kctx);
  EVP_KDF_free (kdf);
  if (!ok)
    tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot derive the key-encryption key"));
  return ok;
}

/**
 * tb_crypto_aes256_kw: (skip)
 * @wrap: wrap (RFC 3394) or unwrap
 *
 * @out: (out caller-allocates): @in_len + 8 bytes to wrap, @in_len - 8 to unwrap
 *
 * RFC 3394 wraps whole 64-bit blocks, at least two of them: anything else
 * to wrap is %TB_ERROR_INVALID_ARGUMENT. A failed unwrap (wrong key,
 * altered, truncated or extended data) is %TB_ERROR_VERIFY_FAILED.
 */
gboolean
tb_crypto_aes256_kw (gboolean wrap, const guint8 *kek, const guint8 *in, gsize in_len, guint8 *out, gsize *out_len,
                     GError **error)
{
  EVP_CIPHER *cipher;
  EVP_CIPHER_CTX *ctx;
  gsize min_len = wrap ? 16 : 24;
  int n1 = 0, n2 = 0;
  gboolean ok;

  /* OpenSSL "unwraps" an empty input into nothing, successfully */
  if (in_len < min_len || in_len % 8 != 0 || in_len > TB_CRYPTO_KW_MAX_LEN)
    {
      if (wrap)
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("A key to wrap must be at least 16 bytes, a multiple of 8, at most %u (got %" G_GSIZE_FORMAT
                       ")"), TB_CRYPTO_KW_MAX_LEN, in_len);
      else
        g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                     _("The wrapped key does not unwrap: wrong key or altered data"));
      return FALSE;
    }
  cipher = EVP_CIPHER_fetch (NULL, "AES-256-WRAP", NULL);
  ctx = EVP_CIPHER_CTX_new ();
  if (ctx != NULL)
    EVP_CIPHER_CTX_set_flags (ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  ok = cipher != NULL && ctx != NULL && EVP_CipherInit_ex2 (ctx, cipher, kek, NULL, wrap ? 1 : 0, NULL) == 1 &&
       EVP_CipherUpdate (ctx, out, &n1, in, (int) in_len) == 1 && EVP_CipherFinal_ex (ctx, out + n1, &n2) == 1;
  EVP_CIPHER_CTX_free (ctx);
  EVP_CIPHER_free (cipher);
  if (!ok)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, wrap ? TB_ERROR_FAILED : TB_ERROR_VERIFY_FAILED,
                   wrap ? _("Cannot wrap the key") : _("The wrapped key does not unwrap: wrong key or altered data"));
      return FALSE;
    }
  *out_len = (gsize) (n1 + n2);
  return TRUE;
}

/**
 * tb_crypto_ecdh: (skip)
 * @shared: (out caller-allocates): at least 64 bytes
 */
gboolean
tb_crypto_ecdh (EVP_PKEY *own, EVP_PKEY *peer, guint8 *shared, gsize *shared_len, GError **error)
{
  TbTokenKey *token = tb_pkcs11_provider_get_token_key (own);
  EVP_PKEY_CTX *ctx;
  size_t len = 64;
  gboolean ok;

  /* a key on a token derives there (C_DeriveKey, CKM_ECDH1_DERIVE) */
  if (token != NULL)
    {
      guint8 point[133];
      size_t point_len = 0;
      if (!EVP_PKEY_get_octet_string_param (peer, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &point_len))
        {
          tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Key agreement (ECDH) failed: no peer point"));
          return FALSE;
        }
      return tb_token_key_derive (token, point, point_len, shared, shared_len, error);
    }
  ctx = EVP_PKEY_CTX_new_from_pkey (NULL, own, NULL);
  ok = ctx != NULL && EVP_PKEY_derive_init (ctx) == 1 && EVP_PKEY_derive_set_peer (ctx, peer) == 1 &&
       EVP_PKEY_derive (ctx, shared, &len) == 1;

  EVP_PKEY_CTX_free (ctx);
  if (!ok)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Key agreement (ECDH) failed"));
      return FALSE;
    }
  *shared_len = len;
  return TRUE;
}

/**
 * tb_crypto_verify_device_signature:
 * @pub: the device's uncompressed P-256 public key
 *
 * Checks an ECDSA signature by a device key over SHA-256(@label ‖ @prefix ‖
 * @signed_data), the form the SBM signs attestations and receipts in.
 */
gboolean
tb_crypto_verify_device_signature (const guint8 pub[65], const char *label, const guint8 *prefix, gsize prefix_len,
                                   const guint8 *signed_data, gsize signed_len, const guint8 *sig, gsize sig_len)
{
  g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
  guint8 digest[32];
  unsigned int n = 0;
  g_autoptr(TbKey) key = tb_key_new_from_point (pub, NULL);
  EVP_PKEY_CTX *ctx;
  gboolean ok;

  EVP_DigestInit_ex (md, EVP_sha256 (), NULL);
  EVP_DigestUpdate (md, label, strlen (label));
  if (prefix_len > 0)
    EVP_DigestUpdate (md, prefix, prefix_len);
  EVP_DigestUpdate (md, signed_data, signed_len);
  EVP_DigestFinal_ex (md, digest, &n);
  if (key == NULL)
    return FALSE;
  ctx = EVP_PKEY_CTX_new_from_pkey (NULL, tb_key_get_public_pkey (key), NULL);
  ok = ctx != NULL && EVP_PKEY_verify_init (ctx) == 1 && EVP_PKEY_verify (ctx, sig, sig_len, digest, 32) == 1;
  EVP_PKEY_CTX_free (ctx);
  return ok;
}
