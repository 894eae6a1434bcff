/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Receipts signed by a device key (core/production/tb-receipt.c, docs/mailbox.md):
 * both forms parsed field by field, and every truncation, extension,
 * flipped byte, foreign key and malformed-but-signed body refused with
 * the exact error. The receipts are signed here with the SBM's own crypto
 * backend, as a device signs them. */

#include "config.h"

#include <string.h>

#include "tb-key-private.h"
#include "tb-sbm-crypto-openssl.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define MALFORMED "The receipt is malformed or not signed by this device's key"

typedef struct {
  guint8 scalar[32];
  guint8 point[65];
} Device;

static void
device_init (Device *d)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) key = tb_key_generate ("ec-p256", &error);

  g_assert_no_error (error);
  g_assert_true (tb_key_get_p256_scalar (key, d->scalar));
  g_assert_true (tb_key_get_p256_point (key, d->point));
}

typedef struct {
  TbReceiptKind kind;
  const char *label;      /* NULL: the kind's */
  guint8 nonce[32];
  const guint8 *uid;
  gsize uid_len;
  guint8 image_id[16];
  guint8 digest[32];
  guint32 counter;
  const char *version;
  gsize version_len;      /* 0: strlen (version) */
  gboolean no_signature;
} Body;

static void
body_init (Body *b, TbReceiptKind kind)
{
  static const guint8 uid[] = { 0x0a, 0x1b, 0x2c, 0x3d, 0x4e, 0x5f, 0x60, 0x71 };

  memset (b, 0, sizeof *b);
  b->kind = kind;
  for (guint i = 0; i < 32; i++)
    {
      b->nonce[i] = (guint8) (0xc0 + i);
      b->digest[i] = (guint8) (0x10 + i);
    }
  for (guint i = 0; i < 16; i++)
    b->image_id[i] = (guint8) (0x80 + i);
  b->uid = uid;
  b->uid_len = sizeof uid;
  b->counter = 0x01020304;
  b->version = "1.4.2";
}

/* The receipt as the SBM writes it (tb-sbm.c, cmd_install_finish and
 * cmd_receipt), signed with @d's key. */
static GBytes *
sign_receipt (const Device *d, const Body *b)
{
  const TbSbmCrypto *c = tb_sbm_crypto_openssl ();
  g_autoptr(GByteArray) out = g_byte_array_new ();
  gsize ver_len = b->version_len != 0 ? b->version_len : strlen (b->version);
  guint8 u8, be[4], digest[32], sig[80];
  size_t sig_len = sizeof sig;
  const char *label = b->label != NULL ? b->label : b->kind == TB_RECEIPT_STATUS ? "TBRECEIPT2" : "TBRECEIPT1";
  TbSbmSha256 s;

  if (b->kind == TB_RECEIPT_STATUS)
    g_byte_array_append (out, b->nonce, 32);
  u8 = (guint8) b->uid_len;
  g_byte_array_append (out, &u8, 1);
  g_byte_array_append (out, b->uid, (guint) b->uid_len);
  if (b->kind == TB_RECEIPT_INSTALL)
    g_byte_array_append (out, b->image_id, 16);
  g_byte_array_append (out, b->digest, 32);
  be[0] = (guint8) (b->counter >> 24);
  be[1] = (guint8) (b->counter >> 16);
  be[2] = (guint8) (b->counter >> 8);
  be[3] = (guint8) b->counter;
  g_byte_array_append (out, be, 4);
  u8 = (guint8) ver_len;
  g_byte_array_append (out, &u8, 1);
  g_byte_array_append (out, (const guint8 *) b->version, (guint) ver_len);
  if (b->no_signature)
    return g_byte_array_free_to_bytes (g_steal_pointer (&out));

  c->sha256_init (&s);
  c->sha256_update (&s, (const guint8 *) label, strlen (label));
  c->sha256_update (&s, out->data, out->len);
  c->sha256_final (&s, digest);
  g_assert_cmpint (c->ecdsa_p256_sign (d->scalar, digest, sig, &sig_len), ==, 0);
  be[0] = (guint8) (sig_len >> 8);
  be[1] = (guint8) sig_len;
  g_byte_array_append (out, be, 2);
  g_byte_array_append (out, sig, (guint) sig_len);
  return g_byte_array_free_to_bytes (g_steal_pointer (&out));
}

static void
assert_refused (const guint8 *data, gsize len, const guint8 *point, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbReceipt) r = tb_receipt_parse (data, len, point, &error);

  g_assert_null (r);
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_install (void)
{
  g_autoptr(GError) error = NULL;
  Device d;
  Body b;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TbReceipt) r = NULL;

  device_init (&d);
  body_init (&b, TB_RECEIPT_INSTALL);
  bytes = sign_receipt (&d, &b);
  r = tb_receipt_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), d.point, &error);
  g_assert_no_error (error);
  g_assert_nonnull (r);
  g_assert_cmpint (r->kind, ==, TB_RECEIPT_INSTALL);
  g_assert_cmpstr (tb_receipt_kind_to_string (r->kind), ==, "install");
  g_assert_cmpstr (r->uid, ==, "0a1b2c3d4e5f6071");
  g_assert_true (r->has_image_id);
  g_assert_cmpmem (r->image_id, 16, b.image_id, 16);
  g_assert_cmpmem (r->plaintext_sha256, 32, b.digest, 32);
  g_assert_cmpuint (r->security_counter, ==, 0x01020304);
  g_assert_cmpstr (r->version, ==, "1.4.2");
}

