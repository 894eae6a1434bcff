/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The CMSIS-DAP protocol layer against a probe emulated in this file (its
 * command interpreter answers from a register file): packing of transfers
 * into packets, block transfers, and every kind of hostile answer — wrong
 * echo, short, oversized, garbled, none, WAIT forever, FAULT, counts that
 * do not add up, absurd packet sizes — each a clear GError. */

#include "config.h"

#include <string.h>

#include "tb-cmsis-dap.h"
#include "tb-dap-emu.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

typedef enum {
  BEHAVE_WELL,
  BEHAVE_WRONG_ECHO,
  BEHAVE_SHORT,
  BEHAVE_OVERSIZED,
  BEHAVE_SILENT,
  BEHAVE_WAIT,
  BEHAVE_FAULT,
  BEHAVE_OVERCOUNT,
  BEHAVE_EXTRA_BYTES,
  BEHAVE_NO_ACK,
} Behaviour;

typedef struct {
  guint16 packet_size;
  guint8 packet_count;
  guint8 caps;
  Behaviour behaviour;
  guint32 dp[4];
  guint32 ap[4];
  guint32 fifo[4096];
  guint fifo_len;
  guint fifo_pos;
  guint aborts;
  guint max_request;
  GQueue answers;               /* pipelined: GBytes waiting to be received */
} Probe;

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

/* The probe's firmware: answers one command. */
static gsize
interpret (Probe *probe, const guint8 *req, gsize len, guint8 *resp)
{
  gsize n = 0;

  resp[n++] = req[0];
  switch (req[0])
    {
    case TB_DAP_CMD_INFO:
      switch (req[1])
        {
        case TB_DAP_INFO_PACKET_SIZE:
          resp[n++] = 2;
          resp[n++] = (guint8) probe->packet_size;
          resp[n++] = (guint8) (probe->packet_size >> 8);
          break;
        case TB_DAP_INFO_PACKET_COUNT:
          resp[n++] = 1;
          resp[n++] = probe->packet_count;
          break;
        case TB_DAP_INFO_CAPABILITIES:
          resp[n++] = 1;
          resp[n++] = probe->caps;
          break;
        case TB_DAP_INFO_SERIAL:
          resp[n++] = 9;
          memcpy (resp + n, "TB000042", 9);
          n += 9;
          break;
        default:
          resp[n++] = 0;
        }
      break;
    case TB_DAP_CMD_CONNECT:
      resp[n++] = 1;
      break;
    case TB_DAP_CMD_WRITE_ABORT:
      probe->aborts++;
      resp[n++] = 0;
      break;
    case TB_DAP_CMD_TRANSFER:
      {
        guint count = req[2], done = 0;
        gsize p = 3;
        guint8 *status = resp + 2;
        n = 3;
        for (; done < count; done++)
          {
            guint8 r = req[p++];
            guint32 *regs = (r & TB_DAP_AP) ? probe->ap : probe->dp;
            if (r & TB_DAP_READ)
              {
                put32 (resp + n, regs[(r >> 2) & 3]);
                n += 4;
              }
            else
              {
                regs[(r >> 2) & 3] = get32 (req + p);
                p += 4;
              }
          }
        resp[1] = (guint8) done;
        *status = TB_DAP_ACK_OK;
      }
      break;
    case TB_DAP_CMD_TRANSFER_BLOCK:
      {
        guint count = req[2] | req[3] << 8;
        guint8 r = req[4];
        n = 4;
        for (guint i = 0; i < count; i++)
          {
            if (r & TB_DAP_READ)
              {
                put32 (resp + n, probe->fifo_pos < probe->fifo_len ? probe->fifo[probe->fifo_pos++] : 0);
                n += 4;
              }
            else if (probe->fifo_len < G_N_ELEMENTS (probe->fifo))
              probe->fifo[probe->fifo_len++] = get32 (req + 5 + 4 * i);
          }
        resp[1] = (guint8) count;
        resp[2] = (guint8) (count >> 8);
        resp[3] = TB_DAP_ACK_OK;
      }
      break;
    default:
      resp[n++] = 0; /* DAP_OK */
    }
  return n;
}

