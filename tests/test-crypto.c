/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The key-agreement and key-wrapping helpers (core/pki/tb-crypto.c) and the
 * OpenSSL backend of the SBM's crypto interface: published test vectors
 * (RFC 5869, RFC 3394), both sides of each operation against each other,
 * and the exact error for every broken input. */

#include "config.h"

#include <string.h>

#include "tb-crypto.h"
#include "tb-key-private.h"
#include "tb-test-util.h"
#include "tb-sbm-crypto-openssl.h"
#include "trustbench.h"

static gsize
unhex (const char *hex, guint8 *out, gsize cap)
{
  gsize n = strlen (hex) / 2;

  g_assert_cmpuint (n, <=, cap);
  for (gsize i = 0; i < n; i++)
    out[i] = (guint8) (g_ascii_xdigit_value (hex[2 * i]) << 4 | g_ascii_xdigit_value (hex[2 * i + 1]));
  return n;
}

/* RFC 5869, appendix A.1 (salt and info) and A.3 (neither) */
static void
test_hkdf_vectors (void)
{
  g_autoptr(GError) error = NULL;
  const TbSbmCrypto *sbm = tb_sbm_crypto_openssl ();
  guint8 ikm[22], salt[13], info[10], expected[42], okm[42];
  gsize ikm_len = unhex ("0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", ikm, sizeof ikm);
  gsize salt_len = unhex ("000102030405060708090a0b0c", salt, sizeof salt);
  gsize info_len = unhex ("f0f1f2f3f4f5f6f7f8f9", info, sizeof info);

  unhex ("3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865", expected,
         sizeof expected);
  g_assert_true (tb_crypto_hkdf_sha256 (ikm, ikm_len, salt, salt_len, info, info_len, okm, sizeof okm, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (okm, sizeof okm, expected, sizeof expected);
  memset (okm, 0, sizeof okm);
  g_assert_cmpint (sbm->hkdf_sha256 (ikm, ikm_len, salt, salt_len, info, info_len, okm, sizeof okm), ==, 0);
  g_assert_cmpmem (okm, sizeof okm, expected, sizeof expected);

  /* no salt, no info: both as NULL and as a zero-length buffer */
  unhex ("8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8", expected,
         sizeof expected);
  memset (okm, 0, sizeof okm);
  g_assert_true (tb_crypto_hkdf_sha256 (ikm, ikm_len, NULL, 0, NULL, 0, okm, sizeof okm, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (okm, sizeof okm, expected, sizeof expected);
  memset (okm, 0, sizeof okm);
  g_assert_true (tb_crypto_hkdf_sha256 (ikm, ikm_len, salt, 0, info, 0, okm, sizeof okm, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (okm, sizeof okm, expected, sizeof expected);
  memset (okm, 0, sizeof okm);
  g_assert_cmpint (sbm->hkdf_sha256 (ikm, ikm_len, NULL, 0, NULL, 0, okm, sizeof okm), ==, 0);
  g_assert_cmpmem (okm, sizeof okm, expected, sizeof expected);
}

/* HKDF cannot give more than 255 blocks */
static void
test_hkdf_refusals (void)
{
  g_autoptr(GError) error = NULL;
  guint8 ikm[32] = { 1 };
  g_autofree guint8 *out = g_malloc (255 * 32 + 1);

  g_assert_false (tb_crypto_hkdf_sha256 (ikm, sizeof ikm, NULL, 0, NULL, 0, out, 255 * 32 + 1, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Cannot derive the key-encryption key"));
  g_clear_error (&error);

  /* the largest output is fine */
  g_assert_true (tb_crypto_hkdf_sha256 (ikm, sizeof ikm, NULL, 0, NULL, 0, out, 255 * 32, &error));
  g_assert_no_error (error);
}

/* RFC 3394, 4.6: 256 bits of key data with a 256-bit KEK */
static void
test_key_wrap_vector (void)
{
  g_autoptr(GError) error = NULL;
  const TbSbmCrypto *sbm = tb_sbm_crypto_openssl ();
  guint8 kek[32], data[32], expected[40], wrapped[48], unwrapped[48];
  gsize wrapped_len = 0, unwrapped_len = 0;

  unhex ("000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", kek, sizeof kek);
  unhex ("00112233445566778899aabbccddeeff000102030405060708090a0b0c0d0e0f", data, sizeof data);
  unhex ("28c9f404c4b810f4cbccb35cfb87f8263f5786e2d80ed326cbc7f0e71a99f43bfb988b9b7a02dd21", expected,
         sizeof expected);

  g_assert_true (tb_crypto_aes256_kw (TRUE, kek, data, sizeof data, wrapped, &wrapped_len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (wrapped, wrapped_len, expected, sizeof expected);

  g_assert_true (tb_crypto_aes256_kw (FALSE, kek, wrapped, wrapped_len, unwrapped, &unwrapped_len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (unwrapped, unwrapped_len, data, sizeof data);

  /* the SBM unwraps what the host wraps */
  memset (unwrapped, 0, sizeof unwrapped);
  g_assert_cmpint (sbm->aes256_kw_unwrap (kek, wrapped, wrapped_len, unwrapped), ==, 0);
  g_assert_cmpmem (unwrapped, 32, data, sizeof data);
}

static void
test_key_wrap_refusals (void)
{
  g_autoptr(GError) error = NULL;
  const TbSbmCrypto *sbm = tb_sbm_crypto_openssl ();
  guint8 kek[32], other[32], data[32], wrapped[48], out[48];
  gsize wrapped_len = 0, out_len = 0;

  for (guint i = 0; i < 32; i++)
    {
      kek[i] = (guint8) i;
      other[i] = (guint8) (i + 1);
      data[i] = (guint8) (0xa0 + i);
    }
  g_assert_true (tb_crypto_aes256_kw (TRUE, kek, data, sizeof data, wrapped, &wrapped_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (wrapped_len, ==, 40);

  /* the wrong key-encryption key */
  out_len = 12345;
  g_assert_false (tb_crypto_aes256_kw (FALSE, other, wrapped, wrapped_len, out, &out_len, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_cmpstr (error->message, ==, "The wrapped key does not unwrap: wrong key or altered data");
  g_assert_cmpuint (out_len, ==, 12345);
  g_clear_error (&error);
  g_assert_cmpint (sbm->aes256_kw_unwrap (other, wrapped, wrapped_len, out), ==, -1);

  /* every single bit flipped */
  for (gsize i = 0; i < wrapped_len * 8; i++)
    {
      guint8 broken[40];
      memcpy (broken, wrapped, 40);
      broken[i / 8] ^= (guint8) (1u << (i % 8));
      g_assert_false (tb_crypto_aes256_kw (FALSE, kek, broken, 40, out, &out_len, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
      g_clear_error (&error);
      g_assert_cmpint (sbm->aes256_kw_unwrap (kek, broken, 40, out), ==, -1);
    }

  /* truncated, extended, and lengths that are no wrapped key at all */
  for (gsize len = 0; len < wrapped_len + 16; len++)
    {
      guint8 longer[56] = { 0 };
      if (len == wrapped_len)
        continue;
      memcpy (longer, wrapped, MIN (len, wrapped_len));
      g_assert_false (tb_crypto_aes256_kw (FALSE, kek, longer, len, out, &out_len, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
      g_clear_error (&error);
    }
  /* what the SBM is asked to unwrap: 40 bytes, nothing else */
  g_assert_cmpint (sbm->aes256_kw_unwrap (kek, wrapped, 32, out), ==, -1);

  /* nothing to wrap, or not whole 64-bit blocks: the caller's mistake */
  for (gsize len = 0; len <= 17; len++)
    {
      if (len == 16)
        continue;
      out_len = 12345;
      g_assert_false (tb_crypto_aes256_kw (TRUE, kek, data, len, out, &out_len, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
      g_assert_true (strstr (error->message, "at least 16 bytes, a multiple of 8") != NULL);
      g_assert_cmpuint (out_len, ==, 12345);
      g_clear_error (&error);
    }
  g_assert_true (tb_crypto_aes256_kw (TRUE, kek, data, 16, out, &out_len, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (out_len, ==, 24);
}

static void
test_ecdh (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) a = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) b = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) c = tb_key_generate ("ec-p384", &error);
  const TbSbmCrypto *sbm = tb_sbm_crypto_openssl ();
  guint8 ab[64], ba[64], from_sbm[32], scalar[32], point[65];
  gsize ab_len = 0, ba_len = 0, len = 99;

  g_assert_no_error (error);
  g_assert_true (tb_crypto_ecdh (tb_key_get_private_pkey (a), tb_key_get_public_pkey (b), ab, &ab_len, &error));
  g_assert_no_error (error);
  g_assert_true (tb_crypto_ecdh (tb_key_get_private_pkey (b), tb_key_get_public_pkey (a), ba, &ba_len, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (ab, ab_len, ba, ba_len);
  g_assert_cmpuint (ab_len, ==, 32);

  /* the SBM's backend agrees, from the raw scalar and point */
  g_assert_true (tb_key_get_p256_scalar (a, scalar));
  g_assert_true (tb_key_get_p256_point (b, point));
  g_assert_cmpint (sbm->ecdh_p256 (scalar, point, from_sbm), ==, 0);
  g_assert_cmpmem (from_sbm, 32, ab, ab_len);

  /* a point off the curve is refused by the SBM */
  point[64] ^= 1;
  g_assert_cmpint (sbm->ecdh_p256 (scalar, point, from_sbm), ==, -1);

  /* keys on different curves do not agree */
  g_assert_false (tb_crypto_ecdh (tb_key_get_private_pkey (a), tb_key_get_public_pkey (c), ab, &len, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_true (g_str_has_prefix (error->message, "Key agreement (ECDH) failed"));
  g_assert_cmpuint (len, ==, 99);
}

/* What the SBM signs (its ECDSA over SHA-256 of label ‖ prefix ‖ data), the
 * host verifies; anything else does not verify. */
static void
test_device_signature (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) device = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) other = tb_key_generate ("ec-p256", &error);
  const TbSbmCrypto *sbm = tb_sbm_crypto_openssl ();
  guint8 scalar[32], pub[65], other_pub[65], digest[32], sig[80];
  const guint8 nonce[4] = { 1, 2, 3, 4 };
  const guint8 data[] = "attestation body";
  size_t sig_len = sizeof sig;
  TbSbmSha256 s;

  g_assert_no_error (error);
  g_assert_true (tb_key_get_p256_scalar (device, scalar));
  g_assert_true (tb_key_get_p256_point (device, pub));
  g_assert_true (tb_key_get_p256_point (other, other_pub));
  sbm->sha256_init (&s);
  sbm->sha256_update (&s, (const guint8 *) "TBATTEST1", 9);
  sbm->sha256_update (&s, nonce, sizeof nonce);
  sbm->sha256_update (&s, data, sizeof data);
  sbm->sha256_final (&s, digest);
  g_assert_cmpint (sbm->ecdsa_p256_sign (scalar, digest, sig, &sig_len), ==, 0);
  g_assert_cmpint (sbm->ecdsa_p256_verify (pub, digest, sig, sig_len), ==, 0);

  g_assert_true (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data, sig,
                                                    sig_len));
  /* another label, prefix, body, key, or a signature altered or cut */
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBRECEIPT1", nonce, sizeof nonce, data, sizeof data, sig,
                                                     sig_len));
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", NULL, 0, data, sizeof data, sig, sig_len));
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data - 1,
                                                     sig, sig_len));
  g_assert_false (tb_crypto_verify_device_signature (other_pub, "TBATTEST1", nonce, sizeof nonce, data,
                                                     sizeof data, sig, sig_len));
  for (gsize i = 0; i < sig_len; i++)
    {
      guint8 broken[80];
      memcpy (broken, sig, sig_len);
      broken[i] ^= 0x40;
      g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data,
                                                         broken, sig_len));
    }
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data, sig,
                                                     sig_len - 1));
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data, sig,
                                                     0));
  /* a public key that is no point on the curve */
  pub[40] ^= 1;
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data, sig,
                                                     sig_len));
  g_assert_cmpint (sbm->ecdsa_p256_verify (pub, digest, sig, sig_len), ==, -1);
  pub[40] ^= 1;
  pub[0] = 0x02;
  g_assert_false (tb_crypto_verify_device_signature (pub, "TBATTEST1", nonce, sizeof nonce, data, sizeof data, sig,
                                                     sig_len));
}

static void
test_random (void)
{
  g_autoptr(GError) error = NULL;
  guint8 a[32] = { 0 }, b[32] = { 0 }, zero[32] = { 0 };

  g_assert_true (tb_crypto_random_bytes (a, sizeof a, &error));
  g_assert_no_error (error);
  g_assert_true (tb_crypto_random_bytes (b, sizeof b, &error));
  g_assert_true (memcmp (a, b, sizeof a) != 0);
  g_assert_true (memcmp (a, zero, sizeof a) != 0);
  g_assert_true (tb_crypto_random_bytes (b, 0, &error));
  g_assert_no_error (error);
}

/* The SBM's SHA-256 state is opaque to it; the backend must fit in it and
 * give the FIPS 180-2 digest of "abc". */
static void
test_sbm_sha256 (void)
{
  const TbSbmCrypto *sbm = tb_sbm_crypto_openssl ();
  guint8 digest[32], expected[32];
  TbSbmSha256 s;

  unhex ("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", expected, sizeof expected);
  sbm->sha256_init (&s);
  sbm->sha256_update (&s, (const guint8 *) "a", 1);
  sbm->sha256_update (&s, (const guint8 *) "", 0);
  sbm->sha256_update (&s, (const guint8 *) "bc", 2);
  sbm->sha256_final (&s, digest);
  g_assert_cmpmem (digest, 32, expected, 32);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/crypto/hkdf-vectors", test_hkdf_vectors);
  g_test_add_func ("/tb/crypto/hkdf-refusals", test_hkdf_refusals);
  g_test_add_func ("/tb/crypto/key-wrap-vector", test_key_wrap_vector);
  g_test_add_func ("/tb/crypto/key-wrap-refusals", test_key_wrap_refusals);
  g_test_add_func ("/tb/crypto/ecdh", test_ecdh);
  g_test_add_func ("/tb/crypto/device-signature", test_device_signature);
  g_test_add_func ("/tb/crypto/random", test_random);
  g_test_add_func ("/tb/crypto/sbm-sha256", test_sbm_sha256);
  return g_test_run ();
}
