/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Mastering: round trip, and a tamper sweep over both files — every
 * flipped byte, truncation, extension, reordering, a foreign mastering
 * key and the wrong product key are refused. */

#include "config.h"

#include <glib/gstdio.h>

#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "correct horse battery"

typedef struct {
  char *tmp;
  TbContext *ctx;
  char *bin;
  char *image;
  char *upk;
  TbUpk *master_upk;
  guint8 *plain;
  gsize plain_len;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  const char *products[] = { "sensor", "gateway", NULL };
  TbMasterOptions options = { "sensor", NULL, NULL, "2.1.0", 7, 0 };

  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (dir, "Master Test", &error);
  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);

  /* 5 chunks of 4 KiB, the last one short */
  f->plain_len = 4 * 4096 + 1000;
  f->plain = g_malloc (f->plain_len);
  for (gsize i = 0; i < f->plain_len; i++)
    f->plain[i] = (guint8) g_test_rand_int ();
  f->bin = g_build_filename (f->tmp, "app.bin", NULL);
  g_assert_true (g_file_set_contents (f->bin, (const char *) f->plain, (gssize) f->plain_len, NULL));
  f->image = g_build_filename (f->tmp, "app.tbimg", NULL);
  f->upk = g_build_filename (f->tmp, "app.tbupk", NULL);
  fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
  g_assert_no_error (error);
  f->master_upk = tb_master_image (f->ctx, fw, &options, PASS, f->image, f->upk, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (f->master_upk);
  /* mastering is audited */
  {
    g_autoptr(GPtrArray) log = tb_audit_read (f->ctx, &error);
    TbAuditEntry *last = g_ptr_array_index (log, log->len - 1);
    g_assert_cmpstr (tb_audit_entry_get_event (last), ==, "image.master");
    g_assert_cmpstr (tb_audit_entry_get_detail_string (last, "version"), ==, options.version);
  }
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->master_upk);
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->bin);
  g_free (f->image);
  g_free (f->upk);
  g_free (f->plain);
}

static TbKey *
unlocked (Fixture *f, const char *name)
{
  g_autoptr(GError) error = NULL;
  TbKey *key = tb_key_load (f->ctx, name, &error);

  g_assert_no_error (error);
  g_assert_true (tb_key_unlock (key, f->ctx, PASS, &error));
  g_assert_no_error (error);
  return key;
}

static void
test_round_trip (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) checks = NULL;
  g_autoptr(TbKey) product = unlocked (f, "product-sensor");
  g_autoptr(TbUpk) upk = tb_upk_load_file (f->upk, &error);
  g_autofree char *out = g_build_filename (f->tmp, "out.bin", NULL);
  g_autofree char *back = NULL;
  gsize back_len = 0;
  GStatBuf st;
  guint8 digest[32];

  g_assert_no_error (error);
  g_assert_cmpstr (tb_upk_get_product (upk), ==, "sensor");
  g_assert_cmpstr (tb_upk_get_version (upk), ==, "2.1.0");
  g_assert_cmpuint (tb_upk_get_security_counter (upk), ==, 7);
  g_assert_cmpuint (tb_upk_get_load_address (upk), ==, 0x08000000);
  g_assert_cmpuint (tb_upk_get_image_size (upk), ==, f->plain_len);
  g_assert_cmpuint (tb_upk_get_n_recipients (upk), ==, 1);

  g_assert_true (tb_image_verify (f->ctx, f->upk, f->image, PASS, &checks, NULL, &error));
  g_assert_no_error (error);
  for (guint i = 0; i < checks->len; i++)
    g_assert_cmpint (((TbCheck *) g_ptr_array_index (checks, i))->status, ==, TB_CHECK_PASSED);

  g_assert_true (tb_image_decrypt (upk, f->image, product, out, digest, NULL, &error));
  g_assert_no_error (error);
  back = tb_test_read_file (out, &back_len);
  g_assert_cmpmem (back, back_len, f->plain, f->plain_len);

  /* the ciphertext does not contain the plaintext */
  g_assert_cmpint (g_stat (f->image, &st), ==, 0);
  g_assert_cmpuint ((guint64) st.st_size, ==, 64 + f->plain_len + 5 * 16);
  {
    g_autofree char *cipher = tb_test_read_file (f->image, NULL);
    g_assert_true (memcmp (cipher + 64, f->plain, 64) != 0);
  }

  /* without the passphrase, the decryption checks are skipped, not passed */
  g_clear_pointer (&checks, g_ptr_array_unref);
  g_assert_true (tb_image_verify (f->ctx, f->upk, f->image, NULL, &checks, NULL, &error));
  g_assert_cmpint (((TbCheck *) g_ptr_array_index (checks, checks->len - 1))->status, ==, TB_CHECK_SKIPPED);
}