static gboolean
exchange (gpointer data, const guint8 *req, gsize len, guint8 *resp, gsize cap, gsize *resp_len, guint timeout_ms,
          GError **error)
{
  Probe *probe = data;
  guint8 buf[20000];
  gsize n;
  gboolean transfer = req[0] == TB_DAP_CMD_TRANSFER || req[0] == TB_DAP_CMD_TRANSFER_BLOCK;

  g_assert_cmpuint (len, <=, probe->packet_size >= 64 ? probe->packet_size : 64);
  probe->max_request = MAX (probe->max_request, (guint) len);
  if (probe->behaviour == BEHAVE_SILENT)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, "no answer within %u ms", timeout_ms);
      return FALSE;
    }
  n = interpret (probe, req, len, buf);
  switch (probe->behaviour)
    {
    case BEHAVE_WRONG_ECHO:
      buf[0] ^= 0x40;
      break;
    case BEHAVE_SHORT:
      n = 1;
      break;
    case BEHAVE_OVERSIZED:
      if (transfer)
        n = cap + 16; /* a transport that claims more than fits */
      break;
    case BEHAVE_WAIT:
    case BEHAVE_FAULT:
    case BEHAVE_NO_ACK:
      if (req[0] == TB_DAP_CMD_TRANSFER)
        {
          buf[1] = 0;
          buf[2] = probe->behaviour == BEHAVE_WAIT ? TB_DAP_ACK_WAIT
                   : probe->behaviour == BEHAVE_FAULT ? TB_DAP_ACK_FAULT : TB_DAP_ACK_NONE;
          n = 3;
        }
      break;
    case BEHAVE_OVERCOUNT:
      if (req[0] == TB_DAP_CMD_TRANSFER)
        buf[1] = (guint8) (req[2] + 1);
      break;
    case BEHAVE_EXTRA_BYTES:
      if (transfer)
        {
          memset (buf + n, 0xaa, 8);
          n += 8;
        }
      break;
    default:
      break;
    }
  memcpy (resp, buf, MIN (n, cap));
  *resp_len = n;
  return TRUE;
}

/* Pipelined transport over the same (mis)behaving probe. */
static gboolean
probe_send (gpointer data, const guint8 *req, gsize len, guint timeout_ms, GError **error)
{
  Probe *probe = data;
  guint8 buf[20000];
  gsize n = 0;

  if (!exchange (data, req, len, buf, sizeof buf, &n, timeout_ms, error))
    return FALSE;
  g_queue_push_tail (&probe->answers, g_bytes_new (buf, n));
  return TRUE;
}

static gboolean
probe_receive (gpointer data, guint8 *resp, gsize cap, gsize *len, guint timeout_ms, GError **error)
{
  Probe *probe = data;
  g_autoptr(GBytes) answer = g_queue_pop_head (&probe->answers);
  gsize n = 0;
  const guint8 *p;

  if (answer == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, "no answer within %u ms", timeout_ms);
      return FALSE;
    }
  p = g_bytes_get_data (answer, &n);
  memcpy (resp, p, MIN (n, cap));
  *len = n;
  return TRUE;
}

static Probe *
probe_new (guint16 packet_size)
{
  Probe *p = g_new0 (Probe, 1);

  p->packet_size = packet_size;
  p->packet_count = 4;
  p->caps = 0x01;
  return p;
}

static void
test_init (void)
{
  g_autofree Probe *probe = probe_new (64);
  g_autoptr(TbDap) dap = tb_dap_new (exchange, probe);
  g_autoptr(GError) error = NULL;
  g_autofree char *serial = NULL;

  g_assert_true (tb_dap_init (dap, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tb_dap_get_packet_size (dap), ==, 64);
  g_assert_cmpuint (tb_dap_get_packet_count (dap), ==, 4);
  serial = tb_dap_info_string (dap, TB_DAP_INFO_SERIAL, &error);
  g_assert_cmpstr (serial, ==, "TB000042");
  g_assert_true (tb_dap_connect_swd (dap, &error));
  g_assert_true (tb_dap_swj_clock (dap, 4000000, &error));
  g_assert_true (tb_dap_jtag_to_swd (dap, &error));
  g_assert_true (tb_dap_transfer_configure (dap, 0, 64, 0, &error));
  g_assert_no_error (error);

  /* absurd packet sizes, no packet count, no SWD */
  {
    const struct { guint16 size; guint8 count; guint8 caps; } bad[] = {
      { 0, 4, 1 }, { 65535, 4, 1 }, { 32, 4, 1 }, { 64, 0, 1 }, { 64, 4, 2 },
    };
    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree Probe *b = probe_new (bad[i].size);
        g_autoptr(TbDap) d = tb_dap_new (exchange, b);
        g_autoptr(GError) e = NULL;
        b->packet_count = bad[i].count;
        b->caps = bad[i].caps;
        g_assert_false (tb_dap_init (d, &e));
        g_assert_error (e, TB_ERROR, TB_ERROR_UNSUPPORTED);
      }
  }
}

