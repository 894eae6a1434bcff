/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The SBM's narrow crypto interface, implemented with OpenSSL for the
 * virtual board (a Cortex-M build would plug in its own). */

#include "config.h"

#include "tb-sbm-crypto-openssl.h"

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/param_build.h>
#include <string.h>

G_STATIC_ASSERT (sizeof (TbSbmSha256) >= sizeof (EVP_MD_CTX *));

static void
sha_init (TbSbmSha256 *s)
{
  EVP_MD_CTX *ctx = EVP_MD_CTX_new ();
  EVP_DigestInit_ex (ctx, EVP_sha256 (), NULL);
  memcpy (s->opaque, &ctx, sizeof ctx);
}

static void
sha_update (TbSbmSha256 *s, const uint8_t *data, size_t len)
{
  EVP_MD_CTX *ctx;
  memcpy (&ctx, s->opaque, sizeof ctx);
  EVP_DigestUpdate (ctx, data, len);
}

static void
sha_final (TbSbmSha256 *s, uint8_t digest[32])
{
  EVP_MD_CTX *ctx;
  unsigned int n = 0;
  memcpy (&ctx, s->opaque, sizeof ctx);
  EVP_DigestFinal_ex (ctx, digest, &n);
  EVP_MD_CTX_free (ctx);
  memset (s->opaque, 0, sizeof s->opaque);
}

static EVP_PKEY *
pub_from_point (const uint8_t pub[65])
{
  OSSL_PARAM params[3];
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  EVP_PKEY *pkey = NULL;

  params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, (char *) "P-256", 0);
  params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY, (void *) pub, 65);
  params[2] = OSSL_PARAM_construct_end ();
  if (ctx == NULL || EVP_PKEY_fromdata_init (ctx) != 1 || EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_PUBLIC_KEY, params) != 1)
    pkey = NULL;
  EVP_PKEY_CTX_free (ctx);
  ERR_clear_error ();
  return pkey;
}

static int
public_key (const uint8_t priv[32], uint8_t pub[65])
{
  EC_GROUP *group = EC_GROUP_new_by_curve_name (NID_X9_62_prime256v1);
  EC_POINT *point = group != NULL ? EC_POINT_new (group) : NULL;
  BIGNUM *bn = BN_bin2bn (priv, 32, NULL);
  int rc = -1;

  if (point != NULL && bn != NULL && EC_POINT_mul (group, point, bn, NULL, NULL, NULL) == 1 &&
      EC_POINT_point2oct (group, point, POINT_CONVERSION_UNCOMPRESSED, pub, 65, NULL) == 65)
    rc = 0;
  BN_clear_free (bn);
  EC_POINT_free (point);
  EC_GROUP_free (group);
  return rc;
}

static EVP_PKEY *
priv_from_scalar (const uint8_t priv[32])
{
  uint8_t pub[65];
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new ();
  BIGNUM *bn = BN_bin2bn (priv, 32, NULL);
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
  EVP_PKEY *pkey = NULL;

  if (public_key (priv, pub) == 0 && bld != NULL && bn != NULL &&
      OSSL_PARAM_BLD_push_utf8_string (bld, OSSL_PKEY_PARAM_GROUP_NAME, "P-256", 0) &&
      OSSL_PARAM_BLD_push_BN (bld, OSSL_PKEY_PARAM_PRIV_KEY, bn) &&
      OSSL_PARAM_BLD_push_octet_string (bld, OSSL_PKEY_PARAM_PUB_KEY, pub, 65) &&
      (params = OSSL_PARAM_BLD_to_param (bld)) != NULL && ctx != NULL && EVP_PKEY_fromdata_init (ctx) == 1 &&
      EVP_PKEY_fromdata (ctx, &pkey, EVP_PKEY_KEYPAIR, params) == 1)
    ;
  else
    pkey = NULL;
  OSSL_PARAM_free (params);
  OSSL_PARAM_BLD_free (bld);
  BN_clear_free (bn);
  EVP_PKEY_CTX_free (ctx);
  ERR_clear_error ();
  return pkey;
}

static int
ecdsa_verify (const uint8_t pub[65], const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
  EVP_PKEY *pkey = pub_from_point (pub);
  EVP_PKEY_CTX *ctx = pkey != NULL ? EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL) : NULL;
  int ok = ctx != NULL && EVP_PKEY_verify_init (ctx) == 1 && EVP_PKEY_verify (ctx, sig, sig_len, digest, 32) == 1;

  EVP_PKEY_CTX_free (ctx);
  EVP_PKEY_free (pkey);
  ERR_clear_error ();
  return ok ? 0 : -1;
}

