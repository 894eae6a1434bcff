/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the GDB remote protocol client: the input is everything
 * the server sends (acks, packets, console output, garbage), read from
 * memory while the client runs a whole session: qSupported and no-ack
 * mode, memory reads and binary writes, a monitor command, registers,
 * continue and ^C, detach. Nothing may crash, hang or read past a buffer;
 * any error is fine.
 *
 * Built with -Dfuzzing=true (clang) it is a libFuzzer target; built
 * normally fuzz-replay.c's main() replays the files given (tests/data/gdb/, made by
 * tests/data/gdb/make-seeds.py). */

#include "config.h"

#include "trustbench.h"

int LLVMFuzzerTestOneInput (const guint8 *data, size_t size);

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (data, (gssize) size, NULL);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GIOStream) stream = g_simple_io_stream_new (in, out);
  g_autoptr(TbGdbRemote) remote = tb_gdb_remote_new (stream, "fuzz");
  g_autoptr(GByteArray) regs = NULL;
  g_autofree char *output = NULL;
  guint8 buf[300] = { 0 };
  guint32 value = 0;
  gboolean supported = FALSE;

  if (!tb_gdb_remote_handshake (remote, NULL))
    return 0;
  for (gsize i = 0; i < sizeof buf; i++)
    buf[i] = (guint8) (i * 13); /* '#', '$', '}' and '*' among them */
  tb_gdb_remote_read_memory (remote, 0x20000000u, buf, sizeof buf, NULL);
  tb_gdb_remote_write_memory (remote, 0x20000000u, buf, sizeof buf, NULL);
  tb_gdb_remote_monitor (remote, "reset halt", &supported, &output, NULL);
  tb_gdb_remote_read_register (remote, 15, &value, NULL);
  regs = tb_gdb_remote_read_registers (remote, NULL);
  tb_gdb_remote_write_register (remote, 0, 0x12345678u, NULL);
  tb_gdb_remote_continue (remote, NULL);
  tb_gdb_remote_interrupt (remote, NULL);
  tb_gdb_remote_detach (remote, NULL);
  return 0;
}
