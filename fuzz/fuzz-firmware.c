/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the firmware readers. Built three times, once per
 * format (TB_FUZZ_FORMAT: Intel HEX, S-records, ELF), so each target's
 * corpus and coverage stay its own.
 *
 * Built with -Dfuzzing=true (clang), it is a libFuzzer target:
 *   fuzz-ihex tests/data/fuzz-ihex/
 * Built normally, its main() replays the files or directories given (the
 * AFL-style and regression use), which the test suite does with the seeds
 * in tests/data/fuzz-ihex/ and friends. */

#include "config.h"

#include "trustbench.h"
#include "tb-fuzz.h"

#include <string.h>

#ifndef TB_FUZZ_FORMAT
#error "TB_FUZZ_FORMAT must name the format this harness reads"
#endif

void
tb_fuzz_setup (void)
{
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_parse (data, size, TB_FUZZ_FORMAT, "fuzz", &error);
  guint8 buf[64];

  /* either an image or an error, never both, never neither */
  g_assert ((fw == NULL) == (error != NULL));
  if (fw != NULL)
    {
      guint64 n = MIN (tb_firmware_get_size (fw), sizeof buf);
      /* hashing walks the gaps too: only for images of a sane size */
      g_autofree char *sha = tb_firmware_get_size (fw) <= 1024 * 1024 ? tb_firmware_compute_sha256 (fw, NULL, NULL) : NULL;

      g_assert (sha == NULL || strlen (sha) == 64);
      g_assert (tb_firmware_read (fw, 0, buf, n, NULL));
      g_assert (tb_firmware_read (fw, tb_firmware_get_size (fw) - n, buf, n, NULL));
      for (guint i = 0; i < tb_firmware_get_n_segments (fw); i++)
        {
          guint64 address = 0, length = 0;
          g_assert (tb_firmware_get_segment (fw, i, &address, &length));
          g_assert (address >= tb_firmware_get_base_address (fw));
          g_assert (address - tb_firmware_get_base_address (fw) + length <= tb_firmware_get_size (fw));
        }
    }
  return 0;
}
