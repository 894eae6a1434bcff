/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the CMSIS-DAP response checks: the probe's answers come
 * from the input (each one a length byte then that many bytes), fed to
 * init, info, connect, register transfers and block transfers. Nothing may
 * crash, hang or read past a buffer; any error is fine.
 *
 * Built with -Dfuzzing=true (clang) it is a libFuzzer target; built
 * normally its main() replays the files given (tests/data/fuzz-dap/). */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "trustbench.h"
#include "tb-fuzz.h"

typedef struct {
  const guint8 *data;
  gsize left;
} Feed;

static gboolean
feed_exchange (gpointer user, const guint8 *req, gsize len, guint8 *resp, gsize cap, gsize *resp_len,
               guint timeout_ms, GError **error)
{
  Feed *f = user;
  gsize n;

  if (f->left == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, "no answer");
      return FALSE;
    }
  n = f->data[0];
  f->data++;
  f->left--;
  n = MIN (n, f->left);
  memcpy (resp, f->data, MIN (n, cap));
  *resp_len = n;
  f->data += n;
  f->left -= n;
  return TRUE;
}

void
tb_fuzz_setup (void)
{
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  Feed feed = { data, size };
  g_autoptr(TbDap) dap = tb_dap_new (feed_exchange, &feed);
  TbDapTransfer t[3] = { { TB_DAP_READ, 0 }, { TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0xc), 0 }, { TB_DAP_A (8), 1 } };
  guint32 words[40] = { 0 };
  g_autofree char *serial = NULL;

  if (!tb_dap_init (dap, NULL))
    return 0;
  serial = tb_dap_info_string (dap, TB_DAP_INFO_SERIAL, NULL);
  tb_dap_connect_swd (dap, NULL);
  tb_dap_transfer (dap, t, G_N_ELEMENTS (t), NULL);
  tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_READ | TB_DAP_A (0xc), words, 30, NULL);
  tb_dap_transfer_block (dap, TB_DAP_AP | TB_DAP_A (0xc), words, 20, NULL);
  return 0;
}
