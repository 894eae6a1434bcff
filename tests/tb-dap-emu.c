/* SPDX-License-Identifier: GPL-3.0-or-later */

/* An emulated CMSIS-DAP probe wired to a virtual board: the probe's
 * command interpreter (DAP_Info, Connect, SWJ, TransferConfigure, Transfer,
 * TransferBlock, WriteABORT) executes SWD accesses on an emulated SW-DP and
 * AHB-AP whose memory accesses reach the board's memory map — the same
 * board the in-process virtual probe drives — including the Cortex-M debug
 * registers (DHCSR, DEMCR, AIRCR, CPUID). TAR auto-increment wraps inside
 * 1 KiB, as ADIv5 allows; a refused access (a locked board) answers FAULT
 * and sets STICKYERR until ABORT clears it. */

#include "config.h"

#include "tb-dap-emu.h"

#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-adiv5.h"
#include "tb-cortex-m.h"
#include "tb-virtual-board.h"

#define EMU_IDCODE 0x2ba01477u   /* ARM SW-DP */
#define EMU_AP_IDR 0x24770011u   /* AHB-AP */
#define EMU_CPUID 0x410fc241u    /* Cortex-M4 r0p1 */

struct _TbDapEmu {
  TbVirtualBoard *board;
  guint16 packet_size;
  guint8 packet_count;
  char *serial;
  gboolean connected;
  guint32 ctrl_stat;
  gboolean sticky;
  guint32 select;
  guint32 csw;
  guint32 tar;
  guint32 demcr;
  guint32 dcrsr;
  gboolean debugen;
  guint64 commands;
  GQueue answers;               /* GBytes: responses of commands sent ahead */
};

TbDapEmu *
tb_dap_emu_new (TbVirtualBoard *board, guint16 packet_size, guint8 packet_count, const char *serial)
{
  TbDapEmu *emu = g_new0 (TbDapEmu, 1);

  emu->board = g_object_ref (board);
  emu->packet_size = packet_size;
  emu->packet_count = packet_count;
  emu->serial = g_strdup (serial);
  emu->csw = TB_CSW_SIZE_32;
  g_queue_init (&emu->answers);
  return emu;
}

void
tb_dap_emu_free (TbDapEmu *emu)
{
  if (emu == NULL)
    return;
  g_object_unref (emu->board);
  g_free (emu->serial);
  g_queue_clear_full (&emu->answers, (GDestroyNotify) g_bytes_unref);
  g_free (emu);
}

guint64
tb_dap_emu_get_commands (TbDapEmu *emu)
{
  return emu->commands;
}

static void
put32 (guint8 *p, guint32 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) (v >> 16);
  p[3] = (guint8) (v >> 24);
}

