/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-test-oem.h"

#include <string.h>

#include "tb-test-util.h"
#include "tb-virtual-board.h"

TbTestOem *
tb_test_oem_new (const char *const *products)
{
  g_autoptr(GError) error = NULL;
  const char *const default_products[] = { "widget", NULL };
  TbTestOem *oem = g_new0 (TbTestOem, 1);

  oem->tmp = tb_test_make_tmpdir ();
  oem->dir = g_build_filename (oem->tmp, "oem", NULL);
  oem->ctx = tb_context_create (oem->dir, "Test OEM", &error);
  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (oem->ctx, products != NULL ? products : default_products, NULL,
                                      TB_TEST_OEM_PASS, NULL, &error));
  g_assert_no_error (error);
  oem->product = g_strdup (products != NULL ? products[0] : default_products[0]);
  return oem;
}

void
tb_test_oem_free (TbTestOem *oem)
{
  if (oem == NULL)
    return;
  g_clear_object (&oem->ctx);
  tb_test_rm_rf (oem->tmp);
  g_free (oem->tmp);
  g_free (oem->dir);
  g_free (oem->product);
  g_free (oem);
}

/* A key of the context, unlocked. */
TbKey *
tb_test_oem_key (TbTestOem *oem, const char *name)
{
  g_autoptr(GError) error = NULL;
  TbKey *key = tb_key_load_unlocked (oem->ctx, name, TB_TEST_OEM_PASS, &error);

  g_assert_no_error (error);
  g_assert_nonnull (key);
  return key;
}

/* Masters @image->size bytes of pseudo-random firmware as NAME.tbupk and
 * NAME.tbimg in the OEM's directory. */
TbTestMastered *
tb_test_oem_master (TbTestOem *oem, const char *name, const TbTestImage *image)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autofree char *bin = g_strdup_printf ("%s/%s.bin", oem->tmp, name);
  g_autofree char *product = NULL;
  TbTestMastered *m = g_new0 (TbTestMastered, 1);
  TbMasterOptions options = { 0 };

  product = g_strdup (image->product != NULL ? image->product : oem->product);
  m->plain_len = image->size != 0 ? image->size : 9000;
  m->plain = g_malloc (m->plain_len);
  for (gsize i = 0; i < m->plain_len; i++)
    m->plain[i] = (guint8) (i * 7 + image->security_counter + (i >> 8));
  g_assert_true (g_file_set_contents (bin, (const char *) m->plain, (gssize) m->plain_len, NULL));
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN,
                              image->load_address != 0 ? image->load_address : TB_BOARD_FLASH_BASE + 0x8000, &error);
  g_assert_no_error (error);
  options.product = product;
  options.device_types = image->device_types;
  options.device_uids = image->device_uids;
  options.version = image->version != NULL ? image->version : "1.0.0";
  options.security_counter = image->security_counter;
  options.allow_outside_slot = TRUE;
  m->upk = g_strdup_printf ("%s/%s.tbupk", oem->tmp, name);
  m->image = g_strdup_printf ("%s/%s.tbimg", oem->tmp, name);
  upk = tb_master_image (oem->ctx, fw, &options, TB_TEST_OEM_PASS, m->image, m->upk, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (upk);
  return m;
}

void
tb_test_mastered_free (TbTestMastered *m)
{
  if (m == NULL)
    return;
  g_free (m->upk);
  g_free (m->image);
  g_free (m->plain);
  g_free (m);
}