/* Every single-byte change of the UPK is refused: the structure, the
 * signature, or the signer's chain fails. */
static void
test_upk_flips (Fixture *f, gconstpointer data)
{
  g_autofree char *bytes = NULL;
  gsize len = 0;

  bytes = tb_test_read_file (f->upk, &len);
  for (gsize i = 0; i < len; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbUpk) upk = NULL;

      /* every bit of every byte: an algorithm byte is refused by one flip
       * and accepted by another if it is not bound to the key */
      for (guint bit = 0; bit < 8; bit++)
        {
          bytes[i] ^= (char) (1u << bit);
          upk = tb_upk_parse ((const guint8 *) bytes, len, "flipped", &error);
          if (upk != NULL && tb_upk_verify_signature (upk, &error) &&
              tb_cert_verify (f->ctx, tb_upk_get_signer_cert (upk), NULL, &error))
            g_error ("flipping bit %u at offset %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT " was accepted", bit, i, len);
          bytes[i] ^= (char) (1u << bit);
          g_clear_object (&upk);
          g_clear_error (&error);
        }
    }
  /* flags this build does not know: named as flags */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TbUpk) upk = NULL;
    bytes[11] ^= 0x01;
    upk = tb_upk_parse ((const guint8 *) bytes, len, "flags", &error);
    g_assert_null (upk);
    g_assert_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED);
    g_assert_nonnull (strstr (error->message, "flags 0x0001"));
    bytes[11] ^= 0x01;
  }
  /* truncated and extended */
  for (gsize cut = 0; cut < len; cut += 37)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbUpk) upk = tb_upk_parse ((const guint8 *) bytes, cut, "truncated", &error);
      g_assert_null (upk);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    }
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *longer = g_malloc (len + 8);
    g_autoptr(TbUpk) upk = NULL;
    memcpy (longer, bytes, len);
    memcpy (longer + len, "\0\x01\0\x02xy", 6);
    upk = tb_upk_parse ((const guint8 *) longer, len + 6, "extended", &error);
    g_assert_null (upk);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "after the signature"));
  }
}

static gboolean
decrypt_ok (TbUpk *upk, const char *image, TbKey *key)
{
  g_autoptr(GError) error = NULL;
  gboolean ok = tb_image_decrypt (upk, image, key, NULL, NULL, NULL, &error);

  /* refused as altered, or as not an image at all (a flipped magic) */
  if (!ok && !g_error_matches (error, TB_ERROR, TB_ERROR_VERIFY_FAILED) &&
      !g_error_matches (error, TB_ERROR, TB_ERROR_INVALID_DATA) && !g_error_matches (error, TB_ERROR, TB_ERROR_UNSUPPORTED))
    g_error ("unexpected error: %s", error->message);
  return ok;
}