static int
ecdsa_sign (const uint8_t priv[32], const uint8_t digest[32], uint8_t *sig, size_t *sig_len)
{
  EVP_PKEY *pkey = priv_from_scalar (priv);
  EVP_PKEY_CTX *ctx = pkey != NULL ? EVP_PKEY_CTX_new_from_pkey (NULL, pkey, NULL) : NULL;
  int ok = ctx != NULL && EVP_PKEY_sign_init (ctx) == 1 && EVP_PKEY_sign (ctx, sig, sig_len, digest, 32) == 1;

  EVP_PKEY_CTX_free (ctx);
  EVP_PKEY_free (pkey);
  return ok ? 0 : -1;
}

static int
ecdh (const uint8_t priv[32], const uint8_t peer[65], uint8_t shared[32])
{
  EVP_PKEY *own = priv_from_scalar (priv);
  EVP_PKEY *other = pub_from_point (peer);
  EVP_PKEY_CTX *ctx = own != NULL && other != NULL ? EVP_PKEY_CTX_new_from_pkey (NULL, own, NULL) : NULL;
  size_t len = 32;
  int ok = ctx != NULL && EVP_PKEY_derive_init (ctx) == 1 && EVP_PKEY_derive_set_peer (ctx, other) == 1 &&
           EVP_PKEY_derive (ctx, shared, &len) == 1 && len == 32;

  EVP_PKEY_CTX_free (ctx);
  EVP_PKEY_free (own);
  EVP_PKEY_free (other);
  ERR_clear_error ();
  return ok ? 0 : -1;
}

static int
hkdf (const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const uint8_t *info, size_t info_len,
      uint8_t *out, size_t out_len)
{
  EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
  EVP_KDF_CTX *ctx = kdf != NULL ? EVP_KDF_CTX_new (kdf) : NULL;
  OSSL_PARAM params[5];
  int n = 0;
  int ok;

  /* an empty salt or info is left out (OpenSSL refuses a NULL one) */
  params[n++] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
  params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, (void *) ikm, ikm_len);
  if (salt_len > 0)
    params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_SALT, (void *) salt, salt_len);
  if (info_len > 0)
    params[n++] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, (void *) info, info_len);
  params[n] = OSSL_PARAM_construct_end ();
  ok = ctx != NULL && EVP_KDF_derive (ctx, out, out_len, params) == 1;
  EVP_KDF_CTX_free (ctx);
  EVP_KDF_free (kdf);
  return ok ? 0 : -1;
}

static int
kw_unwrap (const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out)
{
  EVP_CIPHER *cipher = EVP_CIPHER_fetch (NULL, "AES-256-WRAP", NULL);
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  int n1 = 0, n2 = 0;
  int ok;

  if (ctx != NULL)
    EVP_CIPHER_CTX_set_flags (ctx, EVP_CIPHER_CTX_FLAG_WRAP_ALLOW);
  ok = cipher != NULL && ctx != NULL && EVP_DecryptInit_ex2 (ctx, cipher, kek, NULL, NULL) == 1 &&
       EVP_DecryptUpdate (ctx, out, &n1, in, (int) in_len) == 1 && EVP_DecryptFinal_ex (ctx, out + n1, &n2) == 1 &&
       n1 + n2 == (int) in_len - 8;
  EVP_CIPHER_CTX_free (ctx);
  EVP_CIPHER_free (cipher);
  ERR_clear_error ();
  return ok ? 0 : -1;
}

static int
gcm_decrypt (const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, const uint8_t *in,
             size_t len, const uint8_t tag[16], uint8_t *out)
{
  EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new ();
  uint8_t tag_copy[16];
  int n = 0;
  int ok;

  memcpy (tag_copy, tag, 16); /* decryption may run in place over the tag's neighbours */
  ok = ctx != NULL && EVP_DecryptInit_ex2 (ctx, EVP_aes_256_gcm (), key, nonce, NULL) == 1 &&
       EVP_DecryptUpdate (ctx, NULL, &n, aad, (int) aad_len) == 1 &&
       EVP_DecryptUpdate (ctx, out, &n, in, (int) len) == 1 &&
       EVP_CIPHER_CTX_ctrl (ctx, EVP_CTRL_GCM_SET_TAG, 16, tag_copy) == 1 &&
       EVP_DecryptFinal_ex (ctx, out + n, &n) == 1;
  EVP_CIPHER_CTX_free (ctx);
  ERR_clear_error ();
  return ok ? 0 : -1;
}

static void
wipe (void *p, size_t len)
{
  OPENSSL_cleanse (p, len);
}

static const TbSbmCrypto crypto = {
  sha_init, sha_update, sha_final, ecdsa_verify, ecdsa_sign, public_key, ecdh, hkdf, kw_unwrap, gcm_decrypt, wipe,
};

const TbSbmCrypto *
tb_sbm_crypto_openssl (void)
{
  return &crypto;
}
