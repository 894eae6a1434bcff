/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The SBM's narrow crypto interface (tb-sbm.h) on mbedTLS 2.28, for the
 * Cortex-M build (the virtual board uses tb-sbm-crypto-openssl.c). Every
 * function returns 0 on success. No entropy source is needed: ECDSA
 * signatures are deterministic (RFC 6979) and the blinding that
 * scalar multiplications ask for comes from an HMAC-DRBG seeded with the
 * device's secret seed (tb_sbm_crypto_mbedtls_seed()). */

#include "tb-sbm-crypto-mbedtls.h"

#include <string.h>

#include "mbedtls/ecdh.h"
#include "mbedtls/ecdsa.h"
#include "mbedtls/gcm.h"
#include "mbedtls/hkdf.h"
#include "mbedtls/hmac_drbg.h"
#include "mbedtls/memory_buffer_alloc.h"
#include "mbedtls/nist_kw.h"
#include "mbedtls/platform_util.h"
#include "mbedtls/sha256.h"

_Static_assert (sizeof (TbSbmSha256) >= sizeof (mbedtls_sha256_context), "SHA-256 state too small");

/* bignums and contexts: a static heap, no malloc */
static unsigned char heap[48 * 1024];
static mbedtls_hmac_drbg_context drbg;
static int drbg_ready;

static int
blinding (void *ctx, unsigned char *out, size_t len)
{
  return drbg_ready ? mbedtls_hmac_drbg_random (&drbg, out, len) : -1;
}

static void
sha_init (TbSbmSha256 *s)
{
  mbedtls_sha256_context *c = (mbedtls_sha256_context *) s->opaque;
  mbedtls_sha256_init (c);
  mbedtls_sha256_starts_ret (c, 0);
}

static void
sha_update (TbSbmSha256 *s, const uint8_t *data, size_t len)
{
  mbedtls_sha256_update_ret ((mbedtls_sha256_context *) s->opaque, data, len);
}

static void
sha_final (TbSbmSha256 *s, uint8_t digest[32])
{
  mbedtls_sha256_context *c = (mbedtls_sha256_context *) s->opaque;
  mbedtls_sha256_finish_ret (c, digest);
  mbedtls_sha256_free (c);
}

/* A P-256 key pair context from a private scalar and/or a public point. */
static int
load_key (mbedtls_ecp_keypair *key, const uint8_t *priv, const uint8_t *pub)
{
  mbedtls_ecp_keypair_init (key);
  if (mbedtls_ecp_group_load (&key->grp, MBEDTLS_ECP_DP_SECP256R1) != 0)
    return -1;
  if (priv != NULL &&
      (mbedtls_mpi_read_binary (&key->d, priv, 32) != 0 || mbedtls_ecp_check_privkey (&key->grp, &key->d) != 0))
    return -1;
  if (pub != NULL && (mbedtls_ecp_point_read_binary (&key->grp, &key->Q, pub, 65) != 0 ||
                      mbedtls_ecp_check_pubkey (&key->grp, &key->Q) != 0))
    return -1;
  return 0;
}

static int
ecdsa_verify (const uint8_t pub[65], const uint8_t digest[32], const uint8_t *sig_der, size_t sig_len)
{
  mbedtls_ecdsa_context key;
  int rc = load_key (&key, NULL, pub) == 0 && mbedtls_ecdsa_read_signature (&key, digest, 32, sig_der, sig_len) == 0
             ? 0 : -1;
  mbedtls_ecdsa_free (&key);
  return rc;
}

static int
ecdsa_sign (const uint8_t priv[32], const uint8_t digest[32], uint8_t *sig_der, size_t *sig_len)
{
  mbedtls_ecdsa_context key;
  unsigned char sig[MBEDTLS_ECDSA_MAX_SIG_LEN (256)];
  size_t n = 0;
  int rc = -1;

  if (load_key (&key, priv, NULL) == 0 &&
      mbedtls_ecdsa_write_signature (&key, MBEDTLS_MD_SHA256, digest, 32, sig, &n, blinding, NULL) == 0 &&
      n <= *sig_len)
    {
      memcpy (sig_der, sig, n);
      *sig_len = n;
      rc = 0;
    }
  mbedtls_ecdsa_free (&key);
  return rc;
}

static int
public_key (const uint8_t priv[32], uint8_t pub[65])
{
  mbedtls_ecp_keypair key;
  size_t n = 0;
  int rc = load_key (&key, priv, NULL) == 0 &&
               mbedtls_ecp_mul (&key.grp, &key.Q, &key.d, &key.grp.G, blinding, NULL) == 0 &&
               mbedtls_ecp_point_write_binary (&key.grp, &key.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, pub, 65) == 0 &&
               n == 65
             ? 0 : -1;
  mbedtls_ecp_keypair_free (&key);
  return rc;
}