static guint32
get32 (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

/* The Cortex-M system control space registers the host uses. */
static gboolean
scs_access (TbDapEmu *emu, guint32 address, guint32 *value, gboolean write)
{
  switch (address)
    {
    case TB_CM_CPUID:
      if (!write)
        *value = EMU_CPUID;
      return TRUE;
    case TB_CM_DHCSR:
      if (!write)
        {
          *value = (emu->debugen ? TB_CM_DHCSR_C_DEBUGEN : 0) | TB_CM_DHCSR_S_REGRDY |
                   (tb_virtual_board_is_halted (emu->board) ? TB_CM_DHCSR_S_HALT | TB_CM_DHCSR_C_HALT : 0);
          return TRUE;
        }
      if ((*value & 0xffff0000u) != TB_CM_DHCSR_DBGKEY)
        return TRUE; /* ignored without the key, as on silicon */
      emu->debugen = (*value & TB_CM_DHCSR_C_DEBUGEN) != 0;
      if (*value & TB_CM_DHCSR_C_HALT)
        return tb_virtual_board_halt (emu->board, NULL);
      tb_virtual_board_resume (emu->board);
      return TRUE;
    case TB_CM_DEMCR:
      if (write)
        emu->demcr = *value;
      else
        *value = emu->demcr;
      return TRUE;
    case TB_CM_AIRCR:
      if (!write)
        {
          *value = 0xfa050000u;
          return TRUE;
        }
      if ((*value & 0xffff0000u) == TB_CM_AIRCR_VECTKEY && (*value & TB_CM_AIRCR_SYSRESETREQ) != 0)
        {
          if (emu->demcr & TB_CM_DEMCR_VC_CORERESET)
            return tb_virtual_board_reset_halt (emu->board, NULL);
          tb_virtual_board_reset (emu->board);
        }
      return TRUE;
    case TB_CM_DCRSR:
      if (write)
        emu->dcrsr = *value;
      return TRUE;
    case TB_CM_DCRDR:
      if (!write)
        *value = (emu->dcrsr & 0x7f) == 15 ? TB_BOARD_FLASH_BASE + 0x8000u : 0;
      return TRUE;
    default:
      if (!write)
        *value = 0;
      return TRUE;
    }
}

/* One DRW access at TAR with CSW's size, then TAR's auto-increment. */
static gboolean
drw_access (TbDapEmu *emu, guint32 *value, gboolean write)
{
  guint size = 1u << (emu->csw & 7);
  guint32 address = emu->tar;
  guint lane = address & 3;
  gboolean ok;

  if (size > 4)
    return FALSE;
  if (address >= 0xe000e000u && address < 0xe000f000u)
    ok = scs_access (emu, address, value, write);
  else if (write)
    {
      guint8 bytes[4];
      put32 (bytes, *value);
      ok = tb_virtual_board_debug_write (emu->board, address, bytes + (size == 4 ? 0 : lane), size, NULL);
      /* the mailbox's command word rings the SBM */
      if (ok && address <= TB_BOARD_RAM_BASE + TB_MB_OFF_COMMAND &&
          TB_BOARD_RAM_BASE + TB_MB_OFF_COMMAND < address + size)
        tb_virtual_board_doorbell (emu->board);
    }
  else
    {
      guint8 bytes[4] = { 0 };
      ok = tb_virtual_board_debug_read (emu->board, address, bytes + (size == 4 ? 0 : lane), size, NULL);
      *value = get32 (bytes);
    }
  if ((emu->csw & TB_CSW_ADDRINC_SINGLE) != 0)
    emu->tar = (emu->tar & ~(TB_TAR_WRAP - 1)) | ((emu->tar + size) & (TB_TAR_WRAP - 1));
  return ok;
}

/* One SWD register access: the ACK. */
static guint8
swd_access (TbDapEmu *emu, guint8 request, guint32 *value)
{
  gboolean ap = (request & TB_DAP_AP) != 0, read = (request & TB_DAP_READ) != 0;
  guint8 a = request & 0x0c;

  if (!ap)
    {
      switch (a)
        {
        case TB_DP_IDCODE:
          if (read)
            *value = EMU_IDCODE;
          else if (*value & 0x1e) /* ABORT: clear the sticky flags */
            emu->sticky = FALSE;
          return TB_DAP_ACK_OK;
        case TB_DP_CTRL_STAT:
          if (read)
            *value = emu->ctrl_stat | (emu->sticky ? TB_DP_STICKYERR : 0) |
                     ((emu->ctrl_stat & TB_DP_CSYSPWRUPREQ) ? TB_DP_CSYSPWRUPACK : 0) |
                     ((emu->ctrl_stat & TB_DP_CDBGPWRUPREQ) ? TB_DP_CDBGPWRUPACK : 0);
          else
            emu->ctrl_stat = *value & (TB_DP_CSYSPWRUPREQ | TB_DP_CDBGPWRUPREQ);
          return TB_DAP_ACK_OK;
        case TB_DP_SELECT:
          if (!read)
            emu->select = *value;
          else
            *value = 0;
          return TB_DAP_ACK_OK;
        default: /* RDBUFF */
          if (read)
            *value = 0;
          return TB_DAP_ACK_OK;
        }
    }
  if (emu->sticky)
    return TB_DAP_ACK_FAULT;
  if ((emu->ctrl_stat & TB_DP_CDBGPWRUPREQ) == 0)
    return TB_DAP_ACK_FAULT; /* the debug domain is off */
  if ((emu->select >> 24) != 0)
    {
      if (read)
        *value = 0; /* no other AP */
      return TB_DAP_ACK_OK;
    }
  switch ((emu->select & 0xf0) | a)
    {
    case TB_AP_CSW:
      if (read)
        *value = emu->csw;
      else
        emu->csw = *value;
      return TB_DAP_ACK_OK;
    case TB_AP_TAR:
      if (read)
        *value = emu->tar;
      else
        emu->tar = *value;
      return TB_DAP_ACK_OK;
    case TB_AP_DRW:
      if (!drw_access (emu, value, !read))
        {
          emu->sticky = TRUE;
          return TB_DAP_ACK_FAULT;
        }
      return TB_DAP_ACK_OK;
    case TB_AP_IDR:
      if (read)
        *value = EMU_AP_IDR;
      return TB_DAP_ACK_OK;
    default:
      if (read)
        *value = 0;
      return TB_DAP_ACK_OK;
    }
}

static gsize
info (TbDapEmu *emu, guint8 id, guint8 *resp)
{
  const char *text = NULL;

  switch (id)
    {
    case TB_DAP_INFO_VENDOR: text = "Trustbench"; break;
    case TB_DAP_INFO_PRODUCT: text = "Emulated CMSIS-DAP"; break;
    case TB_DAP_INFO_SERIAL: text = emu->serial; break;
    case TB_DAP_INFO_PROTOCOL_VERSION: text = "2.1.0"; break;
    case TB_DAP_INFO_FIRMWARE_VERSION: text = "0.1.0-emu"; break;
    case TB_DAP_INFO_CAPABILITIES:
      resp[1] = 1;
      resp[2] = 0x01;
      return 3;
    case TB_DAP_INFO_PACKET_COUNT:
      resp[1] = 1;
      resp[2] = emu->packet_count;
      return 3;
    case TB_DAP_INFO_PACKET_SIZE:
      resp[1] = 2;
      resp[2] = (guint8) emu->packet_size;
      resp[3] = (guint8) (emu->packet_size >> 8);
      return 4;
    default:
      resp[1] = 0;
      return 2;
    }
  resp[1] = (guint8) (strlen (text) + 1);
  memcpy (resp + 2, text, strlen (text) + 1);
  return 2 + strlen (text) + 1;
}

/**
 * tb_dap_emu_command:
 *
 * Runs one command packet; returns the length of the response written to
 * @resp (at least the packet size of room).
 */
gsize
tb_dap_emu_command (TbDapEmu *emu, const guint8 *req, gsize len, guint8 *resp)
{
  gsize n = 1;

  emu->commands++;
  resp[0] = req[0];
  if (len < 1)
    return 0;
  switch (req[0])
    {
    case TB_DAP_CMD_INFO:
      return len >= 2 ? info (emu, req[1], resp) : 1;
    case TB_DAP_CMD_CONNECT:
      emu->connected = len >= 2 && (req[1] == 1 || req[1] == 0);
      resp[n++] = emu->connected ? 1 : 0;
      return n;
    case TB_DAP_CMD_DISCONNECT:
      emu->connected = FALSE;
      resp[n++] = 0;
      return n;
    case TB_DAP_CMD_WRITE_ABORT:
      if (len >= 6 && (get32 (req + 2) & 0x1e) != 0)
        emu->sticky = FALSE;
      resp[n++] = 0;
      return n;
    case TB_DAP_CMD_TRANSFER:
      {
        guint count = len >= 3 ? req[2] : 0, done = 0;
        gsize p = 3;
        guint8 ack = TB_DAP_ACK_OK;

        n = 3;
        for (; done < count && p < len; done++)
          {
            guint8 r = req[p++];
            guint32 value = 0;
            if (!(r & TB_DAP_READ))
              {
                if (p + 4 > len)
                  break;
                value = get32 (req + p);
                p += 4;
              }
            ack = swd_access (emu, r, &value);
            if (ack != TB_DAP_ACK_OK)
              break;
            if (r & TB_DAP_READ)
              {
                put32 (resp + n, value);
                n += 4;
              }
          }
        resp[1] = (guint8) done;
        resp[2] = ack;
        return n;
      }
    case TB_DAP_CMD_TRANSFER_BLOCK:
      {
        guint count = len >= 5 ? (guint) (req[2] | req[3] << 8) : 0, done = 0;
        guint8 r = len >= 5 ? req[4] : 0;
        guint8 ack = TB_DAP_ACK_OK;

        n = 4;
        for (; done < count; done++)
          {
            guint32 value = 0;
            if (!(r & TB_DAP_READ))
              {
                if (5 + 4 * (gsize) done + 4 > len)
                  break;
                value = get32 (req + 5 + 4 * done);
              }
            ack = swd_access (emu, r, &value);
            if (ack != TB_DAP_ACK_OK)
              break;
            if (r & TB_DAP_READ)
              {
                put32 (resp + n, value);
                n += 4;
              }
          }
        resp[1] = (guint8) done;
        resp[2] = (guint8) (done >> 8);
        resp[3] = ack;
        return n;
      }
    case TB_DAP_CMD_SWJ_CLOCK:
    case TB_DAP_CMD_SWJ_SEQUENCE:
    case TB_DAP_CMD_TRANSFER_CONFIGURE:
      resp[n++] = 0;
      return n;
    default:
      resp[0] = 0xff; /* not implemented */
      return 1;
    }
}

/**
 * tb_dap_emu_exchange:
 *
 * A #TbDapExchangeFunc: the emulator as an in-process transport.
 */
gboolean
tb_dap_emu_exchange (gpointer data, const guint8 *request, gsize request_len, guint8 *response, gsize cap,
                     gsize *response_len, guint timeout_ms, GError **error)
{
  TbDapEmu *emu = data;
  g_autofree guint8 *buf = g_malloc0 (MAX (emu->packet_size, 64) + 8);
  gsize n = tb_dap_emu_command (emu, request, request_len, buf);

  memcpy (response, buf, MIN (n, cap));
  *response_len = n;
  return TRUE;
}

/**
 * tb_dap_emu_send:
 *
 * A #TbDapSendFunc: the probe runs the command and keeps its response
 * until tb_dap_emu_receive() collects it (in order).
 */
gboolean
tb_dap_emu_send (gpointer data, const guint8 *request, gsize request_len, guint timeout_ms, GError **error)
{
  TbDapEmu *emu = data;
  g_autofree guint8 *buf = g_malloc0 (MAX (emu->packet_size, 64) + 8);
  gsize n;

  if (g_queue_get_length (&emu->answers) >= emu->packet_count)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, "the emulated probe's %u command buffers are full",
                   emu->packet_count);
      return FALSE;
    }
  n = tb_dap_emu_command (emu, request, request_len, buf);
  g_queue_push_tail (&emu->answers, g_bytes_new (buf, n));
  return TRUE;
}

gboolean
tb_dap_emu_receive (gpointer data, guint8 *response, gsize cap, gsize *response_len, guint timeout_ms,
                    GError **error)
{
  TbDapEmu *emu = data;
  g_autoptr(GBytes) answer = g_queue_pop_head (&emu->answers);
  gsize n;
  const guint8 *p;

  if (answer == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, "no answer within %u ms", timeout_ms);
      return FALSE;
    }
  p = g_bytes_get_data (answer, &n);
  memcpy (response, p, MIN (n, cap));
  *response_len = n;
  return TRUE;
}
