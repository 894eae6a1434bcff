/* SPDX-License-Identifier: GPL-3.0-or-later */

/* MCUboot export, checked by an independent reader written here from the
 * MCUboot image format (header, protected TLVs, TLVs, ECIES-P256). MCUboot's
 * own imgtool accepted these images when checked by hand (docs/mcuboot.md). */

#include "config.h"

#include <glib/gstdio.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/x509.h>

#include "tb-key-private.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "correct horse battery"

static guint16
rd16 (const guint8 *p)
{
  return (guint16) (p[0] | p[1] << 8);
}

static guint32
rd32 (const guint8 *p)
{
  return (guint32) rd16 (p) | (guint32) rd16 (p + 2) << 16;
}

typedef struct {
  guint32 header_size, image_size, flags;
  guint16 prot_size;
  guint8 version[8];
  const guint8 *sec_cnt, *sha, *keyhash, *sig, *enc;
  guint16 sig_len;
  gsize hashed_len;
} Parsed;

static void
parse (const guint8 *b, gsize len, Parsed *p)
{
  gsize off, end;

  memset (p, 0, sizeof *p);
  g_assert_cmpuint (len, >, 32);
  g_assert_cmpuint (rd32 (b), ==, 0x96f3b83d);
  g_assert_cmpuint (rd32 (b + 4), ==, 0);
  p->header_size = rd16 (b + 8);
  p->prot_size = rd16 (b + 10);
  p->image_size = rd32 (b + 12);
  p->flags = rd32 (b + 16);
  memcpy (p->version, b + 20, 8);
  off = p->header_size + p->image_size;
  g_assert_cmpuint (rd16 (b + off), ==, 0x6908);
  g_assert_cmpuint (rd16 (b + off + 2), ==, p->prot_size);
  for (gsize q = off + 4; q < off + p->prot_size;)
    {
      if (b[q] == 0x50)
        p->sec_cnt = b + q + 4;
      q += 4 + rd16 (b + q + 2);
    }
  p->hashed_len = off + p->prot_size;
  off = p->hashed_len;
  g_assert_cmpuint (rd16 (b + off), ==, 0x6907);
  end = off + rd16 (b + off + 2);
  g_assert_cmpuint (end, ==, len);
  for (gsize q = off + 4; q < end;)
    {
      guint16 l = rd16 (b + q + 2);
      switch (b[q])
        {
        case 0x10: g_assert_cmpuint (l, ==, 32); p->sha = b + q + 4; break;
        case 0x01: g_assert_cmpuint (l, ==, 32); p->keyhash = b + q + 4; break;
        case 0x22: p->sig = b + q + 4; p->sig_len = l; break;
        case 0x32: g_assert_cmpuint (l, ==, 113); p->enc = b + q + 4; break;
        default: g_error ("unexpected TLV %02x", b[q]);
        }
      q += 4 + l;
    }
}

static void
check_signed (const guint8 *b, gsize len, Parsed *p, TbKey *mastering)
{
  guint8 digest[32], keyhash[32];
  unsigned int n = 0;
  unsigned char *spki = NULL;
  int spki_len;
  EVP_MD_CTX *v = EVP_MD_CTX_new ();

  EVP_Digest (b, p->hashed_len, digest, &n, EVP_sha256 (), NULL);
  g_assert_nonnull (p->sha);
  g_assert_cmpmem (p->sha, 32, digest, 32);
  spki_len = i2d_PUBKEY (tb_key_get_public_pkey (mastering), &spki);
  EVP_Digest (spki, (size_t) spki_len, keyhash, &n, EVP_sha256 (), NULL);
  OPENSSL_free (spki);
  g_assert_cmpmem (p->keyhash, 32, keyhash, 32);
  g_assert_cmpint (EVP_DigestVerifyInit_ex (v, NULL, "SHA256", NULL, NULL, tb_key_get_public_pkey (mastering), NULL),
                   ==, 1);
  g_assert_cmpint (EVP_DigestVerify (v, p->sig, p->sig_len, b, p->hashed_len), ==, 1);
  EVP_MD_CTX_free (v);
}