/* Transfers pack into packets no larger than the packet size. */
static void
test_transfer_packing (void)
{
  g_autofree Probe *probe = probe_new (64);
  g_autoptr(TbDap) dap = tb_dap_new (exchange, probe);
  g_autoptr(GError) error = NULL;
  TbDapTransfer t[40];
  guint64 before;

  g_assert_true (tb_dap_init (dap, &error));
  for (guint i = 0; i < G_N_ELEMENTS (t); i++)
    {
      t[i].request = TB_DAP_AP | TB_DAP_A ((i % 4) * 4);
      t[i].value = 0x1000 + i;
    }
  before = tb_dap_get_exchanges (dap);
  g_assert_true (tb_dap_transfer (dap, t, G_N_ELEMENTS (t), &error));
  g_assert_no_error (error);
  /* 5 bytes per write, 3-byte header: 12 per 64-byte packet */
  g_assert_cmpuint (tb_dap_get_exchanges (dap) - before, ==, 4);
  g_assert_cmpuint (probe->max_request, <=, 64);
  g_assert_cmpuint (probe->ap[3], ==, 0x1000 + 39);
  for (guint i = 0; i < 4; i++)
    {
      t[i].request = TB_DAP_AP | TB_DAP_READ | TB_DAP_A (i * 4);
      t[i].value = 0;
    }
  g_assert_true (tb_dap_transfer (dap, t, 4, &error));
  for (guint i = 0; i < 4; i++)
    g_assert_cmpuint (t[i].value, ==, 0x1000 + 36 + i);
}

/* A 64-byte block transfer carries 14 words written or 15 read. */
static void
test_transfer_block (void)
{
  const guint16 sizes[] = { 64, 512 };

  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      g_autofree Probe *probe = probe_new (sizes[s]);
      g_autoptr(TbDap) dap = tb_dap_new (exchange, probe);
      g_autoptr(GError) error = NULL;
      guint32 out[256], in[256];
      guint64 before;
      guint write_per = (sizes[s] - 5) / 4, read_per = (sizes[s] - 4) / 4;

      g_assert_true (tb_dap_init (dap, &error));
      for (guint i = 0; i < G_N_ELEMENTS (out); i++)
        out[i] = g_random_int ();
      before = tb_dap_get_exchanges (dap);
      g_assert_true (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_A (0x0c), out, 256, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (tb_dap_get_exchanges (dap) - before, ==, (256 + write_per - 1) / write_per);
      before = tb_dap_get_exchanges (dap);
      g_assert_true (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0x0c), in, 256, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (tb_dap_get_exchanges (dap) - before, ==, (256 + read_per - 1) / read_per);
      g_assert_cmpmem (in, sizeof in, out, sizeof out);
      g_assert_cmpuint (probe->max_request, <=, sizes[s]);
    }
}

/* Every hostile answer is a clear error, and a WAIT or FAULT clears the
 * debug port's sticky flags for the next access. */
