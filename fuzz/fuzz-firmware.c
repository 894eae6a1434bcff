/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the firmware readers (Intel HEX, S-records, ELF).
 *
 * Built with -Dfuzzing=true (clang), it is a libFuzzer target:
 *   fuzz-firmware -dict=… tests/data/firmware/
 * Built normally, fuzz-replay.c's main() replays the files given on the
 * command line (the AFL-style and regression use), which the test suite
 * does with the seeds in tests/data/firmware/. */

#include "config.h"

#include "trustbench.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  static const TbFirmwareFormat formats[] = { TB_FIRMWARE_FORMAT_IHEX, TB_FIRMWARE_FORMAT_SREC,
                                              TB_FIRMWARE_FORMAT_ELF };

  for (guint i = 0; i < G_N_ELEMENTS (formats); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbFirmware) fw = tb_firmware_parse (data, size, formats[i], "fuzz", &error);
      guint8 buf[64];

      /* either an image or an error, never both, never neither */
      g_assert ((fw == NULL) == (error != NULL));
      if (fw != NULL)
        {
          guint64 n = MIN (tb_firmware_get_size (fw), sizeof buf);
          g_assert (tb_firmware_read (fw, 0, buf, n, NULL));
          g_assert (tb_firmware_read (fw, tb_firmware_get_size (fw) - n, buf, n, NULL));
        }
    }
  return 0;
}
