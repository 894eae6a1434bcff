/* SPDX-License-Identifier: GPL-3.0-or-later */

/* ARM Debug Interface v5 over CMSIS-DAP: the SW-DP (IDCODE, power-up,
 * sticky errors, SELECT) and MEM-AP 0 (CSW, TAR, DRW), transport
 * independent. SELECT and CSW are cached so each access writes only what
 * changed. Memory moves as 32-bit words with TAR auto-increment, split at
 * the 1 KiB boundaries ADIv5 guarantees TAR to wrap inside, unaligned ends
 * as 8-bit accesses on the right byte lane. */

#include "config.h"

#include "tb-adiv5.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"

#define POWER_UP_TRIES 100

struct _TbAdiv5 {
  TbDap *dap;
  guint32 idcode;
  guint32 ap_idr;
  guint32 select;
  gboolean select_valid;
  guint32 csw;
  gboolean csw_valid;
  guint32 tar_wrap;
};

TbAdiv5 *
tb_adiv5_new (TbDap *dap)
{
  TbAdiv5 *adi = g_new0 (TbAdiv5, 1);

  adi->dap = dap;
  adi->tar_wrap = TB_TAR_WRAP;
  return adi;
}

void
tb_adiv5_free (TbAdiv5 *adi)
{
  g_free (adi);
}

guint32
tb_adiv5_get_idcode (TbAdiv5 *adi)
{
  return adi->idcode;
}

guint32
tb_adiv5_get_ap_idr (TbAdiv5 *adi)
{
  return adi->ap_idr;
}

/**
 * tb_adiv5_set_tar_wrap:
 * @wrap: a power of two ≥ 1024: the auto-increment range, when the target
 *   is known to have more than ADIv5's guaranteed 1 KiB
 */
void
tb_adiv5_set_tar_wrap (TbAdiv5 *adi, guint32 wrap)
{
  if (wrap >= TB_TAR_WRAP && (wrap & (wrap - 1)) == 0)
    adi->tar_wrap = wrap;
}

static gboolean
dp_read (TbAdiv5 *adi, guint8 reg, guint32 *value, GError **error)
{
  TbDapTransfer t = { TB_DAP_READ | TB_DAP_A (reg), 0 };

  if (!tb_dap_transfer (adi->dap, &t, 1, error))
    return FALSE;
  *value = t.value;
  return TRUE;
}

static gboolean
dp_write (TbAdiv5 *adi, guint8 reg, guint32 value, GError **error)
{
  TbDapTransfer t = { TB_DAP_A (reg), value };

  return tb_dap_transfer (adi->dap, &t, 1, error);
}

/* Appends the SELECT write an AP access to @ap_reg needs, if any. */
static void
add_select (TbAdiv5 *adi, guint8 ap_reg, TbDapTransfer *t, guint *n)
{
  guint32 select = ap_reg & 0xf0u; /* AP 0, bank of the register */

  if (adi->select_valid && adi->select == select)
    return;
  t[(*n)++] = (TbDapTransfer) { TB_DAP_A (TB_DP_SELECT), select };
  adi->select = select;
  adi->select_valid = TRUE;
}

static gboolean
ap_read (TbAdiv5 *adi, guint8 reg, guint32 *value, GError **error)
{
  TbDapTransfer t[2];
  guint n = 0;

  add_select (adi, reg, t, &n);
  t[n++] = (TbDapTransfer) { TB_DAP_AP | TB_DAP_READ | TB_DAP_A (reg), 0 };
  if (!tb_dap_transfer (adi->dap, t, n, error))
    {
      adi->select_valid = FALSE;
      return FALSE;
    }
  *value = t[n - 1].value;
  return TRUE;
}

/**
 * tb_adiv5_connect:
 *
 * Switches the debug port to SWD, reads IDCODE, clears sticky errors,
 * powers the debug and system domains up (and waits for both
 * acknowledgements) and reads MEM-AP 0's IDR.
 */
gboolean
tb_adiv5_connect (TbAdiv5 *adi, GError **error)
{
  guint32 ctrl = 0;

  adi->select_valid = FALSE;
  adi->csw_valid = FALSE;
  if (!tb_dap_jtag_to_swd (adi->dap, error) || !dp_read (adi, TB_DP_IDCODE, &adi->idcode, error) ||
      !tb_dap_write_abort (adi->dap, 0x1e, error) ||
      !dp_write (adi, TB_DP_CTRL_STAT, TB_DP_CSYSPWRUPREQ | TB_DP_CDBGPWRUPREQ, error))
    return FALSE;
  for (guint i = 0; i < POWER_UP_TRIES; i++)
    {
      if (!dp_read (adi, TB_DP_CTRL_STAT, &ctrl, error))
        return FALSE;
      if ((ctrl & (TB_DP_CSYSPWRUPACK | TB_DP_CDBGPWRUPACK)) == (TB_DP_CSYSPWRUPACK | TB_DP_CDBGPWRUPACK))
        break;
      g_usleep (1000);
    }
  if ((ctrl & (TB_DP_CSYSPWRUPACK | TB_DP_CDBGPWRUPACK)) != (TB_DP_CSYSPWRUPACK | TB_DP_CDBGPWRUPACK))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("The target's debug domain did not power up (CTRL/STAT 0x%08x)"), ctrl);
      return FALSE;
    }
  if (!ap_read (adi, TB_AP_IDR, &adi->ap_idr, error))
    return FALSE;
  if (adi->ap_idr == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("The target has no access port 0 (IDR reads 0)"));
      return FALSE;
    }
  return TRUE;
}

