/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The encrypted image (.tbimg, docs/formats/tbimg.md) on its own: the
 * header's encoding and every rule of its decoder, decryption against a
 * UPK and what it refuses (another image's header, a truncated or extended
 * file, a chunk altered or out of place, a digest that differs), and the
 * verification report, each with the exact error. Mastering is in
 * test-master.c. */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tb-test-oem.h"
#include "tb-test-util.h"
#include "trustbench.h"

static TbTestOem *oem;
static TbTestMastered *pair;   /* 3 chunks of 4 KiB, the last one short */
static TbTestMastered *other;  /* another image of the same product */

static TbImageHeader
sample_header (void)
{
  TbImageHeader h = { 0 };

  h.chunk_size = 4096;
  h.plaintext_size = 2 * 4096 + 1;
  h.chunk_count = 3;
  for (guint i = 0; i < TB_UPK_IMAGE_ID_LEN; i++)
    h.image_id[i] = (guint8) (0xa0 + i);
  for (guint i = 0; i < TB_IMAGE_NONCE_PREFIX_LEN; i++)
    h.nonce_prefix[i] = (guint8) (0x30 + i);
  return h;
}

static void
test_header_round_trip (void)
{
  g_autoptr(GError) error = NULL;
  TbImageHeader h = sample_header (), back = { 0 };
  guint8 raw[TB_IMAGE_HEADER_LEN];

  tb_image_header_encode (&h, raw);
  g_assert_cmpmem (raw, 8, TB_IMAGE_MAGIC, 8);
  g_assert_cmpuint (raw[9], ==, TB_IMAGE_FORMAT_VERSION);
  g_assert_cmpuint (raw[11], ==, TB_IMAGE_HEADER_LEN);
  g_assert_true (tb_image_header_decode (raw, &back, "app.tbimg", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back.chunk_size, ==, 4096);
  g_assert_cmpuint (back.plaintext_size, ==, 2 * 4096 + 1);
  g_assert_cmpuint (back.chunk_count, ==, 3);
  g_assert_cmpmem (back.image_id, TB_UPK_IMAGE_ID_LEN, h.image_id, TB_UPK_IMAGE_ID_LEN);
  g_assert_cmpmem (back.nonce_prefix, TB_IMAGE_NONCE_PREFIX_LEN, h.nonce_prefix, TB_IMAGE_NONCE_PREFIX_LEN);
  g_assert_cmpuint (tb_image_file_size (&back), ==, 64 + 2 * 4096 + 1 + 3 * 16);

  /* the extremes: one byte; the largest chunk; a size above 4 GiB */
  h.chunk_size = TB_IMAGE_MIN_CHUNK_SIZE;
  h.plaintext_size = 1;
  h.chunk_count = 1;
  tb_image_header_encode (&h, raw);
  g_assert_true (tb_image_header_decode (raw, &back, "app.tbimg", &error));
  g_assert_no_error (error);
  h.chunk_size = TB_IMAGE_MAX_CHUNK_SIZE;
  h.plaintext_size = G_GUINT64_CONSTANT (0x100000001);
  h.chunk_count = 65537;
  tb_image_header_encode (&h, raw);
  g_assert_true (tb_image_header_decode (raw, &back, "app.tbimg", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (back.plaintext_size, ==, G_GUINT64_CONSTANT (0x100000001));
}

static void
assert_header_refused (const guint8 *raw, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  TbImageHeader h;

  g_assert_false (tb_image_header_decode (raw, &h, "app.tbimg", &error));
  g_assert_error (error, TB_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
}

static void
test_header_corpus (void)
{
  TbImageHeader good = sample_header ();
  guint8 raw[TB_IMAGE_HEADER_LEN];
  static const struct {
    guint32 chunk_size;
    guint64 size;
    guint32 count;
  } inconsistent[] = {
    { 0, 8193, 3 },           /* no chunk size */
    { 512, 8193, 17 },        /* below the minimum */
    { 131072, 8193, 1 },      /* above the maximum */
    { 3000, 8193, 3 },        /* not a power of two */
    { 4096, 0, 0 },           /* nothing in it */
    { 4096, 8193, 2 },        /* too few chunks */
    { 4096, 8193, 4 },        /* too many */
    { 1024, G_MAXUINT64 - 1000, 0 },  /* a size whose chunk count wraps around */
    { 1024, G_MAXUINT64, 0 },
    { 65536, G_GUINT64_CONSTANT (1) << 48, 0 },  /* 2^32 chunks, which a count cannot hold */
  };

  for (guint i = 0; i < G_N_ELEMENTS (inconsistent); i++)
    {
      TbImageHeader h = good;
      g_autofree char *message = NULL;

      h.chunk_size = inconsistent[i].chunk_size;
      h.plaintext_size = inconsistent[i].size;
      h.chunk_count = inconsistent[i].count;
      tb_image_header_encode (&h, raw);
      message = g_strdup_printf ("app.tbimg: the image header is inconsistent (chunk size %u, %" G_GUINT64_FORMAT
                                 " bytes, %u chunks)", h.chunk_size, h.plaintext_size, h.chunk_count);
      g_test_message ("case %u", i);
      assert_header_refused (raw, TB_ERROR_INVALID_DATA, message);
    }

  /* the reserved bytes are zero */
  for (guint off = 28; off < 64; off++)
    {
      if (off == 32)
        off = 56; /* the image id and the nonce prefix are free */
      tb_image_header_encode (&good, raw);
      raw[off] = 1;
      assert_header_refused (raw, TB_ERROR_INVALID_DATA, "app.tbimg: the image header is inconsistent (chunk size "
                                                         "4096, 8193 bytes, 3 chunks)");
    }

  /* magic, version, header length */
  for (guint off = 0; off < 8; off++)
    {
      tb_image_header_encode (&good, raw);
      raw[off] ^= 0x20;
      assert_header_refused (raw, TB_ERROR_INVALID_DATA, "app.tbimg is not a Trustbench encrypted image (bad magic)");
    }
  tb_image_header_encode (&good, raw);
  raw[9] = 2;
  assert_header_refused (raw, TB_ERROR_UNSUPPORTED, "app.tbimg: image format version 2 is not supported");
  raw[8] = 1;
  raw[9] = 1;
  assert_header_refused (raw, TB_ERROR_UNSUPPORTED, "app.tbimg: image format version 257 is not supported");
  tb_image_header_encode (&good, raw);
  raw[11] = 80;
  assert_header_refused (raw, TB_ERROR_UNSUPPORTED, "app.tbimg: image format version 1 is not supported");
}

/* ---- decryption ---- */

static TbUpk *
load_upk (const char *path)
{
  g_autoptr(GError) error = NULL;
  TbUpk *upk = tb_upk_load_file (path, &error);

  g_assert_no_error (error);
  return upk;
}

static TbKey *
product_key (void)
{
  g_autofree char *name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, oem->product, NULL);
  return tb_test_oem_key (oem, name);
}

static char *
copy_image (const char *name, gsize keep, gssize flip_at)
{
  g_autofree char *path = g_build_filename (oem->tmp, name, NULL);
  gsize len = 0;
  g_autofree char *data = tb_test_read_file (pair->image, &len);

  g_assert_cmpuint (keep, <=, len + 16);
  if (keep > len)
    {
      data = g_realloc (data, keep);
      memset (data + len, 0, keep - len);
    }
  if (flip_at >= 0)
    data[flip_at] ^= 0x01;
  g_assert_true (g_file_set_contents (path, data, (gssize) keep, NULL));
  return g_steal_pointer (&path);
}

static void
assert_decrypt_refused (TbUpk *upk, const char *image, TbKey *key, gint code, const char *message)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = g_build_filename (oem->tmp, "refused.bin", NULL);

  g_assert_false (tb_image_decrypt (upk, image, key, out, NULL, NULL, &error));
  g_assert_error (error, TB_ERROR, code);
  g_assert_cmpstr (error->message, ==, message);
  /* nothing written: a device never runs a byte of an image that fails */
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

static void
test_decrypt (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = load_upk (pair->upk);
  g_autoptr(TbKey) key = product_key ();
  g_autofree char *out = g_build_filename (oem->tmp, "plain.bin", NULL);
  g_autofree char *back = NULL;
  gsize back_len = 0;
  guint8 digest[32];

  g_assert_true (tb_image_decrypt (upk, pair->image, key, out, digest, NULL, &error));
  g_assert_no_error (error);
  back = tb_test_read_file (out, &back_len);
  g_assert_cmpmem (back, back_len, pair->plain, pair->plain_len);
  g_assert_cmpmem (digest, 32, tb_upk_get_plaintext_sha256 (upk), 32);
  /* without an output, only checked */
  g_assert_true (tb_image_decrypt (upk, pair->image, key, NULL, NULL, NULL, &error));
  g_assert_no_error (error);
}

static void
test_decrypt_refusals (void)
{
  g_autoptr(TbUpk) upk = load_upk (pair->upk);
  g_autoptr(TbUpk) other_upk = load_upk (other->upk);
  g_autoptr(TbKey) key = product_key ();
  g_autoptr(TbKey) stranger = tb_key_generate ("ec-p256", NULL);
  gsize len = 0;
  g_autofree char *image = tb_test_read_file (pair->image, &len);
  g_autofree char *message = NULL;
  g_autofree char *missing = g_build_filename (oem->tmp, "missing.tbimg", NULL);

  g_assert_cmpuint (len, ==, 64 + pair->plain_len + 3 * 16);

  message = g_strdup_printf ("Cannot read %s: No such file or directory", missing);
  assert_decrypt_refused (upk, missing, key, TB_ERROR_NOT_FOUND, message);
  g_clear_pointer (&message, g_free);

  /* the other image, under this UPK */
  message = g_strdup_printf ("The header of %s does not match the UPK: it is another image or was altered",
                             other->image);
  assert_decrypt_refused (upk, other->image, key, TB_ERROR_VERIFY_FAILED, message);
  g_clear_pointer (&message, g_free);
  /* this image under the other UPK */
  message = g_strdup_printf ("The header of %s does not match the UPK: it is another image or was altered",
                             pair->image);
  assert_decrypt_refused (other_upk, pair->image, key, TB_ERROR_VERIFY_FAILED, message);
  g_clear_pointer (&message, g_free);

  /* every byte of the header is under the UPK's digest */
  for (gssize off = 0; off < TB_IMAGE_HEADER_LEN; off++)
    {
      g_autofree char *path = copy_image ("header.tbimg", len, off);
      g_autoptr(GError) error = NULL;
      g_assert_false (tb_image_decrypt (upk, path, key, NULL, NULL, NULL, &error));
      g_assert_nonnull (error);
      g_assert_true (error->domain == TB_ERROR);
      g_assert_true (error->code == TB_ERROR_VERIFY_FAILED || error->code == TB_ERROR_INVALID_DATA ||
                     error->code == TB_ERROR_UNSUPPORTED);
    }

  /* cut inside the header, cut short, one byte too many */
  {
    g_autofree char *path = copy_image ("cut.tbimg", 30, -1);
    message = g_strdup_printf ("%s ends at offset 30, before its last chunk: it is truncated", path);
    assert_decrypt_refused (upk, path, key, TB_ERROR_VERIFY_FAILED, message);
    g_clear_pointer (&message, g_free);
  }
  {
    g_autofree char *path = copy_image ("short.tbimg", len - 1, -1);
    message = g_strdup_printf ("%s has %" G_GSIZE_FORMAT " bytes, the UPK says %" G_GSIZE_FORMAT ": it is truncated",
                               path, len - 1, len);
    assert_decrypt_refused (upk, path, key, TB_ERROR_VERIFY_FAILED, message);
    g_clear_pointer (&message, g_free);
  }
  {
    g_autofree char *path = copy_image ("long.tbimg", len + 1, -1);
    message = g_strdup_printf ("%s has %" G_GSIZE_FORMAT " bytes, the UPK says %" G_GSIZE_FORMAT ": it is extended",
                               path, len + 1, len);
    assert_decrypt_refused (upk, path, key, TB_ERROR_VERIFY_FAILED, message);
    g_clear_pointer (&message, g_free);
  }

  /* a bit flipped in each chunk's ciphertext and in each tag */
  for (guint chunk = 0; chunk < 3; chunk++)
    {
      gsize start = 64 + (gsize) chunk * (4096 + 16);
      gsize n = chunk < 2 ? 4096 : pair->plain_len - 2 * 4096;
      gssize offs[] = { (gssize) start, (gssize) (start + n - 1), (gssize) (start + n), (gssize) (start + n + 15) };
      for (guint k = 0; k < G_N_ELEMENTS (offs); k++)
        {
          g_autofree char *path = copy_image ("flipped.tbimg", len, offs[k]);
          message = g_strdup_printf ("%s: chunk %u of 3 (offset %" G_GSIZE_FORMAT ") does not authenticate: the image "
                                     "was altered", path, chunk + 1, start);
          assert_decrypt_refused (upk, path, key, TB_ERROR_VERIFY_FAILED, message);
          g_clear_pointer (&message, g_free);
        }
    }

  /* the first two chunks swapped: each is bound to its place */
  {
    g_autofree char *path = g_build_filename (oem->tmp, "swapped.tbimg", NULL);
    g_autofree char *swapped = g_memdup2 (image, len);
    memcpy (swapped + 64, image + 64 + 4112, 4112);
    memcpy (swapped + 64 + 4112, image + 64, 4112);
    g_assert_true (g_file_set_contents (path, swapped, (gssize) len, NULL));
    message = g_strdup_printf ("%s: chunk 1 of 3 (offset 64) does not authenticate: the image was altered", path);
    assert_decrypt_refused (upk, path, key, TB_ERROR_VERIFY_FAILED, message);
    g_clear_pointer (&message, g_free);
  }

  /* a key the image key is not wrapped for */
  assert_decrypt_refused (upk, pair->image, stranger, TB_ERROR_VERIFY_FAILED, "The UPK is not wrapped for key “?”");

  /* a UPK that describes other plaintext (a decoder bug, or a forged UPK) */
  {
    guint8 digest[32];
    memcpy (digest, tb_upk_get_plaintext_sha256 (upk), 32);
    digest[0] ^= 0x80;
    tb_upk_set_plaintext_sha256 (upk, digest);
    message = g_strdup_printf ("%s decrypts, but not to the image the UPK describes (SHA-256 differs)", pair->image);
    assert_decrypt_refused (upk, pair->image, key, TB_ERROR_VERIFY_FAILED, message);
  }
}

/* ---- verification against the context ---- */

static const TbCheck *
find_check (GPtrArray *checks, const char *name)
{
  for (guint i = 0; i < checks->len; i++)
    if (g_str_equal (((TbCheck *) g_ptr_array_index (checks, i))->name, name))
      return g_ptr_array_index (checks, i);
  return NULL;
}

static void
test_verify (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) checks = NULL;
  gsize len = 0;
  g_autofree char *image = tb_test_read_file (pair->image, &len);
  g_autofree char *flipped = copy_image ("verify-flipped.tbimg", len, 64 + 4112 + 7);
  g_autofree char *message = NULL;

  g_assert_cmpmem (image, 8, TB_IMAGE_MAGIC, 8);
  g_assert_true (tb_image_verify (oem->ctx, pair->upk, pair->image, TB_TEST_OEM_PASS, &checks, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < checks->len; i++)
    g_assert_cmpint (((TbCheck *) g_ptr_array_index (checks, i))->status, ==, TB_CHECK_PASSED);
  g_assert_nonnull (find_check (checks, "decrypt"));
  g_assert_cmpstr (tb_check_status_to_string (TB_CHECK_PASSED), ==, "passed");
  g_clear_pointer (&checks, g_ptr_array_unref);

  /* an altered chunk fails the decryption check only */
  g_assert_false (tb_image_verify (oem->ctx, pair->upk, flipped, TB_TEST_OEM_PASS, &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  message = g_strdup_printf ("Verification failed: %s: chunk 2 of 3 (offset 4176) does not authenticate: the image "
                             "was altered", flipped);
  g_assert_cmpstr (error->message, ==, message);
  g_clear_error (&error);
  g_assert_cmpint (find_check (checks, "signature")->status, ==, TB_CHECK_PASSED);
  g_assert_cmpint (find_check (checks, "decrypt")->status, ==, TB_CHECK_FAILED);
  g_clear_pointer (&checks, g_ptr_array_unref);

  /* the wrong passphrase is not an altered image */
  g_assert_false (tb_image_verify (oem->ctx, pair->upk, pair->image, "wrong passphrase", &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);
  g_clear_pointer (&checks, g_ptr_array_unref);

  /* the other image's header under this UPK fails the image check, and decryption is not tried */
  g_assert_false (tb_image_verify (oem->ctx, pair->upk, other->image, TB_TEST_OEM_PASS, &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_cmpint (find_check (checks, "image")->status, ==, TB_CHECK_FAILED);
  g_assert_cmpint (find_check (checks, "decrypt")->status, ==, TB_CHECK_SKIPPED);
}

/* Verified against a context that has not got the image's product: the
 * recipients row names the products it has, as every workflow's product
 * check does (tb_context_check_product()). */
static void
test_verify_other_context (void)
{
  const char *const products[] = { "gadget", "meter", NULL };
  g_autoptr(TbTestOem) stranger = tb_test_oem_new (products);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) checks = NULL;
  g_autofree char *expected = NULL;
  const TbCheck *recipients;

  g_assert_false (tb_image_verify (stranger->ctx, pair->upk, pair->image, TB_TEST_OEM_PASS, &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_cmpint (find_check (checks, "signature")->status, ==, TB_CHECK_PASSED);
  g_assert_cmpint (find_check (checks, "chain")->status, ==, TB_CHECK_FAILED);
  recipients = find_check (checks, "recipients");
  g_assert_cmpint (recipients->status, ==, TB_CHECK_FAILED);
  expected = g_strdup_printf ("The context %s has no product “%s” (its products: gadget, meter)",
                              tb_context_get_path (stranger->ctx), oem->product);
  g_assert_cmpstr (recipients->message, ==, expected);
  g_assert_cmpint (find_check (checks, "decrypt")->status, ==, TB_CHECK_SKIPPED);
}

int
main (int argc, char **argv)
{
  TbTestImage spec = { 0 };
  int rc;

  g_test_init (&argc, &argv, NULL);
  oem = tb_test_oem_new (NULL);
  spec.size = 2 * 4096 + 1000;
  spec.version = "1.0.0";
  spec.security_counter = 1;
  pair = tb_test_oem_master (oem, "app", &spec);
  spec.version = "1.1.0";
  spec.security_counter = 2;
  other = tb_test_oem_master (oem, "other", &spec);

  g_test_add_func ("/tb/image/header-round-trip", test_header_round_trip);
  g_test_add_func ("/tb/image/header-corpus", test_header_corpus);
  g_test_add_func ("/tb/image/decrypt", test_decrypt);
  g_test_add_func ("/tb/image/decrypt-refusals", test_decrypt_refusals);
  g_test_add_func ("/tb/image/verify", test_verify);
  g_test_add_func ("/tb/image/verify-other-context", test_verify_other_context);
  rc = g_test_run ();
  tb_test_mastered_free (pair);
  tb_test_mastered_free (other);
  tb_test_oem_free (oem);
  return rc;
}