static int
ecdh (const uint8_t priv[32], const uint8_t peer[65], uint8_t shared[32])
{
  mbedtls_ecp_keypair key;
  mbedtls_ecp_point q;
  mbedtls_mpi z;
  int rc;

  mbedtls_ecp_point_init (&q);
  mbedtls_mpi_init (&z);
  rc = load_key (&key, priv, NULL) == 0 && mbedtls_ecp_point_read_binary (&key.grp, &q, peer, 65) == 0 &&
           mbedtls_ecp_check_pubkey (&key.grp, &q) == 0 &&
           mbedtls_ecdh_compute_shared (&key.grp, &z, &q, &key.d, blinding, NULL) == 0 &&
           mbedtls_mpi_write_binary (&z, shared, 32) == 0
         ? 0 : -1;
  mbedtls_mpi_free (&z);
  mbedtls_ecp_point_free (&q);
  mbedtls_ecp_keypair_free (&key);
  return rc;
}

static int
hkdf (const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const uint8_t *info, size_t info_len,
      uint8_t *out, size_t out_len)
{
  return mbedtls_hkdf (mbedtls_md_info_from_type (MBEDTLS_MD_SHA256), salt, salt_len, ikm, ikm_len, info, info_len,
                       out, out_len) == 0 ? 0 : -1;
}

static int
kw_unwrap (const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out)
{
  mbedtls_nist_kw_context kw;
  size_t n = 0;
  int rc;

  mbedtls_nist_kw_init (&kw);
  rc = in_len >= 16 && mbedtls_nist_kw_setkey (&kw, MBEDTLS_CIPHER_ID_AES, kek, 256, 0) == 0 &&
           mbedtls_nist_kw_unwrap (&kw, MBEDTLS_KW_MODE_KW, in, in_len, out, &n, in_len - 8) == 0 && n == in_len - 8
         ? 0 : -1;
  mbedtls_nist_kw_free (&kw);
  return rc;
}

static int
gcm_decrypt (const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len, const uint8_t *in,
             size_t len, const uint8_t tag[16], uint8_t *out)
{
  mbedtls_gcm_context gcm;
  int rc;

  mbedtls_gcm_init (&gcm);
  /* in place (in == out) is allowed; a bad tag leaves out zeroed */
  rc = mbedtls_gcm_setkey (&gcm, MBEDTLS_CIPHER_ID_AES, key, 256) == 0 &&
           mbedtls_gcm_auth_decrypt (&gcm, len, nonce, 12, aad, aad_len, tag, 16, in, out) == 0
         ? 0 : -1;
  mbedtls_gcm_free (&gcm);
  return rc;
}

static void
wipe (void *p, size_t len)
{
  mbedtls_platform_zeroize (p, len);
}

static const TbSbmCrypto crypto = {
  sha_init, sha_update, sha_final, ecdsa_verify, ecdsa_sign, public_key, ecdh, hkdf, kw_unwrap, gcm_decrypt, wipe,
};

const TbSbmCrypto *
tb_sbm_crypto_mbedtls (void)
{
  return &crypto;
}

int
tb_sbm_crypto_mbedtls_init (void)
{
  mbedtls_memory_buffer_alloc_init (heap, sizeof heap);
  return 0;
}

int
tb_sbm_crypto_mbedtls_seed (const uint8_t *seed, size_t len)
{
  mbedtls_hmac_drbg_init (&drbg);
  if (mbedtls_hmac_drbg_seed_buf (&drbg, mbedtls_md_info_from_type (MBEDTLS_MD_SHA256), seed, len) != 0)
    return -1;
  drbg_ready = 1;
  return 0;
}

int
tb_sbm_crypto_mbedtls_generate_key (uint8_t priv[32], uint8_t pub[65])
{
  mbedtls_ecp_keypair key;
  size_t n = 0;
  int rc;

  mbedtls_ecp_keypair_init (&key);
  rc = drbg_ready && mbedtls_ecp_gen_key (MBEDTLS_ECP_DP_SECP256R1, &key, blinding, NULL) == 0 &&
           mbedtls_mpi_write_binary (&key.d, priv, 32) == 0 &&
           mbedtls_ecp_point_write_binary (&key.grp, &key.Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &n, pub, 65) == 0 && n == 65
         ? 0 : -1;
  mbedtls_ecp_keypair_free (&key);
  return rc;
}