static void
test_image_flips (Fixture *f, gconstpointer data)
{
  g_autoptr(TbKey) product = unlocked (f, "product-sensor");
  g_autoptr(TbUpk) upk = tb_upk_load_file (f->upk, NULL);
  g_autofree char *bytes = NULL;
  g_autofree char *copy = g_build_filename (f->tmp, "copy.tbimg", NULL);
  gsize len = 0;
  const gsize chunk = 4096 + 16;
  guint tried = 0;

  bytes = tb_test_read_file (f->image, &len);
  g_assert_true (decrypt_ok (upk, f->image, product));
  for (gsize i = 0; i < len; i++)
    {
      gsize in_chunk = i < 64 ? 0 : (i - 64) % chunk;
      gsize index = i < 64 ? 0 : (i - 64) / chunk;
      /* the whole header; first, middle and last chunk densely (ciphertext and tag); the rest sampled */
      gboolean dense = i < 64 || index == 0 || index == 2 || i >= len - 1016 || in_chunk >= 4096;
      if (!dense && i % 97 != 0)
        continue;
      if (!dense && in_chunk % 3 != 0)
        continue;
      bytes[i] ^= 0x80;
      g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
      if (decrypt_ok (upk, copy, product))
        g_error ("a flip at offset %" G_GSIZE_FORMAT " of the image was accepted", i);
      bytes[i] ^= 0x80;
      tried++;
    }
  g_test_message ("image flips tried: %u", tried);
  /* header + first, middle (ciphertext and tag) and last chunk, densely */
  g_assert_cmpuint (tried, >, 64 + 2 * 4112 + 1000);

  /* truncated at a chunk boundary, in the middle, by one byte; extended */
  for (const gsize *cut = (const gsize[]){ 64, 64 + chunk, 64 + 2 * chunk + 100, 0 }; *cut != 0; cut++)
    {
      g_assert_true (g_file_set_contents (copy, bytes, (gssize) *cut, NULL));
      g_assert_false (decrypt_ok (upk, copy, product));
    }
  g_assert_true (g_file_set_contents (copy, bytes, (gssize) len - 1, NULL));
  g_assert_false (decrypt_ok (upk, copy, product));
  {
    g_autofree char *longer = g_malloc (len + chunk);
    memcpy (longer, bytes, len);
    memcpy (longer + len, bytes + 64, chunk); /* a replayed chunk */
    g_assert_true (g_file_set_contents (copy, longer, (gssize) (len + chunk), NULL));
    g_assert_false (decrypt_ok (upk, copy, product));
  }
  /* two chunks swapped */
  {
    g_autofree char *swapped = g_memdup2 (bytes, len);
    memcpy (swapped + 64, bytes + 64 + chunk, chunk);
    memcpy (swapped + 64 + chunk, bytes + 64, chunk);
    g_assert_true (g_file_set_contents (copy, swapped, (gssize) len, NULL));
    g_assert_false (decrypt_ok (upk, copy, product));
  }
  /* the image of another mastering of the same firmware */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
    g_autofree char *image2 = g_build_filename (f->tmp, "again.tbimg", NULL);
    g_autofree char *upk2 = g_build_filename (f->tmp, "again.tbupk", NULL);
    TbMasterOptions options = { "sensor", NULL, NULL, "2.1.0", 7, 0 };
    g_autoptr(TbUpk) other = tb_master_image (f->ctx, fw, &options, PASS, image2, upk2, NULL, &error);
    g_assert_no_error (error);
    g_assert_false (decrypt_ok (upk, image2, product));
    g_assert_true (decrypt_ok (other, image2, product));
  }
}

