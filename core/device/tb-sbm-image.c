/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The reference SBM's image, as provisioning installs it at the start of
 * a blank device's flash (real or virtual): a header (magic, version) and
 * a deterministic body that stands for the SBM's code. The virtual
 * board's ROM holds its SHA-256, the way a real part's boot ROM or
 * vendor SBM would check the region. Only GLib and the SBM's header:
 * provisioning a real device does not pull in the virtual board. */

#include "config.h"

#include "tb-sbm-image.h"

#include <string.h>

#include "sbm/tb-sbm.h"

/**
 * tb_sbm_image_build:
 *
 * Returns: (transfer full): the genuine SBM image (%TB_SBM_REGION_SIZE
 *   bytes) that provisioning installs at the start of flash; its SHA-256
 *   is in the board's ROM
 */
GBytes *
tb_sbm_image_build (void)
{
  guint8 *image = g_malloc (TB_SBM_REGION_SIZE);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  g_autoptr(GChecksum) sum = NULL;

  memset (image, 0, TB_SBM_REGION_SIZE);
  memcpy (image, "TBSBM\0\0\0", 8);
  image[8] = (guint8) (TB_SBM_VERSION >> 24);
  image[9] = (guint8) (TB_SBM_VERSION >> 16);
  image[10] = (guint8) (TB_SBM_VERSION >> 8);
  image[11] = (guint8) TB_SBM_VERSION;
  /* stands for the SBM's code: a deterministic hash chain */
  for (gsize off = 32; off + 32 <= TB_SBM_REGION_SIZE; off += 32)
    {
      sum = g_checksum_new (G_CHECKSUM_SHA256);
      g_checksum_update (sum, image + off - 32, 32);
      g_checksum_get_digest (sum, digest, &digest_len);
      memcpy (image + off, digest, 32);
      g_clear_pointer (&sum, g_checksum_free);
    }
  return g_bytes_new_take (image, TB_SBM_REGION_SIZE);
}
