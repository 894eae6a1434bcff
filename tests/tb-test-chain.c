/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The provisioning chain the tests run on every kind of device: a context
 * of two products, images mastered for a load address, and the refusals
 * the SBM owes us whatever CPU it runs on (test-provision.c on the virtual
 * board, test-qemu-sbm.c on a Cortex-M4 in QEMU). */

#include "config.h"

#include "tb-test-chain.h"

#include "tb-test-util.h"

/**
 * tb_test_chain_context:
 * @products: the products, each with its product key
 *
 * A context with the default hierarchy, unlocked by %TB_TEST_PASS.
 */
TbContext *
tb_test_chain_context (const char *dir, const char *name, const char *const *products)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = tb_context_create (dir, name, &error);

  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (ctx, (const char **) products, NULL, TB_TEST_PASS, NULL, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&ctx);
}

/**
 * tb_test_chain_master:
 * @name: the files' name in @tmp (`NAME.tbupk`, `NAME.tbimg`); mastering
 *   it again replaces them
 * @pattern: the image's bytes are `k * pattern`
 * @upk_path: (out): the UPK's path
 * @image_path: (out): the image's path
 */
void
tb_test_chain_master (TbContext *ctx, const char *tmp, const char *name, guint64 load_address, gsize size,
                      guint pattern, const char *version, guint32 counter, const char *const *uids,
                      const char *product, char **upk_path, char **image_path)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bin = g_strdup_printf ("%s/%s.bin", tmp, name);
  g_autofree guint8 *data = g_malloc (size);
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  TbMasterOptions options = { product, NULL, uids, version, counter, 0, .replace = TRUE };

  for (gsize k = 0; k < size; k++)
    data[k] = (guint8) (k * pattern);
  g_assert_true (g_file_set_contents (bin, (const char *) data, (gssize) size, NULL));
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, load_address, &error);
  g_assert_no_error (error);
  g_free (*upk_path);
  g_free (*image_path);
  *upk_path = g_strdup_printf ("%s/%s.tbupk", tmp, name);
  *image_path = g_strdup_printf ("%s/%s.tbimg", tmp, name);
  upk = tb_master_image (ctx, fw, &options, TB_TEST_PASS, *image_path, *upk_path, NULL, &error);
  g_assert_no_error (error);
}

/**
 * tb_test_chain_tamper_chunk:
 *
 * Copies an image (of at least two chunks of 4 KiB) with one bit of its
 * second chunk's ciphertext flipped.
 */
void
tb_test_chain_tamper_chunk (const char *image_path, const char *tampered_path)
{
  gsize len = 0;
  g_autofree char *bytes = tb_test_read_file (image_path, &len);

  g_assert_cmpuint (len, >, 64 + 4112 + 100);
  bytes[64 + 4112 + 100] ^= 0x01;
  g_assert_true (g_file_set_contents (tampered_path, bytes, (gssize) len, NULL));
}

/**
 * tb_test_chain_assert_refused:
 * @why: what the error message must say
 * @running_version: what the device runs before and after
 *
 * Programming the pair is refused by the SBM (%TB_ERROR_VERIFY_FAILED,
 * saying @why), and after a reset the device's signature table and
 * application are unchanged and it boots what it ran before.
 */
void
tb_test_chain_assert_refused (TbProbe *probe, const char *upk_path, const char *image_path, const char *why,
                              const char *running_version, TbTestFlashSnapshot snapshot, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) before = snapshot (probe, user_data);
  g_autoptr(GBytes) after = NULL;
  g_autoptr(TbTarget) target = tb_target_new (probe);
  g_autoptr(TbAttestation) att = NULL;

  g_assert_false (tb_program_device (probe, upk_path, image_path, NULL, NULL, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  if (strstr (error->message, why) == NULL)
    g_error ("“%s” does not say “%s”", error->message, why);
  g_clear_error (&error);
  g_assert_true (tb_target_reset (target, &error));
  g_assert_no_error (error);
  after = snapshot (probe, user_data);
  g_assert_true (g_bytes_equal (before, after));
  att = tb_target_attest (target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, running_version);
}

/**
 * tb_test_chain_assert_refusals:
 * @ctx: the context that provisioned the device, with the products
 *   "sensor" (the device's) and "gateway"
 * @load_address: the device's application slot
 * @running_version: what the device runs, with a security counter of 1
 *   or more
 *
 * The SBM refuses a tampered chunk, another OEM's image, another
 * product's, one bound to another device and a rollback, each leaving
 * the device as it was.
 */
void
tb_test_chain_assert_refusals (TbContext *ctx, const char *tmp, guint64 load_address, TbProbe *probe,
                               const char *running_version, TbTestFlashSnapshot snapshot, gpointer user_data)
{
  g_autofree char *other_dir = g_build_filename (tmp, "mallory", NULL);
  const char *const products[] = { "sensor", NULL };
  g_autoptr(TbContext) other = tb_test_chain_context (other_dir, "Mallory", products);
  const char *const other_uid[] = { "00000001", NULL };
  g_autofree char *tampered = g_build_filename (tmp, "tampered.tbimg", NULL);
  g_autofree char *upk = NULL, *image = NULL;

  /* a tampered chunk: the SBM checks it before writing a byte of it */
  tb_test_chain_master (ctx, tmp, "refused", load_address, 10777, 4, "50.0.0", 50, NULL, "sensor", &upk, &image);
  tb_test_chain_tamper_chunk (image, tampered);
  tb_test_chain_assert_refused (probe, upk, tampered, "does not authenticate", running_version, snapshot, user_data);
  /* signed by another OEM's mastering key */
  tb_test_chain_master (other, tmp, "refused", load_address, 10777, 5, "9.0.0", 9, NULL, "sensor", &upk, &image);
  tb_test_chain_assert_refused (probe, upk, image, "signature", running_version, snapshot, user_data);
  /* for the other product */
  tb_test_chain_master (ctx, tmp, "refused", load_address, 10777, 5, "2.0.0", 5, NULL, "gateway", &upk, &image);
  tb_test_chain_assert_refused (probe, upk, image, "another product", running_version, snapshot, user_data);
  /* bound to another device */
  tb_test_chain_master (ctx, tmp, "refused", load_address, 10777, 5, "2.0.0", 5, other_uid, "sensor", &upk, &image);
  tb_test_chain_assert_refused (probe, upk, image, "other devices", running_version, snapshot, user_data);
  /* a rollback: counter not above the installed one */
  tb_test_chain_master (ctx, tmp, "refused", load_address, 10777, 5, "0.9.0", 1, NULL, "sensor", &upk, &image);
  tb_test_chain_assert_refused (probe, upk, image, "rollback", running_version, snapshot, user_data);
}
