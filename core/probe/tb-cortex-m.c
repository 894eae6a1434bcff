/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Cortex-M run control through its system control space debug registers
 * (DHCSR, DEMCR, AIRCR, DCRSR/DCRDR), over any ADIv5 MEM-AP. */

#include "config.h"

#include "tb-cortex-m.h"

#include <glib/gi18n-lib.h>

#include "tb-error.h"

#define POLL_TRIES 200

/* Waits until DHCSR has all of @bits set. */
static gboolean
wait_dhcsr (TbAdiv5 *adi, guint32 bits, const char *what, GError **error)
{
  guint32 dhcsr = 0;

  for (guint i = 0; i < POLL_TRIES; i++)
    {
      if (!tb_adiv5_read32 (adi, TB_CM_DHCSR, &dhcsr, error))
        return FALSE;
      if ((dhcsr & bits) == bits)
        return TRUE;
      g_usleep (500);
    }
  g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The core did not %s (DHCSR 0x%08x)"), what, dhcsr);
  return FALSE;
}

gboolean
tb_cortex_m_halt (TbAdiv5 *adi, GError **error)
{
  return tb_adiv5_write32 (adi, TB_CM_DHCSR, TB_CM_DHCSR_DBGKEY | TB_CM_DHCSR_C_HALT | TB_CM_DHCSR_C_DEBUGEN,
                           error) &&
         wait_dhcsr (adi, TB_CM_DHCSR_S_HALT, _("halt"), error);
}

gboolean
tb_cortex_m_resume (TbAdiv5 *adi, GError **error)
{
  return tb_adiv5_write32 (adi, TB_CM_DHCSR, TB_CM_DHCSR_DBGKEY | TB_CM_DHCSR_C_DEBUGEN, error);
}

gboolean
tb_cortex_m_is_halted (TbAdiv5 *adi, gboolean *halted, GError **error)
{
  guint32 dhcsr = 0;

  if (!tb_adiv5_read32 (adi, TB_CM_DHCSR, &dhcsr, error))
    return FALSE;
  *halted = (dhcsr & TB_CM_DHCSR_S_HALT) != 0;
  return TRUE;
}

/**
 * tb_cortex_m_reset:
 * @halt: stop the core on its first instruction (reset vector catch)
 *
 * A system reset through AIRCR.SYSRESETREQ.
 */
gboolean
tb_cortex_m_reset (TbAdiv5 *adi, gboolean halt, GError **error)
{
  guint32 demcr = 0;

  if (!tb_adiv5_read32 (adi, TB_CM_DEMCR, &demcr, error))
    return FALSE;
  if (halt &&
      (!tb_adiv5_write32 (adi, TB_CM_DHCSR, TB_CM_DHCSR_DBGKEY | TB_CM_DHCSR_C_DEBUGEN, error) ||
       !tb_adiv5_write32 (adi, TB_CM_DEMCR, demcr | TB_CM_DEMCR_VC_CORERESET, error)))
    return FALSE;
  if (!tb_adiv5_write32 (adi, TB_CM_AIRCR, TB_CM_AIRCR_VECTKEY | TB_CM_AIRCR_SYSRESETREQ, error))
    return FALSE;
  if (halt && !wait_dhcsr (adi, TB_CM_DHCSR_S_HALT, _("halt after the reset"), error))
    return FALSE;
  return tb_adiv5_write32 (adi, TB_CM_DEMCR, demcr & ~TB_CM_DEMCR_VC_CORERESET, error);
}

/**
 * tb_cortex_m_read_register:
 * @regsel: DCRSR.REGSEL (0–12 r0–r12, 13 sp, 14 lr, 15 pc, 16 xPSR)
 *
 * Reads a core register of the halted core.
 */
gboolean
tb_cortex_m_read_register (TbAdiv5 *adi, guint regsel, guint32 *value, GError **error)
{
  return tb_adiv5_write32 (adi, TB_CM_DCRSR, regsel & 0x7f, error) &&
         wait_dhcsr (adi, TB_CM_DHCSR_S_REGRDY, _("make the register ready"), error) &&
         tb_adiv5_read32 (adi, TB_CM_DCRDR, value, error);
}

const char *
tb_cortex_m_core_name (guint32 cpuid)
{
  if ((cpuid >> 24) != 0x41)
    return "unknown";
  switch ((cpuid >> 4) & 0xfff)
    {
    case 0xc20: return "Cortex-M0";
    case 0xc60: return "Cortex-M0+";
    case 0xc21: return "Cortex-M1";
    case 0xc23: return "Cortex-M3";
    case 0xc24: return "Cortex-M4";
    case 0xc27: return "Cortex-M7";
    case 0xd20: return "Cortex-M23";
    case 0xd21: return "Cortex-M33";
    case 0xd22: return "Cortex-M55";
    default: return "Cortex-M";
    }
}