typedef struct {
  char *tmp;
  TbContext *ctx;
  char *bin;
  guint8 *plain;
  gsize plain_len;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  const char *products[] = { "sensor", NULL };

  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (dir, "MCUboot Test", &error);
  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
  f->plain_len = 20001;
  f->plain = g_malloc (f->plain_len);
  for (gsize i = 0; i < f->plain_len; i++)
    f->plain[i] = (guint8) g_test_rand_int ();
  f->bin = g_build_filename (f->tmp, "app.bin", NULL);
  g_assert_true (g_file_set_contents (f->bin, (const char *) f->plain, (gssize) f->plain_len, NULL));
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->bin);
  g_free (f->plain);
}

static TbKey *
unlocked (Fixture *f, const char *name)
{
  TbKey *key = tb_key_load (f->ctx, name, NULL);

  g_assert_true (tb_key_unlock (key, f->ctx, PASS, NULL));
  return key;
}

static void
test_signed (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
  g_autofree char *out = g_build_filename (f->tmp, "signed.bin", NULL);
  g_autofree char *bytes = NULL;
  g_autoptr(TbKey) mastering = unlocked (f, "mastering");
  TbMcubootOptions options = { "3.2.1+77", 12, 0x20, NULL };
  gsize len = 0;
  Parsed p;

  g_assert_true (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_no_error (error);
  bytes = tb_test_read_file (out, &len);
  parse ((const guint8 *) bytes, len, &p);
  g_assert_cmpuint (p.header_size, ==, 0x20);
  g_assert_cmpuint (p.image_size, ==, f->plain_len);
  g_assert_cmpuint (p.flags, ==, 0);
  g_assert_cmpmem (p.version, 8, "\x03\x02\x01\x00\x4d\x00\x00\x00", 8);
  g_assert_cmpuint (rd32 (p.sec_cnt), ==, 12);
  g_assert_cmpmem (bytes + 0x20, f->plain_len, f->plain, f->plain_len);
  check_signed ((const guint8 *) bytes, len, &p, mastering);
  g_assert_null (p.enc);

  /* one flipped image byte breaks the hash */
  bytes[0x20 + 100] ^= 1;
  {
    guint8 digest[32];
    unsigned int n = 0;
    EVP_Digest (bytes, p.hashed_len, digest, &n, EVP_sha256 (), NULL);
    g_assert_true (memcmp (digest, p.sha, 32) != 0);
  }
}

static void
test_encrypted (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
  g_autofree char *out = g_build_filename (f->tmp, "enc.bin", NULL);
  g_autofree char *bytes = NULL;
  g_autoptr(TbKey) mastering = unlocked (f, "mastering");
  g_autoptr(TbKey) product = unlocked (f, "product-sensor");
  TbMcubootOptions options = { "1.0.0", 0, 0, "sensor" };
  gsize len = 0;
  Parsed p;
  guint8 shared[32], derived[48], mac[32], key[16], iv[16] = { 0 };
  size_t shared_len = sizeof shared;
  unsigned int mac_len = 0;
  int outl = 0;
  g_autofree guint8 *img = NULL;

  g_assert_true (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_no_error (error);
  bytes = tb_test_read_file (out, &len);
  parse ((const guint8 *) bytes, len, &p);
  g_assert_cmpuint (p.header_size, ==, 0x200);
  g_assert_cmpuint (p.flags, ==, 0x04);
  g_assert_cmpuint (p.image_size, ==, (f->plain_len + 15) / 16 * 16);
  g_assert_nonnull (p.enc);

  /* ECIES-P256 the way MCUboot's bootloader undoes it */
  {
    OSSL_PARAM params[3];
    EVP_PKEY_CTX *pctx = EVP_PKEY_CTX_new_from_name (NULL, "EC", NULL);
    EVP_PKEY *eph = NULL;
    EVP_PKEY_CTX *dctx;
    EVP_KDF *kdf = EVP_KDF_fetch (NULL, "HKDF", NULL);
    EVP_KDF_CTX *kctx = EVP_KDF_CTX_new (kdf);
    OSSL_PARAM kp[4];
    EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new ();

    params[0] = OSSL_PARAM_construct_utf8_string (OSSL_PKEY_PARAM_GROUP_NAME, (char *) "P-256", 0);
    params[1] = OSSL_PARAM_construct_octet_string (OSSL_PKEY_PARAM_PUB_KEY, (void *) p.enc, 65);
    params[2] = OSSL_PARAM_construct_end ();
    g_assert_cmpint (EVP_PKEY_fromdata_init (pctx), ==, 1);
    g_assert_cmpint (EVP_PKEY_fromdata (pctx, &eph, EVP_PKEY_PUBLIC_KEY, params), ==, 1);
    dctx = EVP_PKEY_CTX_new_from_pkey (NULL, tb_key_get_private_pkey (product), NULL);
    g_assert_cmpint (EVP_PKEY_derive_init (dctx), ==, 1);
    g_assert_cmpint (EVP_PKEY_derive_set_peer (dctx, eph), ==, 1);
    g_assert_cmpint (EVP_PKEY_derive (dctx, shared, &shared_len), ==, 1);
    kp[0] = OSSL_PARAM_construct_utf8_string (OSSL_KDF_PARAM_DIGEST, (char *) "SHA256", 0);
    kp[1] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_KEY, shared, 32);
    kp[2] = OSSL_PARAM_construct_octet_string (OSSL_KDF_PARAM_INFO, (char *) "MCUBoot_ECIES_v1", 16);
    kp[3] = OSSL_PARAM_construct_end ();
    g_assert_cmpint (EVP_KDF_derive (kctx, derived, 48, kp), ==, 1);
    HMAC (EVP_sha256 (), derived + 16, 32, p.enc + 97, 16, mac, &mac_len);
    g_assert_cmpmem (mac, 32, p.enc + 65, 32);
    g_assert_cmpint (EVP_DecryptInit_ex2 (c, EVP_aes_128_ctr (), derived, iv, NULL), ==, 1);
    g_assert_cmpint (EVP_DecryptUpdate (c, key, &outl, p.enc + 97, 16), ==, 1);
    img = g_malloc (p.image_size);
    g_assert_cmpint (EVP_DecryptInit_ex2 (c, EVP_aes_128_ctr (), key, iv, NULL), ==, 1);
    g_assert_cmpint (EVP_DecryptUpdate (c, img, &outl, (const guint8 *) bytes + p.header_size, (int) p.image_size),
                     ==, 1);
    g_assert_cmpmem (img, f->plain_len, f->plain, f->plain_len);
    EVP_CIPHER_CTX_free (c);
    EVP_KDF_CTX_free (kctx);
    EVP_KDF_free (kdf);
    EVP_PKEY_CTX_free (dctx);
    EVP_PKEY_free (eph);
    EVP_PKEY_CTX_free (pctx);
  }
  /* the hash and the signature cover the plaintext, as MCUboot checks them
   * after decrypting */
  memcpy (bytes + p.header_size, img, p.image_size);
  check_signed ((const guint8 *) bytes, len, &p, mastering);
}

static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
  g_autofree char *out = g_build_filename (f->tmp, "x.bin", NULL);
  TbMcubootOptions options = { "256.0.0", 0, 0, NULL };

  g_assert_false (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* a pre-release has no place in MCUboot's version: refused, not dropped */
  options.version = "1.2.3-rc1";
  g_assert_false (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "pre-release"));
  g_clear_error (&error);
  options.version = "1.0.0";
  options.header_size = 7;
  g_assert_false (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* the header's size field is 16 bits: 65536 would be written as 0 */
  options.header_size = 65536;
  g_assert_false (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  options.header_size = 65532;
  g_assert_true (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_no_error (error);
  {
    g_autofree char *bytes = NULL;
    gsize len = 0;
    g_assert_true (g_file_get_contents (out, &bytes, &len, NULL));
    g_assert_cmpuint (len, >, 65532);
    g_assert_cmpuint ((guint8) bytes[8] | (guint8) bytes[9] << 8, ==, 65532);
  }
  g_unlink (out);
  options.header_size = 0;
  options.encrypt_for = "toaster";
  g_assert_false (tb_mcuboot_export (f->ctx, fw, &options, PASS, out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  options.encrypt_for = NULL;
  g_assert_false (tb_mcuboot_export (f->ctx, fw, &options, "wrong passphrase", out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/tb/mcuboot/signed", Fixture, NULL, setup, test_signed, teardown);
  g_test_add ("/tb/mcuboot/encrypted", Fixture, NULL, setup, test_encrypted, teardown);
  g_test_add ("/tb/mcuboot/refusals", Fixture, NULL, setup, test_refusals, teardown);
  return g_test_run ();
}