static void
test_hostile (void)
{
  const struct {
    Behaviour behaviour;
    int code;
    gboolean aborts;
  } cases[] = {
    { BEHAVE_WRONG_ECHO, TB_ERROR_INVALID_DATA, FALSE },
    { BEHAVE_SHORT, TB_ERROR_INVALID_DATA, FALSE },
    { BEHAVE_OVERSIZED, TB_ERROR_INVALID_DATA, FALSE },
    { BEHAVE_SILENT, TB_ERROR_FAILED, FALSE },
    { BEHAVE_WAIT, TB_ERROR_BUSY, TRUE },
    { BEHAVE_FAULT, TB_ERROR_FAILED, TRUE },
    { BEHAVE_NO_ACK, TB_ERROR_NOT_FOUND, FALSE },
    { BEHAVE_OVERCOUNT, TB_ERROR_INVALID_DATA, FALSE },
    { BEHAVE_EXTRA_BYTES, TB_ERROR_INVALID_DATA, FALSE },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree Probe *probe = probe_new (64);
      g_autoptr(TbDap) dap = tb_dap_new (exchange, probe);
      g_autoptr(GError) error = NULL;
      TbDapTransfer t[2] = { { TB_DAP_READ | TB_DAP_A (0), 0 }, { TB_DAP_AP | TB_DAP_A (4), 7 } };
      guint32 words[20] = { 0 };

      g_assert_true (tb_dap_init (dap, &error));
      probe->behaviour = cases[i].behaviour;
      g_assert_false (tb_dap_transfer (dap, t, 2, &error));
      if (!g_error_matches (error, TB_ERROR, cases[i].code))
        g_error ("case %u: %s", i, error->message);
      g_assert_cmpuint (probe->aborts > 0, ==, cases[i].aborts);
      g_clear_error (&error);
      if (cases[i].behaviour != BEHAVE_WAIT && cases[i].behaviour != BEHAVE_FAULT &&
          cases[i].behaviour != BEHAVE_NO_ACK && cases[i].behaviour != BEHAVE_OVERCOUNT)
        {
          g_assert_false (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0x0c), words, 20, &error));
          g_assert_nonnull (error);
        }
    }
}

/* Pipelined block transfers: all of the packet count in flight, and a bad
 * answer in the middle is an error with the rest of the stream drained. */
static void
test_pipelined (void)
{
  g_autofree Probe *probe = probe_new (64);
  g_autoptr(TbDap) dap = tb_dap_new (exchange, probe);
  g_autoptr(GError) error = NULL;
  guint32 out[300], in[300];

  g_queue_init (&probe->answers);
  g_assert_true (tb_dap_init (dap, &error));
  tb_dap_set_pipeline (dap, probe_send, probe_receive);
  for (guint i = 0; i < G_N_ELEMENTS (out); i++)
    out[i] = i * 2654435761u;
  g_assert_true (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_A (0x0c), out, 300, &error));
  g_assert_true (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0x0c), in, 300, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (in, sizeof in, out, sizeof out);
  g_assert_cmpuint (tb_dap_get_max_in_flight (dap), ==, 4);

  probe->behaviour = BEHAVE_EXTRA_BYTES;
  g_assert_false (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0x0c), in, 300, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_true (g_queue_is_empty (&probe->answers)); /* drained */
  g_clear_error (&error);
  probe->behaviour = BEHAVE_SILENT;
  g_assert_false (tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0x0c), in, 300, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_queue_clear_full (&probe->answers, (GDestroyNotify) g_bytes_unref);
}

/* ---- the CMSIS-DAP probe on the emulated probe wired to a virtual board ---- */

static TbProbe *
open_dap_probe (const char *board_dir, guint16 packet_size, TbVirtualBoard **board_out, GError **error)
{
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (board_dir, error);
  TbDapEmu *emu;

  if (board == NULL)
    return NULL;
  tb_virtual_board_reset (board); /* powered up, as the virtual probe does */
  emu = tb_dap_emu_new (board, packet_size, 4, "EMU0001");
  if (board_out != NULL)
    *board_out = g_object_ref (board);
  {
    TbProbe *probe = tb_cmsis_dap_probe_new_for_transport (tb_dap_emu_exchange, emu, (GDestroyNotify) tb_dap_emu_free,
                                                           "cmsis-dap:EMU0001", error);
    /* block transfers pipelined, as over USB */
    if (probe != NULL)
      tb_dap_set_pipeline (tb_cmsis_dap_probe_get_dap (TB_CMSIS_DAP_PROBE (probe)), tb_dap_emu_send,
                           tb_dap_emu_receive);
    return probe;
  }
}