static void
test_wrong_keys (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) gateway = unlocked (f, "product-gateway");
  g_autoptr(TbUpk) upk = tb_upk_load_file (f->upk, NULL);
  g_autofree char *other_dir = g_build_filename (f->tmp, "mallory", NULL);
  g_autoptr(TbContext) other = tb_context_create (other_dir, "Mallory", &error);
  const char *products[] = { "sensor", NULL };
  g_autofree char *forged_image = g_build_filename (f->tmp, "forged.tbimg", NULL);
  g_autofree char *forged_upk = g_build_filename (f->tmp, "forged.tbupk", NULL);
  g_autoptr(GPtrArray) checks = NULL;

  /* the wrong product key: not a recipient */
  g_assert_false (tb_image_decrypt (upk, f->image, gateway, NULL, NULL, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, "not wrapped for"));
  g_clear_error (&error);

  /* a UPK made with another OEM's mastering key is refused by our context */
  g_assert_true (tb_hierarchy_create (other, products, NULL, PASS, NULL, &error));
  {
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
    TbMasterOptions options = { "sensor", NULL, NULL, "9.9.9", 99, 0 };
    g_autoptr(TbUpk) forged = tb_master_image (other, fw, &options, PASS, forged_image, forged_upk, NULL, &error);
    g_assert_no_error (error);
    g_assert_nonnull (forged);
  }
  g_assert_false (tb_image_verify (f->ctx, forged_upk, forged_image, PASS, &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  {
    gboolean chain_failed = FALSE, recipients_failed = FALSE;
    for (guint i = 0; i < checks->len; i++)
      {
        TbCheck *c = g_ptr_array_index (checks, i);
        if (g_str_equal (c->name, "chain") && c->status == TB_CHECK_FAILED)
          chain_failed = TRUE;
        if (g_str_equal (c->name, "recipients") && c->status == TB_CHECK_FAILED)
          recipients_failed = TRUE;
      }
    g_assert_true (chain_failed);
    g_assert_true (recipients_failed);
  }

  /* our UPK re-signed by the mastering key under another certificate from
   * our root, one without the codeSigning usage (as the root's, the
   * provisioning CA's or a product's): it chains, and is refused for its
   * usage (OpenSSL takes a missing extended key usage for "any") */
  {
    g_autoptr(TbUpk) copy = tb_upk_load_file (f->upk, &error);
    g_autoptr(TbKey) root_key = unlocked (f, "root-ca");
    g_autoptr(TbKey) mastering = unlocked (f, "mastering");
    g_autoptr(TbCert) root = tb_cert_load (f->ctx, "root-ca", &error);
    g_autoptr(TbCert) not_code = NULL;
    g_autoptr(GBytes) resigned = NULL;
    g_autofree char *path = g_build_filename (f->tmp, "resigned.tbupk", NULL);

    g_assert_no_error (error);
    not_code = tb_cert_issue (root, root_key, mastering, TB_CERT_PROFILE_JOB, "Not for code", "Test OEM", 30, &error);
    g_assert_no_error (error);
    g_assert_true (tb_cert_verify (f->ctx, not_code, NULL, &error));
    resigned = tb_upk_sign (copy, not_code, mastering, &error);
    g_assert_no_error (error);
    g_assert_true (g_file_set_contents (path, g_bytes_get_data (resigned, NULL), g_bytes_get_size (resigned), NULL));
    g_clear_pointer (&checks, g_ptr_array_unref);
    g_assert_false (tb_image_verify (f->ctx, path, f->image, PASS, &checks, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_assert_nonnull (strstr (error->message, "not for code signing"));
    g_clear_error (&error);
    g_assert_false (tb_cert_check_code_signing (root, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_clear_error (&error);
    {
      g_autoptr(TbCert) mcert = tb_cert_load (f->ctx, "mastering", &error);
      g_assert_true (tb_cert_check_code_signing (mcert, &error));
      g_assert_no_error (error);
    }
  }

  /* a wrong passphrase: the files are not at fault, so it is not a failed
   * verification */
  g_clear_pointer (&checks, g_ptr_array_unref);
  g_assert_false (tb_image_verify (f->ctx, f->upk, f->image, "wrong passphrase", &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_clear_error (&error);

  /* a UPK and an image that do not belong together */
  g_clear_pointer (&checks, g_ptr_array_unref);
  g_assert_false (tb_image_verify (f->ctx, f->upk, forged_image, PASS, &checks, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, "does not match the UPK"));
  g_clear_error (&error);

  /* the mastering key must be unlockable: a wrong passphrase masters nothing */
  {
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, NULL);
    g_autofree char *i2 = g_build_filename (f->tmp, "x.tbimg", NULL);
    g_autofree char *u2 = g_build_filename (f->tmp, "x.tbupk", NULL);
    TbMasterOptions options = { "sensor", NULL, NULL, "1.0.0", 0, 0 };
    g_autoptr(TbUpk) none = tb_master_image (f->ctx, fw, &options, "wrong passphrase", i2, u2, NULL, &error);
    g_assert_null (none);
    g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
    g_assert_false (g_file_test (i2, G_FILE_TEST_EXISTS));
    g_assert_false (g_file_test (u2, G_FILE_TEST_EXISTS));
    g_clear_error (&error);
    options.product = "toaster";
    none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
    g_clear_error (&error);
    options.product = "sensor";
    options.version = "1.0";
    none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    options.version = "1.0.0";
    options.chunk_size = 3000;
    none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    /* the same device twice: a mistake, not a binding to record twice */
    options.chunk_size = 0;
    options.device_uids = (const char *const[]){ "0011", "00aa", "00AA", NULL };
    none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "twice"));
    g_clear_error (&error);
    options.device_uids = NULL;
    options.device_types = (const char *const[]){ "rev-a", "rev-a", NULL };
    none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_false (g_file_test (i2, G_FILE_TEST_EXISTS));
    g_clear_error (&error);
    /* an audit log that takes no entry (cut short): refused before the
     * pair is written, not after, so no unrecorded image is left behind */
    options.device_types = NULL;
    {
      g_autofree char *log = g_build_filename (tb_context_get_path (f->ctx), "audit", "log.jsonl", NULL);
      g_autofree char *pristine = tb_test_read_file (log, NULL);
      /* the newline before the last entry's */
      const char *end = g_strrstr_len (pristine, (gssize) strlen (pristine) - 1, "\n");
      g_autofree char *cut = g_strndup (pristine, end != NULL ? (gsize) (end - pristine + 1) : 0);

      tb_test_write_file (log, cut);
      none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
      g_assert_null (none);
      g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
      g_assert_nonnull (strstr (error->message, "truncated"));
      g_assert_false (g_file_test (i2, G_FILE_TEST_EXISTS));
      g_assert_false (g_file_test (u2, G_FILE_TEST_EXISTS));
      tb_test_write_file (log, pristine);
    }
  }
}

/* Versions are semantic versions, exactly (semver.org 2.0.0). */
static void
test_semver (void)
{
  const char *good[] = { "0.0.0", "1.4.2", "10.20.30", "1.0.0-alpha", "1.0.0-alpha.1", "1.0.0-0.3.7",
                         "1.0.0-x.7.z.92", "1.0.0-rc.1+build.1", "1.0.0+20130313144700", "1.2.3-01a", NULL };
  const char *bad[] = { "", "1", "1.2", "1.2.3.4", "01.2.3", "1.02.3", "1.2.03", "1.2.3-01", "1.2.3-rc.01",
                        "1.2.3-", "1.2.3-a..b", "1.2.3+", "1.2.3+a..b", " 1.2.3", "1.2.3 ", "v1.2.3", "-1.2.3", NULL };

  for (guint i = 0; good[i] != NULL; i++)
    if (!tb_semver_is_valid (good[i], NULL))
      g_error ("“%s” was refused", good[i]);
  for (guint i = 0; bad[i] != NULL; i++)
    {
      g_autoptr(GError) error = NULL;
      if (tb_semver_is_valid (bad[i], &error))
        g_error ("“%s” was accepted", bad[i]);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    }
}

static void
test_cancel (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, NULL);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(TbProgress) progress = tb_progress_new (cancellable);
  g_autofree char *i2 = g_build_filename (f->tmp, "c.tbimg", NULL);
  g_autofree char *u2 = g_build_filename (f->tmp, "c.tbupk", NULL);
  TbMasterOptions options = { "sensor", NULL, NULL, "1.0.0", 0, 0 };
  g_autoptr(TbUpk) none = NULL;
  g_autoptr(GDir) dir = NULL;
  const char *name;

  g_cancellable_cancel (cancellable);
  none = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, progress, &error);
  g_assert_null (none);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_false (g_file_test (i2, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (u2, G_FILE_TEST_EXISTS));
  /* no temporary file left behind */
  dir = g_dir_open (f->tmp, 0, NULL);
  while ((name = g_dir_read_name (dir)) != NULL)
    g_assert_false (g_str_has_prefix (name, ".c.tbimg"));
}

/* The same firmware as HEX and as BIN masters to the same plaintext. */
static void
test_formats_same_digest (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *hex = g_build_filename (f->tmp, "app.hex", NULL);
  g_autofree char *cmd = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autofree char *i2 = g_build_filename (f->tmp, "h.tbimg", NULL);
  g_autofree char *u2 = g_build_filename (f->tmp, "h.tbupk", NULL);
  TbMasterOptions options = { "sensor", NULL, NULL, "2.1.0", 7, 0 };
  g_autoptr(TbUpk) upk = NULL;
  int status = 0;

  if (g_getenv ("TB_OBJCOPY") == NULL)
    {
      g_test_skip ("objcopy not found");
      return;
    }
  cmd = g_strdup_printf ("%s -I binary -O ihex --change-addresses 0x08000000 %s %s", g_getenv ("TB_OBJCOPY"), f->bin,
                         hex);
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL));
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  fw = tb_firmware_load_file (hex, TB_FIRMWARE_FORMAT_AUTO, TB_FIRMWARE_NO_ADDRESS, &error);
  g_assert_no_error (error);
  upk = tb_master_image (f->ctx, fw, &options, PASS, i2, u2, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpmem (tb_upk_get_plaintext_sha256 (upk), 32, tb_upk_get_plaintext_sha256 (f->master_upk), 32);
  g_assert_cmpuint (tb_upk_get_load_address (upk), ==, 0x08000000);
}

/* A UPK whose image would run past 0xffffffff (its fields are 64-bit,
 * the devices 32-bit) is refused when read, even when properly signed. */
static void
test_upk_address_space (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = tb_upk_load_file (f->upk, &error);
  g_autoptr(TbKey) mastering = unlocked (f, "mastering");
  g_autoptr(TbCert) cert = tb_cert_load (f->ctx, "mastering", &error);
  guint64 size = tb_upk_get_image_size (upk);
  const guint64 top = G_GUINT64_CONSTANT (1) << 32;
  const guint64 addresses[] = { top - size, top - size + 1, top, G_GUINT64_CONSTANT (0x800000000) };

  g_assert_no_error (error);
  for (guint i = 0; i < G_N_ELEMENTS (addresses); i++)
    {
      g_autoptr(GBytes) signed_upk = NULL;
      g_autoptr(TbUpk) back = NULL;

      tb_upk_set_load_address (upk, addresses[i]);
      signed_upk = tb_upk_sign (upk, cert, mastering, &error);
      g_assert_no_error (error);
      back = tb_upk_parse (g_bytes_get_data (signed_upk, NULL), g_bytes_get_size (signed_upk), "top.tbupk", &error);
      if (i == 0)
        {
          g_assert_no_error (error);
          g_assert_cmpuint (tb_upk_get_load_address (back), ==, top - size);
          continue;
        }
      g_assert_null (back);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "runs past 0xffffffff"));
      g_clear_error (&error);
    }
}

