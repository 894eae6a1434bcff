/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The CMSIS-DAP protocol layer against a probe emulated in this file (its
 * command interpreter answers from a register file): packing of transfers
 * into packets, block transfers, and every kind of hostile answer — wrong
 * echo, short, oversized, garbled, none, WAIT forever, FAULT, counts that
 * do not add up, absurd packet sizes — each a clear GError. */

#include "config.h"

#include <string.h>

#include "tb-cmsis-dap.h"
#include "trustbench.h"

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

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/cmsis-dap/init", test_init);
  g_test_add_func ("/cmsis-dap/transfer-packing", test_transfer_packing);
  g_test_add_func ("/cmsis-dap/transfer-block", test_transfer_block);
  g_test_add_func ("/cmsis-dap/hostile", test_hostile);
  return g_test_run ();
}