/* Appends what sets CSW to @size (auto-increment) and TAR to @address. */
static void
add_csw_tar (TbAdiv5 *adi, guint32 size, guint32 address, TbDapTransfer *t, guint *n)
{
  guint32 csw = TB_CSW_DBGSWENABLE | TB_CSW_HPROT | TB_CSW_ADDRINC_SINGLE | size;

  add_select (adi, TB_AP_CSW, t, n);
  if (!adi->csw_valid || adi->csw != csw)
    {
      t[(*n)++] = (TbDapTransfer) { TB_DAP_AP | TB_DAP_A (TB_AP_CSW), csw };
      adi->csw = csw;
      adi->csw_valid = TRUE;
    }
  t[(*n)++] = (TbDapTransfer) { TB_DAP_AP | TB_DAP_A (TB_AP_TAR), address };
}

static gboolean
run (TbAdiv5 *adi, TbDapTransfer *t, guint n, GError **error)
{
  if (tb_dap_transfer (adi->dap, t, n, error))
    return TRUE;
  adi->select_valid = FALSE;
  adi->csw_valid = FALSE;
  return FALSE;
}

gboolean
tb_adiv5_read32 (TbAdiv5 *adi, guint32 address, guint32 *value, GError **error)
{
  TbDapTransfer t[5];
  guint n = 0;

  add_csw_tar (adi, TB_CSW_SIZE_32, address, t, &n);
  t[n++] = (TbDapTransfer) { TB_DAP_AP | TB_DAP_READ | TB_DAP_A (TB_AP_DRW), 0 };
  if (!run (adi, t, n, error))
    return FALSE;
  *value = t[n - 1].value;
  return TRUE;
}

gboolean
tb_adiv5_write32 (TbAdiv5 *adi, guint32 address, guint32 value, GError **error)
{
  TbDapTransfer t[5];
  guint n = 0;

  add_csw_tar (adi, TB_CSW_SIZE_32, address, t, &n);
  t[n++] = (TbDapTransfer) { TB_DAP_AP | TB_DAP_A (TB_AP_DRW), value };
  return run (adi, t, n, error);
}

/* One 8- or 16-bit access, on its byte lanes of DRW. */
static gboolean
narrow_access (TbAdiv5 *adi, guint32 size, guint32 address, guint32 *value, gboolean write, GError **error)
{
  TbDapTransfer t[5];
  guint n = 0;
  guint shift = 8 * (address & 3);
  guint32 mask = size == TB_CSW_SIZE_8 ? 0xffu : 0xffffu;

  add_csw_tar (adi, size, address, t, &n);
  t[n++] = (TbDapTransfer) { TB_DAP_AP | (write ? 0 : TB_DAP_READ) | TB_DAP_A (TB_AP_DRW),
                             write ? (*value & mask) << shift : 0 };
  if (!run (adi, t, n, error))
    return FALSE;
  if (!write)
    *value = (t[n - 1].value >> shift) & mask;
  return TRUE;
}

static gboolean
byte_access (TbAdiv5 *adi, guint32 address, guint8 *byte, gboolean write, GError **error)
{
  guint32 value = *byte;

  if (!narrow_access (adi, TB_CSW_SIZE_8, address, &value, write, error))
    return FALSE;
  *byte = (guint8) value;
  return TRUE;
}

/**
 * tb_adiv5_read16:
 * @address: 2-byte aligned
 */
gboolean
tb_adiv5_read16 (TbAdiv5 *adi, guint32 address, guint16 *value, GError **error)
{
  guint32 v = 0;

  g_return_val_if_fail ((address & 1) == 0, FALSE);
  if (!narrow_access (adi, TB_CSW_SIZE_16, address, &v, FALSE, error))
    return FALSE;
  *value = (guint16) v;
  return TRUE;
}

gboolean
tb_adiv5_write16 (TbAdiv5 *adi, guint32 address, guint16 value, GError **error)
{
  guint32 v = value;

  g_return_val_if_fail ((address & 1) == 0, FALSE);
  return narrow_access (adi, TB_CSW_SIZE_16, address, &v, TRUE, error);
}

typedef struct {
  TbDapTransfer *t;
  guint32 *words;
  gsize count;
} Straddle;

/* Words at an aligned @address, as one stream of packets (pipelined when
 * the transport allows). Each TAR window is filled with full
 * DAP_TransferBlock packets; the few words left at its end travel in one
 * DAP_Transfer together with the TAR write that opens the next window, so a
 * window costs no exchange more than its words need (the 1 KiB TAR wrap
 * costs nothing extra). */
