/* SPDX-License-Identifier: GPL-3.0-or-later */

/* scrypt with its lanes in parallel (core/pki/tb-scrypt.c): the RFC 7914
 * vectors, the same bytes as OpenSSL's EVP_PBE_scrypt() over a spread of
 * parameters, refused parameters, and the PKCS#8 decryption built on it
 * (right and wrong passphrases, tampered data, a scheme left to OpenSSL). */

#include "config.h"

#include <openssl/evp.h>
#include <openssl/pkcs12.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-error.h"
#include "tb-scrypt.h"

static char *
hex (const guint8 *b, gsize n)
{
  GString *s = g_string_new (NULL);

  for (gsize i = 0; i < n; i++)
    g_string_append_printf (s, "%02x", b[i]);
  return g_string_free (s, FALSE);
}

/* RFC 7914 §12 */
static void
test_rfc_vectors (void)
{
  static const struct {
    const char *pass, *salt;
    guint64 n;
    guint32 r, p;
    const char *dk;
  } v[] = {
    { "", "", 16, 1, 1,
      "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
      "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906" },
    { "password", "NaCl", 1024, 8, 16,
      "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
      "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640" },
    { "pleaseletmein", "SodiumChloride", 16384, 8, 1,
      "7023bdcb3afd7348461c06cd81fd38ebfda8fbba904f8e3ea9b543f6545da1f2"
      "d5432955613f0fcf62d49705242a9af9e61e85dc0d651e40dfcf017b45575887" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    {
      guint8 out[64];
      g_autoptr(GError) error = NULL;
      g_autofree char *got = NULL;

      g_assert_true (tb_scrypt (v[i].pass, strlen (v[i].pass), (const guint8 *) v[i].salt, strlen (v[i].salt),
                                v[i].n, v[i].r, v[i].p, out, sizeof out, &error));
      g_assert_no_error (error);
      got = hex (out, sizeof out);
      g_assert_cmpstr (got, ==, v[i].dk);
    }
}

/* The same bytes as OpenSSL, lanes from 1 to 5 (so pairs of lanes on
 * vectors, and a last odd lane alone), odd lengths; on the best vector
 * unit this CPU has, then on the baseline one. */
static void
same_as_openssl (void)
{
  static const struct { guint64 n; guint32 r, p; gsize len; } v[] = {
    { 2, 1, 1, 1 }, { 16, 1, 1, 64 }, { 2, 1, 2, 7 }, { 16, 1, 2, 33 }, { 16, 2, 3, 17 }, { 32, 4, 4, 64 },
    { 64, 3, 5, 100 }, { 1024, 8, 2, 32 }, { 16384, 8, 2, 32 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    {
      guint8 pass[23], salt[16], ours[100], theirs[100];
      g_autoptr(GError) error = NULL;

      g_assert_cmpint (RAND_bytes (pass, sizeof pass), ==, 1);
      g_assert_cmpint (RAND_bytes (salt, sizeof salt), ==, 1);
      g_assert_true (tb_scrypt ((const char *) pass, sizeof pass, salt, sizeof salt, v[i].n, v[i].r, v[i].p, ours,
                                v[i].len, &error));
      g_assert_no_error (error);
      g_assert_cmpint (EVP_PBE_scrypt ((const char *) pass, sizeof pass, salt, sizeof salt, v[i].n, v[i].r, v[i].p,
                                       0, theirs, v[i].len), ==, 1);
      g_assert_cmpmem (ours, v[i].len, theirs, v[i].len);
    }
}

static void
test_same_as_openssl (void)
{
  g_test_message ("vector unit: %s", tb_scrypt_get_vector_unit ());
  same_as_openssl ();
  tb_scrypt_use_generic_vectors (TRUE);
  g_assert_cmpstr (tb_scrypt_get_vector_unit (), ==, "generic");
  same_as_openssl ();
  tb_scrypt_use_generic_vectors (FALSE);
}

static void
test_bad_parameters (void)
{
  static const struct { guint64 n; guint32 r, p; } v[] = {
    { 0, 8, 1 }, { 1, 8, 1 }, { 3, 8, 1 }, { 1000, 8, 1 }, { 16, 0, 1 }, { 16, 8, 0 },
    { (guint64) 1 << 20, 8, 1 },  /* 1 GiB and more */
    { (guint64) 1 << 16, 1, 1 },  /* N must be below 2^(16 r) */
  };

  for (gsize i = 0; i < G_N_ELEMENTS (v); i++)
    {
      guint8 out[32];
      g_autoptr(GError) error = NULL;

      g_assert_false (tb_scrypt ("x", 1, (const guint8 *) "s", 1, v[i].n, v[i].r, v[i].p, out, sizeof out, &error));
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "scrypt parameters out of range"));
    }
}

/* An encrypted PKCS#8 of a fresh P-256 key, as tb-key.c writes them
 * (scrypt N 2^14, r 8, p 2, AES-256-CBC), or with PBKDF2 when asked. */
static X509_SIG *
encrypt_key (EVP_PKEY *pkey, const char *pass, gboolean pbkdf2)
{
  PKCS8_PRIV_KEY_INFO *info = EVP_PKEY2PKCS8 (pkey);
  unsigned char salt[16];
  X509_ALGOR *pbe;
  X509_SIG *p8;

  g_assert_cmpint (RAND_bytes (salt, sizeof salt), ==, 1);
  pbe = pbkdf2 ? PKCS5_pbe2_set_iv (EVP_aes_256_cbc (), 2048, salt, sizeof salt, NULL, NID_hmacWithSHA256)
               : PKCS5_pbe2_set_scrypt (EVP_aes_256_cbc (), salt, sizeof salt, NULL, 1 << 14, 8, 2);
  g_assert_nonnull (pbe);
  p8 = PKCS8_set0_pbe (pass, (int) strlen (pass), info, pbe);
  g_assert_nonnull (p8);
  PKCS8_PRIV_KEY_INFO_free (info);
  return p8;
}

static void
check_decrypts (gboolean pbkdf2)
{
  EVP_PKEY *pkey = EVP_EC_gen ("P-256");
  X509_SIG *p8 = encrypt_key (pkey, "pass phrase", pbkdf2);
  PKCS8_PRIV_KEY_INFO *info;
  EVP_PKEY *back;
  g_autoptr(GError) error = NULL;

  info = tb_pkcs8_decrypt (p8, "pass phrase", 11, &error);
  g_assert_no_error (error);
  g_assert_nonnull (info);
  back = EVP_PKCS82PKEY (info);
  g_assert_nonnull (back);
  g_assert_cmpint (EVP_PKEY_eq (pkey, back), ==, 1);
  EVP_PKEY_free (back);
  PKCS8_PRIV_KEY_INFO_free (info);

  info = tb_pkcs8_decrypt (p8, "pass phrasf", 11, &error);
  g_assert_null (info);
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);

  /* a flipped byte of the ciphertext's first block garbles the first 16
   * bytes of the DER (its SEQUENCE header and version): it cannot parse.
   * (A flipped byte of the last block, as this test once did, leaves a
   * valid padding about 1 time in 256, and a DER that still parses now and
   * then: the test failed about once in 30 runs.) */
  {
    const X509_ALGOR *alg;
    const ASN1_OCTET_STRING *enc;

    X509_SIG_get0 (p8, &alg, &enc);
    enc->data[0] ^= 0x5a;
    info = tb_pkcs8_decrypt (p8, "pass phrase", 11, &error);
    g_assert_null (info);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  }
  X509_SIG_free (p8);
  EVP_PKEY_free (pkey);
}

static void
test_pkcs8_scrypt (void)
{
  check_decrypts (FALSE);
}

static void
test_pkcs8_pbkdf2 (void)
{
  check_decrypts (TRUE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/scrypt/rfc-vectors", test_rfc_vectors);
  g_test_add_func ("/tb/scrypt/same-as-openssl", test_same_as_openssl);
  g_test_add_func ("/tb/scrypt/bad-parameters", test_bad_parameters);
  g_test_add_func ("/tb/scrypt/pkcs8-scrypt", test_pkcs8_scrypt);
  g_test_add_func ("/tb/scrypt/pkcs8-pbkdf2", test_pkcs8_pbkdf2);
  return g_test_run ();
}
