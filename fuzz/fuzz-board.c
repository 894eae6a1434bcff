/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for a virtual board's board.json (docs/board.md): the input
 * is written as board.json beside a fixed 64 KiB flash.bin (the genuine
 * SBM, the rest erased), rewritten for each input; an opened board is then
 * reset, which runs the reference SBM's boot over the OTP items the file
 * describes. */

#include "config.h"

#include <string.h>

#include "trustbench.h"
#include "tb-fuzz.h"
#include "tb-virtual-board.h"
#include "tb-sbm-image.h"

#define FLASH_SIZE (64u * 1024u)

static char *board_dir;
static char *flash_path;
static guint8 *flash;

void
tb_fuzz_setup (void)
{
  g_autoptr(GBytes) sbm = tb_sbm_image_build ();

  board_dir = g_build_filename (tb_fuzz_scratch_dir (), "board", NULL);
  g_assert (g_mkdir_with_parents (board_dir, 0700) == 0);
  flash = g_malloc (FLASH_SIZE);
  memset (flash, 0xff, FLASH_SIZE);
  g_assert (g_bytes_get_size (sbm) <= FLASH_SIZE);
  memcpy (flash, g_bytes_get_data (sbm, NULL), g_bytes_get_size (sbm));
  flash_path = g_build_filename (board_dir, "flash.bin", NULL);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = g_build_filename (board_dir, "board.json", NULL);
  g_autoptr(TbVirtualBoard) board = NULL;
  const char *version = NULL;

  g_assert (g_file_set_contents (flash_path, (const char *) flash, FLASH_SIZE, NULL));
  g_assert (g_file_set_contents (path, (const char *) data, (gssize) size, NULL));
  board = tb_virtual_board_open (board_dir, &error);
  g_assert ((board == NULL) == (error != NULL));
  if (board == NULL)
    return 0;
  tb_virtual_board_get_uid (board);
  tb_virtual_board_get_device_type (board);
  tb_lifecycle_to_string (tb_virtual_board_get_lifecycle (board));
  tb_virtual_board_get_public_key (board);
  tb_virtual_board_reset (board);
  tb_virtual_board_get_boot_result (board, &version);
  return 0;
}
