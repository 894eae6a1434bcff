/* SPDX-License-Identifier: GPL-3.0-or-later */

/* USB packets a CMSIS-DAP probe exchanges to move memory: write 1 MiB into
 * a virtual board's RAM and read it back through the emulated probe, with
 * 64-byte (full-speed) and 512-byte (high-speed) packets. Prints exchanges
 * per KiB against the minimum for the packet size (a DAP_TransferBlock
 * carries (size − 5) / 4 words written, (size − 4) / 4 read, so a KiB needs
 * at least ceil(256 / that) exchanges), the average fill of the block
 * packets and the most packets in flight.
 * Targets: ≥ 90 % fill, ≤ 1.1 × the minimum exchanges per KiB, all of the
 * probe's packet count in flight.
 *
 *   bench-cmsis-dap [KiB]          (default 1024)
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>

#include "tb-dap-emu.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

int
main (int argc, char **argv)
{
  guint kib = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 1024;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tb-bench-dap-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (tmp, "board", NULL);
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (dir, NULL, 0, 0, NULL, &error);
  const guint16 sizes[] = { 64, 512 };
  const guint window = 32 * 1024; /* of the board's 64 KiB RAM, rewritten until 1 MiB moved */
  gboolean ok = TRUE;

  if (board == NULL || kib == 0)
    g_error ("setup: %s", error != NULL ? error->message : "bad size");
  tb_virtual_board_reset (board);
  printf ("%u KiB written and read back through the emulated CMSIS-DAP probe\n", kib);
  printf ("%-7s %-6s %12s %9s %6s %10s %9s\n", "packet", "dir", "exchanges/KiB", "minimum", "ratio", "block fill",
          "in flight");
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      TbDapEmu *emu = tb_dap_emu_new (board, sizes[s], 4, "BENCH");
      g_autoptr(TbProbe) probe = tb_cmsis_dap_probe_new_for_transport (tb_dap_emu_exchange, emu,
                                                                      (GDestroyNotify) tb_dap_emu_free,
                                                                      "cmsis-dap:BENCH", &error);
      TbDap *dap;
      g_autofree guint8 *out = g_malloc (window), *in = g_malloc (window);

      if (probe == NULL)
        g_error ("probe: %s", error->message);
      dap = tb_cmsis_dap_probe_get_dap (TB_CMSIS_DAP_PROBE (probe));
      tb_dap_set_pipeline (dap, tb_dap_emu_send, tb_dap_emu_receive);
      for (guint i = 0; i < window; i++)
        out[i] = (guint8) (i * 31 + s);
      for (guint dir_index = 0; dir_index < 2; dir_index++)
        {
          gboolean write = dir_index == 0;
          guint64 before = tb_dap_get_exchanges (dap), blocks_before, blocks_after;
          double fill;
          double per_kib, minimum;

          tb_dap_get_block_fill (dap, &blocks_before);
          for (guint done = 0; done < kib * 1024; done += window)
            {
              gboolean moved = write ? tb_probe_write_memory (probe, TB_BOARD_RAM_BASE + 0x4000, out, window, NULL,
                                                              &error)
                                     : tb_probe_read_memory (probe, TB_BOARD_RAM_BASE + 0x4000, in, window, NULL,
                                                             &error);
              if (!moved)
                g_error ("transfer: %s", error->message);
            }
          if (!write && memcmp (in, out, window) != 0)
            g_error ("read back differs from what was written");
          fill = tb_dap_get_block_fill (dap, &blocks_after);
          (void) blocks_before;
          per_kib = (double) (tb_dap_get_exchanges (dap) - before) / kib;
          minimum = (double) ((256 + (sizes[s] - (write ? 5 : 4)) / 4 - 1) / ((sizes[s] - (write ? 5 : 4)) / 4));
          printf ("%-7u %-6s %12.2f %9.0f %6.3f %9.1f%% %6u of %u\n", sizes[s], write ? "write" : "read", per_kib,
                  minimum, per_kib / minimum, fill * 100.0, tb_dap_get_max_in_flight (dap),
                  tb_dap_get_packet_count (dap));
          ok = ok && per_kib / minimum <= 1.1 && fill >= 0.9 &&
               tb_dap_get_max_in_flight (dap) == tb_dap_get_packet_count (dap);
        }
    }
  printf ("%s\n", ok ? "exchanges, fill and packets in flight: targets met"
                     : "exchanges, fill or packets in flight: targets NOT met");
  tb_file_remove_tree (tmp, NULL);
  return ok ? 0 : 1;
}