static void
test_status (void)
{
  g_autoptr(GError) error = NULL;
  Device d;
  Body b;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(TbReceipt) r = NULL;
  static const guint8 one_byte_uid[] = { 0xff };

  device_init (&d);
  body_init (&b, TB_RECEIPT_STATUS);
  b.uid = one_byte_uid;
  b.uid_len = 1;
  b.counter = 0xffffffff;
  b.version = "10.20.30-rc.1+build.5";
  bytes = sign_receipt (&d, &b);
  r = tb_receipt_parse (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), d.point, &error);
  g_assert_no_error (error);
  g_assert_cmpint (r->kind, ==, TB_RECEIPT_STATUS);
  g_assert_cmpstr (tb_receipt_kind_to_string (r->kind), ==, "status");
  g_assert_cmpstr (r->uid, ==, "ff");
  g_assert_false (r->has_image_id);
  g_assert_cmpmem (r->nonce, 32, b.nonce, 32);
  g_assert_cmpmem (r->plaintext_sha256, 32, b.digest, 32);
  g_assert_cmpuint (r->security_counter, ==, 0xffffffff);
  g_assert_cmpstr (r->version, ==, "10.20.30-rc.1+build.5");
}

/* Every cut, every extension, every flipped bit: refused, never read past
 * the end (run it under ASan). */
static void
test_tampered (void)
{
  Device d, other;
  Body b;

  device_init (&d);
  device_init (&other);
  for (TbReceiptKind kind = TB_RECEIPT_INSTALL; kind <= TB_RECEIPT_STATUS; kind++)
    {
      g_autoptr(GBytes) bytes = NULL;
      const guint8 *data;
      gsize len;

      body_init (&b, kind);
      bytes = sign_receipt (&d, &b);
      data = g_bytes_get_data (bytes, &len);

      for (gsize cut = 1; cut < len; cut++)
        {
          g_autofree guint8 *copy = g_memdup2 (data, cut); /* exactly @cut bytes: ASan sees any over-read */
          assert_refused (copy, cut, d.point, MALFORMED);
        }
      {
        g_autofree guint8 *longer = g_malloc0 (len + 1);
        memcpy (longer, data, len);
        assert_refused (longer, len + 1, d.point, MALFORMED);
      }
      for (gsize bit = 0; bit < len * 8; bit++)
        {
          g_autofree guint8 *copy = g_memdup2 (data, len);
          copy[bit / 8] ^= (guint8) (1u << (bit % 8));
          assert_refused (copy, len, d.point, MALFORMED);
        }
      /* another device's key */
      assert_refused (data, len, other.point, MALFORMED);
    }
}

/* Well signed, yet not a receipt: an empty UID, a version with a NUL in
 * it, a body signed under the other form's label, no signature at all. */
static void
test_malformed_signed (void)
{
  Device d;
  Body b;

  device_init (&d);
  {
    g_autoptr(GBytes) bytes = NULL;
    body_init (&b, TB_RECEIPT_INSTALL);
    b.uid_len = 0;
    bytes = sign_receipt (&d, &b);
    assert_refused (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), d.point, MALFORMED);
  }
  {
    g_autoptr(GBytes) bytes = NULL;
    body_init (&b, TB_RECEIPT_STATUS);
    b.version = "1.0\0.0";
    b.version_len = 6;
    bytes = sign_receipt (&d, &b);
    assert_refused (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), d.point, MALFORMED);
  }
  for (TbReceiptKind kind = TB_RECEIPT_INSTALL; kind <= TB_RECEIPT_STATUS; kind++)
    {
      g_autoptr(GBytes) bytes = NULL;
      body_init (&b, kind);
      b.label = kind == TB_RECEIPT_INSTALL ? "TBRECEIPT2" : "TBRECEIPT1";
      bytes = sign_receipt (&d, &b);
      assert_refused (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), d.point, MALFORMED);
    }
  {
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GByteArray) zero_sig = g_byte_array_new ();
    static const guint8 no_len[2] = { 0, 0 };
    body_init (&b, TB_RECEIPT_INSTALL);
    b.no_signature = TRUE;
    bytes = sign_receipt (&d, &b);
    assert_refused (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), d.point, MALFORMED);
    g_byte_array_append (zero_sig, g_bytes_get_data (bytes, NULL), (guint) g_bytes_get_size (bytes));
    g_byte_array_append (zero_sig, no_len, 2);
    assert_refused (zero_sig->data, zero_sig->len, d.point, MALFORMED);
  }
  /* a device key that is no point on the curve verifies nothing */
  {
    g_autoptr(GBytes) bytes = NULL;
    guint8 bad_point[65];
    body_init (&b, TB_RECEIPT_INSTALL);
    bytes = sign_receipt (&d, &b);
    memcpy (bad_point, d.point, 65);
    bad_point[33] ^= 0x20;
    assert_refused (g_bytes_get_data (bytes, NULL), g_bytes_get_size (bytes), bad_point, MALFORMED);
  }
}

static void
test_sizes (void)
{
  Device d;
  g_autofree guint8 *big = g_malloc0 (1025);

  device_init (&d);
  assert_refused (NULL, 0, d.point, "The receipt is empty or too large (0 bytes)");
  assert_refused (big, 0, d.point, "The receipt is empty or too large (0 bytes)");
  assert_refused (big, 1025, d.point, "The receipt is empty or too large (1025 bytes)");
  assert_refused (big, 1024, d.point, MALFORMED);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/receipt/install", test_install);
  g_test_add_func ("/tb/receipt/status", test_status);
  g_test_add_func ("/tb/receipt/tampered", test_tampered);
  g_test_add_func ("/tb/receipt/malformed-signed", test_malformed_signed);
  g_test_add_func ("/tb/receipt/sizes", test_sizes);
  return g_test_run ();
}