static gboolean
words (TbAdiv5 *adi, guint32 address, guint32 *w, gsize count, gboolean write, GError **error)
{
  guint per_block = tb_dap_block_words (adi->dap, !write);
  guint8 drw = TB_DAP_AP | (write ? 0 : TB_DAP_READ) | TB_DAP_A (TB_AP_DRW);
  g_autoptr(GArray) packets = g_array_new (FALSE, TRUE, sizeof (TbDapPacket));
  g_autoptr(GArray) straddles = g_array_new (FALSE, TRUE, sizeof (Straddle));
  g_autoptr(GPtrArray) owned = g_ptr_array_new_with_free_func (g_free);
  TbDapTransfer *setup = g_new (TbDapTransfer, 4);
  TbDapPacket p = { 0 };
  guint n = 0;
  gboolean ok;

  g_ptr_array_add (owned, setup);
  add_csw_tar (adi, TB_CSW_SIZE_32, address, setup, &n);
  p = (TbDapPacket) { FALSE, 0, NULL, n, setup };
  g_array_append_val (packets, p);
  while (count > 0)
    {
      gsize window = (adi->tar_wrap - (address & (adi->tar_wrap - 1))) / 4;
      gsize chunk = MIN (window, count);
      gsize full = chunk / per_block * per_block;
      gsize rest = chunk - full;
      gboolean next;
      TbDapTransfer *t;

      for (gsize off = 0; off < full; off += per_block)
        {
          p = (TbDapPacket) { TRUE, drw, w + off, per_block, NULL };
          g_array_append_val (packets, p);
        }
      count -= chunk;
      address += (guint32) (chunk * 4);
      next = count > 0;
      if (rest > 0 || next)
        {
          /* the window's last words and the next window's TAR, in one packet */
          t = g_new (TbDapTransfer, rest + 1);
          g_ptr_array_add (owned, t);
          for (gsize i = 0; i < rest; i++)
            t[i] = (TbDapTransfer) { drw, write ? w[full + i] : 0 };
          if (next)
            t[rest] = (TbDapTransfer) { TB_DAP_AP | TB_DAP_A (TB_AP_TAR), address };
          if ((next || rest <= per_block / 2) && tb_dap_transfer_fits (adi->dap, t, (guint) rest + (next ? 1 : 0)))
            {
              Straddle st = { t, w + full, rest };
              p = (TbDapPacket) { FALSE, 0, NULL, (guint) rest + (next ? 1 : 0), t };
              g_array_append_val (packets, p);
              g_array_append_val (straddles, st);
            }
          else
            {
              if (rest > 0)
                {
                  p = (TbDapPacket) { TRUE, drw, w + full, (guint) rest, NULL };
                  g_array_append_val (packets, p);
                }
              if (next)
                {
                  p = (TbDapPacket) { FALSE, 0, NULL, 1, t + rest };
                  g_array_append_val (packets, p);
                }
            }
        }
      w += chunk;
    }
  ok = tb_dap_run_packets (adi->dap, (TbDapPacket *) packets->data, packets->len, error);
  if (!ok)
    {
      adi->csw_valid = FALSE;
      adi->select_valid = FALSE;
      return FALSE;
    }
  if (!write)
    for (guint i = 0; i < straddles->len; i++)
      {
        Straddle *st = &g_array_index (straddles, Straddle, i);
        for (gsize k = 0; k < st->count; k++)
          st->words[k] = st->t[k].value;
      }
  return TRUE;
}

static gboolean
memory (TbAdiv5 *adi, guint32 address, guint8 *buf, gsize len, gboolean write, GError **error)
{
  while (len > 0 && (address & 3) != 0)
    {
      if (!byte_access (adi, address, buf, write, error))
        return FALSE;
      address++, buf++, len--;
    }
  if (len >= 4)
    {
      gsize count = len / 4;
      g_autofree guint32 *w = g_new (guint32, count);

      if (write)
        for (gsize i = 0; i < count; i++)
          w[i] = (guint32) buf[4 * i] | (guint32) buf[4 * i + 1] << 8 | (guint32) buf[4 * i + 2] << 16 |
                 (guint32) buf[4 * i + 3] << 24;
      if (!words (adi, address, w, count, write, error))
        return FALSE;
      if (!write)
        for (gsize i = 0; i < count; i++)
          {
            buf[4 * i] = (guint8) w[i];
            buf[4 * i + 1] = (guint8) (w[i] >> 8);
            buf[4 * i + 2] = (guint8) (w[i] >> 16);
            buf[4 * i + 3] = (guint8) (w[i] >> 24);
          }
      address += (guint32) (count * 4);
      buf += count * 4;
      len -= count * 4;
    }
  while (len > 0)
    {
      if (!byte_access (adi, address, buf, write, error))
        return FALSE;
      address++, buf++, len--;
    }
  return TRUE;
}

gboolean
tb_adiv5_read_memory (TbAdiv5 *adi, guint32 address, guint8 *buf, gsize len, GError **error)
{
  return memory (adi, address, buf, len, FALSE, error);
}

gboolean
tb_adiv5_write_memory (TbAdiv5 *adi, guint32 address, const guint8 *data, gsize len, GError **error)
{
  return memory (adi, address, (guint8 *) data, len, TRUE, error);
}