static void
test_probe_memory (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *dir = g_build_filename (tmp, "board", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) created = tb_virtual_board_create (dir, NULL, 256 * 1024, 1024, "c0ffee01", &error);
  g_autoptr(TbVirtualBoard) board = NULL;
  g_autoptr(TbProbe) probe = NULL;
  TbCmsisDapProbe *dap;
  guint8 out[3000], in[3000], direct[3000];
  const guint32 base = TB_BOARD_RAM_BASE + 0x2000 + 1021; /* unaligned, crossing 1 KiB boundaries */

  g_assert_no_error (error);
  g_clear_object (&created); /* one user at a time: the probe opens it */
  probe = open_dap_probe (dir, 64, &board, &error);
  g_assert_no_error (error);
  g_assert_nonnull (probe);
  dap = TB_CMSIS_DAP_PROBE (probe);
  g_assert_cmpstr (tb_probe_get_kind (probe), ==, "cmsis-dap");
  g_assert_cmpstr (tb_probe_get_serial (probe), ==, "EMU0001");
  g_assert_cmpstr (tb_cmsis_dap_probe_get_firmware (dap), ==, "0.1.0-emu");
  g_assert_cmphex (tb_cmsis_dap_probe_get_idcode (dap), ==, 0x2ba01477);
  g_assert_cmphex (tb_cmsis_dap_probe_get_ap_idr (dap), ==, 0x24770011);
  g_assert_cmpstr (tb_cortex_m_core_name (tb_cmsis_dap_probe_get_cpuid (dap)), ==, "Cortex-M4");

  for (guint i = 0; i < sizeof out; i++)
    out[i] = (guint8) (i * 7 + 3);
  g_assert_true (tb_probe_write_memory (probe, base, out, sizeof out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tb_virtual_board_debug_read (board, base, direct, sizeof direct, &error));
  g_assert_cmpmem (direct, sizeof direct, out, sizeof out);
  g_assert_true (tb_probe_read_memory (probe, base, in, sizeof in, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (in, sizeof in, out, sizeof out);

  /* 16-bit accesses on their lanes, and 32-bit ones */
  {
    TbAdiv5 *adi = tb_cmsis_dap_probe_get_adiv5 (dap);
    guint16 h = 0;
    guint32 w = 0, pc = 0;
    guint8 two[4];
    g_assert_true (tb_adiv5_write16 (adi, TB_BOARD_RAM_BASE + 0x102, 0xbeef, &error));
    g_assert_true (tb_adiv5_write16 (adi, TB_BOARD_RAM_BASE + 0x100, 0x1234, &error));
    g_assert_true (tb_virtual_board_debug_read (board, TB_BOARD_RAM_BASE + 0x100, two, 4, &error));
    g_assert_cmphex (two[0] | two[1] << 8 | two[2] << 16 | (guint32) two[3] << 24, ==, 0xbeef1234);
    g_assert_true (tb_adiv5_read16 (adi, TB_BOARD_RAM_BASE + 0x102, &h, &error));
    g_assert_cmphex (h, ==, 0xbeef);
    g_assert_true (tb_adiv5_read32 (adi, TB_BOARD_RAM_BASE + 0x100, &w, &error));
    g_assert_cmphex (w, ==, 0xbeef1234);
    /* a core register of the halted core */
    g_assert_true (tb_probe_halt (probe, &error));
    g_assert_true (tb_cortex_m_read_register (adi, 15, &pc, &error));
    g_assert_no_error (error);
    g_assert_cmphex (pc, ==, TB_BOARD_FLASH_BASE + 0x8000);
    g_assert_true (tb_probe_resume (probe, &error));
  }

  /* run control */
  g_assert_true (tb_probe_halt (probe, &error));
  g_assert_true (tb_virtual_board_is_halted (board));
  g_assert_true (tb_probe_resume (probe, &error));
  g_assert_false (tb_virtual_board_is_halted (board));
  g_assert_true (tb_probe_reset (probe, TRUE, &error));
  g_assert_true (tb_virtual_board_is_halted (board));
  g_assert_true (tb_probe_reset (probe, FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (tb_virtual_board_is_halted (board));
  tb_test_rm_rf (tmp);
}

/* The same board provisioned and programmed through the emulated CMSIS-DAP
 * probe and through the in-process virtual probe ends up the same: flash
 * byte for byte (SBM, signature table, application), lifecycle and boot. */
static void
test_provision_same_as_virtual (void)
{
  g_autofree char *tmp = tb_test_make_tmpdir ();
  g_autofree char *ctx_dir = g_build_filename (tmp, "ctx", NULL);
  g_autofree char *a = g_build_filename (tmp, "a", NULL);
  g_autofree char *b = g_build_filename (tmp, "b", NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *upk = g_build_filename (tmp, "app.tbupk", NULL);
  g_autofree char *image = g_build_filename (tmp, "app.tbimg", NULL);
  g_autoptr(GError) error = NULL;
  const char *products[] = { "widget", NULL };
  g_autoptr(TbContext) ctx = tb_context_create (ctx_dir, "DAP OEM", &error);
  TbProvisionOptions options = { NULL, upk, image, FALSE };

  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (ctx, products, NULL, "dap passphrase", NULL, &error));
  {
    guint8 data[12000];
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) u = NULL;
    TbMasterOptions mo = { "widget", NULL, NULL, "1.0.0", 1, 0 };
    for (gsize i = 0; i < sizeof data; i++)
      data[i] = (guint8) (i * 13);
    g_assert_true (g_file_set_contents (bin, (const char *) data, sizeof data, NULL));
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error);
    u = tb_master_image (ctx, fw, &mo, "dap passphrase", image, upk, NULL, &error);
    g_assert_no_error (error);
  }
  {
    g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (a, NULL, 256 * 1024, 1024, "0dab0a4d", &error);
    g_assert_no_error (error);
    g_assert_nonnull (board);
  }
  tb_test_copy_dir (a, b);

  for (guint which = 0; which < 2; which++)
    {
      g_autoptr(TbProbe) probe = NULL;
      TbProvisionResult result = { 0 };
      g_autofree char *uri = g_strconcat ("virtual:", a, NULL);

      if (which == 0)
        probe = tb_probe_open (uri, &error);
      else
        probe = open_dap_probe (b, 64, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (tb_provision_device (ctx, probe, &options, "dap passphrase", &result, NULL, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (result.lifecycle, ==, "locked");
      g_assert_cmpstr (result.app_version, ==, "1.0.0");
      tb_provision_result_clear (&result);
    }
  tb_test_assert_same_flash (a, b);
  /* both boot the image; a locked board refuses raw reads through the DAP
   * probe (FAULT) but still answers through its mailbox */
  {
    g_autoptr(TbProbe) probe = open_dap_probe (b, 64, NULL, &error);
    g_autoptr(TbTarget) target = NULL;
    g_autoptr(TbAttestation) att = NULL;
    guint8 buf[16];

    g_assert_no_error (error);
    target = tb_target_new (probe);
    g_assert_true (tb_probe_reset (probe, FALSE, &error));
    att = tb_target_attest (target, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (att->boot, ==, 0);
    g_assert_cmpstr (att->app_version, ==, "1.0.0");
    g_assert_false (tb_probe_read_memory (probe, TB_BOARD_FLASH_BASE + 0x8000, buf, sizeof buf, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
    g_assert_nonnull (strstr (error->message, "FAULT"));
    g_clear_error (&error);
    /* the sticky FAULT was cleared: the mailbox answers again */
    g_clear_pointer (&att, tb_attestation_free);
    att = tb_target_attest (target, &error);
    g_assert_no_error (error);
  }
  tb_test_rm_rf (tmp);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cmsis-dap/init", test_init);
  g_test_add_func ("/cmsis-dap/transfer-packing", test_transfer_packing);
  g_test_add_func ("/cmsis-dap/transfer-block", test_transfer_block);
  g_test_add_func ("/cmsis-dap/hostile", test_hostile);
  g_test_add_func ("/cmsis-dap/pipelined", test_pipelined);
  g_test_add_func ("/cmsis-dap/probe-memory", test_probe_memory);
  g_test_add_func ("/cmsis-dap/provision-same-as-virtual", test_provision_same_as_virtual);
  return g_test_run ();
}
