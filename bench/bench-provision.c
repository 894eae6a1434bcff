/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Provisions a virtual board and programs a 1 MiB image through its probe;
 * prints the seconds it takes and the bytes moved through the probe per
 * byte of image (the mailbox protocol's overhead).
 *
 *   bench-provision [KiB]
 */

#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "trustbench.h"
#include "tb-virtual-board.h"

#define PASS "bench passphrase"

int
main (int argc, char **argv)
{
  guint kib = argc > 1 ? (guint) atoi (argv[1]) : 1024;
  g_autofree char *tmp = g_dir_make_tmp ("tb-bench-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "ctx", NULL);
  g_autofree char *board_dir = g_build_filename (tmp, "board", NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *upk_path = g_build_filename (tmp, "app.tbupk", NULL);
  g_autofree char *image = g_build_filename (tmp, "app.tbimg", NULL);
  g_autofree char *uri = g_strconcat ("virtual:", board_dir, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(TbVirtualBoard) board = NULL;
  g_autoptr(TbProbe) probe = NULL;
  const char *products[] = { "bench", NULL };
  TbMasterOptions mopts = { "bench", NULL, NULL, "1.0.0", 1, 0 };
  TbProvisionOptions popts = { "bench", NULL, NULL, FALSE };
  TbProvisionResult result = { 0 };
  gsize size = (gsize) kib * 1024;
  g_autofree guint8 *data = g_malloc (size);
  gint64 t0;
  double seconds;
  guint64 moved;

  for (gsize i = 0; i < size; i++)
    data[i] = (guint8) (i * 2654435761u >> 11);
  ctx = tb_context_create (dir, "Bench OEM", &error);
  if (ctx == NULL || !tb_hierarchy_create (ctx, products, NULL, PASS, NULL, &error) ||
      !g_file_set_contents (bin, (const char *) data, (gssize) size, &error) ||
      (fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error)) == NULL ||
      (upk = tb_master_image (ctx, fw, &mopts, PASS, image, upk_path, NULL, &error)) == NULL ||
      (board = tb_virtual_board_create (board_dir, NULL, (guint32) (size * 3 + 256 * 1024) / 4096 * 4096 + 4096 * 12,
                                        4096, NULL, &error)) == NULL)
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }
  g_clear_object (&board);
  probe = tb_probe_open (uri, &error);
  if (probe == NULL)
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }
  popts.upk_path = upk_path;
  popts.image_path = image;
  t0 = g_get_monotonic_time ();
  if (!tb_provision_device (ctx, probe, &popts, PASS, &result, NULL, &error))
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }
  seconds = (g_get_monotonic_time () - t0) / 1e6;
  moved = tb_probe_get_bytes_moved (probe);
  printf ("image:                         %u KiB, provisioned and programmed on a virtual board\n", kib);
  printf ("time:                          %.3f s (including the SBM install and two key unlocks)\n", seconds);
  printf ("bytes through the probe:       %" G_GUINT64_FORMAT " (%.3f per byte of image)\n", moved,
          (double) moved / size);
  printf ("device runs:                   %s\n", result.app_version);
  tb_provision_result_clear (&result);
  g_clear_object (&probe);
  g_clear_object (&ctx);
  tb_file_remove_tree (tmp, NULL);
  return 0;
}