/* An image of more chunks than one read block holds (the decryption reads
 * 64 chunks of 4 KiB at a time and hashes on a helper thread): it decrypts
 * to the input, and a chunk altered past the first block is the one named. */
static void
test_multi_block (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(TbKey) product = unlocked (f, "product-sensor");
  g_autofree char *bin = g_build_filename (f->tmp, "big.bin", NULL);
  g_autofree char *image = g_build_filename (f->tmp, "big.tbimg", NULL);
  g_autofree char *upk_path = g_build_filename (f->tmp, "big.tbupk", NULL);
  g_autofree char *out = g_build_filename (f->tmp, "big.out", NULL);
  g_autofree char *copy = g_build_filename (f->tmp, "big-altered.tbimg", NULL);
  g_autofree guint8 *plain = NULL;
  g_autofree char *back = NULL;
  g_autofree char *bytes = NULL;
  g_autofree char *expected = NULL;
  const gsize plain_len = 140 * 4096 + 123; /* 141 chunks: three blocks, the last chunk short */
  const guint64 altered = 64 + 100 * (4096 + 16) + 7; /* chunk 101, in the second block */
  TbMasterOptions options = { "sensor", NULL, NULL, "2.2.0", 8, 0 };
  gsize len = 0;
  guint8 digest[32];

  plain = g_malloc (plain_len);
  for (gsize i = 0; i < plain_len; i++)
    plain[i] = (guint8) g_test_rand_int ();
  g_assert_true (g_file_set_contents (bin, (const char *) plain, (gssize) plain_len, NULL));
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
  g_assert_no_error (error);
  upk = tb_master_image (f->ctx, fw, &options, PASS, image, upk_path, NULL, &error);
  g_assert_no_error (error);

  g_assert_true (tb_image_decrypt (upk, image, product, out, digest, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (digest, 32, tb_upk_get_plaintext_sha256 (upk), 32);
  g_assert_true (g_file_get_contents (out, &back, &len, NULL));
  g_assert_cmpmem (back, len, plain, plain_len);

  bytes = tb_test_read_file (image, &len);
  bytes[altered] ^= 0x01;
  g_assert_true (g_file_set_contents (copy, bytes, (gssize) len, NULL));
  g_remove (out);
  g_assert_false (tb_image_decrypt (upk, copy, product, out, NULL, NULL, &error));
  expected = g_strdup_printf ("chunk 101 of 141 (offset %u)", 64 + 100 * (4096 + 16));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_nonnull (strstr (error->message, expected));
  /* nothing written for an image that does not authenticate */
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* The mastering certificate is read on the unlocking thread, while the
 * image streams: without it mastering fails with the certificate's error
 * and leaves nothing at the destinations. */
static void
test_missing_signer (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_load_file (f->bin, TB_FIRMWARE_FORMAT_BIN, 0x08000000, NULL);
  g_autofree char *cert = g_build_filename (f->tmp, "ctx", "certs", "mastering.pem", NULL);
  g_autofree char *image = g_build_filename (f->tmp, "y.tbimg", NULL);
  g_autofree char *upk_path = g_build_filename (f->tmp, "y.tbupk", NULL);
  TbMasterOptions options = { "sensor", NULL, NULL, "3.0.0", 9, 0 };
  g_autoptr(TbUpk) upk = NULL;

  g_assert_cmpint (g_unlink (cert), ==, 0);
  upk = tb_master_image (f->ctx, fw, &options, PASS, image, upk_path, NULL, &error);
  g_assert_null (upk);
  g_assert_nonnull (error);
  g_assert_nonnull (strstr (error->message, "mastering.pem"));
  g_assert_false (g_file_test (image, G_FILE_TEST_EXISTS));
  g_assert_false (g_file_test (upk_path, G_FILE_TEST_EXISTS));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_setup, fn, fixture_teardown)
  ADD ("/tb/master/round-trip", test_round_trip);
  ADD ("/tb/master/upk-flips", test_upk_flips);
  ADD ("/tb/master/upk-address-space", test_upk_address_space);
  g_test_add_func ("/tb/master/semver", test_semver);
  ADD ("/tb/master/image-flips", test_image_flips);
  ADD ("/tb/master/multi-block", test_multi_block);
  ADD ("/tb/master/missing-signer", test_missing_signer);
  ADD ("/tb/master/wrong-keys", test_wrong_keys);
  ADD ("/tb/master/cancel", test_cancel);
  ADD ("/tb/master/formats-same-digest", test_formats_same_digest);
#undef ADD
  return g_test_run ();
}
