/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Packets the GDB remote probe sends to move memory: write N KiB of random
 * bytes (as ciphertext is) into a virtual board's RAM through the test GDB
 * server stub on a TCP loopback port, in requests of 32 KiB, and read them
 * back, for a server PacketSize of 1 KiB, 4 KiB (QEMU's) and 16 KiB.
 * Prints KiB/s, memory packets (X or m) per KiB against the minimum for
 * the packet size, and the run-control packets (`c`; ^C is a byte, not a
 * packet) per request. The minimum: for writes, the X packets the escaped
 * bytes of a request need (a packet, '$', '#' and checksum included, holds
 * PacketSize bytes, the "Xaddr,len:" header among them); for reads, the m
 * packets whose hex replies fit the PacketSize ((PacketSize − 4) / 2 bytes
 * each), rounded up per request. Target: ≤ 1.1 × the minimum.
 *
 * Where qemu-system-arm is installed, the same N KiB then go in one request
 * into the RAM of a Cortex-M4 (mps2-an386) through QEMU's own gdbstub: it
 * has no X, so M packets carry (PacketSize − 4 − header) / 2 bytes each;
 * every packet the client sent is counted (the first X, which QEMU
 * refuses, and the run-control packets included).
 *
 * Where the SBM firmware is built too ($TB_SBM_FIRMWARE, firmware/), a
 * KiB-sized image is programmed through the SBM on the Cortex-M4 in QEMU
 * (tools/run-qemu-sbm): mastered for its application slot, streamed in
 * 4 KiB chunks through the mailbox, each authenticated, decrypted and
 * written to flash by the SBM, then committed, the device reset and its
 * boot checked (tb_program_device()). Prints the time, KiB/s of image and
 * the packets per KiB against the minimum: the M packets that the bytes
 * sent to the mailbox (UPK, header, each chunk with its index and tag)
 * need at QEMU's PacketSize.
 *
 *   bench-gdb [KiB]          (default 256)
 */

#include "config.h"

#include <stdio.h>
#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-gdb-stub.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

static gsize
escaped_size (const guint8 *data, gsize len)
{
  gsize n = len;

  for (gsize i = 0; i < len; i++)
    n += data[i] == '$' || data[i] == '#' || data[i] == '}' || data[i] == '*';
  return n;
}

/* QEMU, halted, running "b ." from its reset vector, gdbstub on a socket. */
static GSubprocess *
start_qemu (const char *qemu, const char *tmp, char **uri)
{
  static const guint8 loop[] = { 0x00, 0x80, 0x00, 0x20, 0x09, 0x00, 0x00, 0x00, 0xfe, 0xe7, 0x00, 0xbf };
  g_autoptr(GError) error = NULL;
  g_autofree char *image = g_build_filename (tmp, "loop.bin", NULL);
  g_autofree char *socket_path = g_build_filename (tmp, "qemu.sock", NULL);
  g_autofree char *gdb = g_strdup_printf ("unix:%s,server=on,wait=off", socket_path);
  GSubprocess *proc;

  if (!g_file_set_contents (image, (const char *) loop, sizeof loop, &error))
    g_error ("qemu image: %s", error->message);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, qemu, "-M",
                           "mps2-an386", "-nographic", "-S", "-monitor", "none", "-serial", "none", "-kernel", image,
                           "-gdb", gdb, NULL);
  if (proc == NULL)
    g_error ("qemu: %s", error->message);
  for (guint i = 0; i < 400 && !g_file_test (socket_path, G_FILE_TEST_EXISTS); i++)
    g_usleep (25 * 1000);
  *uri = g_strconcat ("gdb:unix:", socket_path, NULL);
  return proc;
}

static void
bench_qemu (guint kib, const char *tmp)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-arm");
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autofree char *uri = NULL;
  g_autofree guint8 *out = g_malloc (kib * 1024), *in = g_malloc (kib * 1024);
  g_autoptr(GRand) rand = g_rand_new_with_seed (18);
  const guint32 address = 0x20010000u;
  TbGdbRemote *remote;

  if (qemu == NULL)
    {
      printf ("qemu-system-arm not installed: QEMU's gdbstub not measured\n");
      return;
    }
  for (guint i = 0; i < kib * 1024; i++)
    out[i] = (guint8) g_rand_int (rand);
  proc = start_qemu (qemu, tmp, &uri);
  probe = tb_probe_open (uri, &error);
  if (probe == NULL)
    g_error ("QEMU probe: %s", error->message);
  remote = tb_gdb_probe_get_remote (TB_GDB_PROBE (probe));
  printf ("\n%u KiB in one request through QEMU's gdbstub (mps2-an386, PacketSize %zu)\n", kib,
          tb_gdb_remote_get_packet_size (remote));
  printf ("%-6s %9s %12s %9s %6s\n", "dir", "KiB/s", "packets/KiB", "minimum", "ratio");
  for (guint dir_index = 0; dir_index < 2; dir_index++)
    {
      gboolean write = dir_index == 0;
      guint64 before = tb_gdb_remote_get_packets (remote);
      gint64 start = g_get_monotonic_time ();
      gsize ps = tb_gdb_remote_get_packet_size (remote);
      g_autofree char *header = g_strdup_printf ("M%x,%zx:", address, ps);
      gsize per_packet = write ? (ps - 4 - strlen (header)) / 2 : (ps - 4) / 2;
      double seconds, per_kib, minimum;
      gboolean moved = write ? tb_probe_write_memory (probe, address, out, kib * 1024, NULL, &error)
                             : tb_probe_read_memory (probe, address, in, kib * 1024, NULL, &error);

      if (!moved)
        g_error ("QEMU transfer: %s", error->message);
      seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
      per_kib = (double) (tb_gdb_remote_get_packets (remote) - before) / kib;
      minimum = (double) ((kib * 1024 + per_packet - 1) / per_packet) / kib;
      printf ("%-6s %9.0f %12.3f %9.3f %6.3f\n", write ? "write" : "read", kib / seconds, per_kib, minimum,
              per_kib / minimum);
    }
  if (memcmp (in, out, kib * 1024) != 0)
    g_error ("QEMU: read back differs from what was written");
  g_clear_object (&probe);
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
}

static void
bench_qemu_sbm (guint kib, const char *tmp)
{
  const char *firmware = g_getenv ("TB_SBM_FIRMWARE");
  const char *script = g_getenv ("TB_RUN_QEMU_SBM");
  const char *products[] = { "sensor", NULL };
  const guint32 slot = 0x21000000u + TB_SBM_APP_MIN_OFFSET;
  g_autoptr(GError) error = NULL;
  g_autofree char *ctx_dir = g_build_filename (tmp, "ctx", NULL);
  g_autofree char *board = g_build_filename (tmp, "qemu-board", NULL);
  g_autofree char *sock = g_build_filename (tmp, "sbm.sock", NULL);
  g_autofree char *gdb = g_strconcat ("unix:", sock, NULL);
  g_autofree char *uri = g_strconcat ("gdb:unix:", sock, NULL);
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *upk_path = g_build_filename (tmp, "app.tbupk", NULL);
  g_autofree char *image_path = g_build_filename (tmp, "app.tbimg", NULL);
  g_autofree guint8 *app = g_malloc (kib * 1024);
  g_autoptr(GRand) rand = g_rand_new_with_seed (18);
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(GSubprocess) proc = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autofree char *version = NULL;
  TbMasterOptions options = { "sensor", NULL, NULL, "1.0.0", 1, 0 };
  TbProvisionOptions provision = { "sensor", NULL, NULL, TRUE };
  TbProvisionResult result = { 0 };
  TbGdbRemote *remote;
  guint64 before, sent, chunks;
  gsize upk_len = 0, per_packet, ps;
  gint64 start;
  double seconds, minimum;

  if (firmware == NULL || script == NULL || !g_file_test (firmware, G_FILE_TEST_IS_REGULAR))
    {
      printf ("SBM firmware not built: programming through the SBM in QEMU not measured\n");
      return;
    }
  for (guint i = 0; i < kib * 1024; i++)
    app[i] = (guint8) g_rand_int (rand);
  if (!g_file_set_contents (bin, (const char *) app, kib * 1024, &error) ||
      (ctx = tb_context_create (ctx_dir, "Bench", &error)) == NULL ||
      !tb_hierarchy_create (ctx, products, NULL, "bench passphrase", NULL, &error) ||
      (fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, slot, &error)) == NULL ||
      (upk = tb_master_image (ctx, fw, &options, "bench passphrase", image_path, upk_path, NULL, &error)) == NULL)
    g_error ("setup: %s", error->message);
  proc = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, script,
                           "--die-with-parent", "--gdb", gdb, "--firmware", firmware,
                           board, NULL);
  if (proc == NULL)
    g_error ("run-qemu-sbm: %s", error->message);
  /* QEMU binds the socket a moment before it listens: try for 10 s */
  for (guint i = 0; i < 500 && probe == NULL; i++)
    {
      g_clear_error (&error);
      probe = tb_probe_open (uri, &error);
      if (probe == NULL)
        g_usleep (20 * 1000);
    }
  if (probe != NULL)
    {
      g_autoptr(TbTarget) target = tb_target_new (probe);
      if (!tb_target_wait_ready (target, &error))
        g_clear_object (&probe);
    }
  if (probe == NULL || !tb_provision_device (ctx, probe, &provision, "bench passphrase", &result, NULL, &error))
    g_error ("QEMU SBM: %s", error->message);
  tb_provision_result_clear (&result);
  remote = tb_gdb_probe_get_remote (TB_GDB_PROBE (probe));
  before = tb_gdb_remote_get_packets (remote);
  start = g_get_monotonic_time ();
  if (!tb_program_device (probe, upk_path, image_path, &version, NULL, NULL, &error))
    g_error ("programming through the SBM in QEMU: %s", error->message);
  seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
  sent = tb_gdb_remote_get_packets (remote) - before;
  {
    g_autofree char *upk_bytes = NULL;
    if (!g_file_get_contents (upk_path, &upk_bytes, &upk_len, &error))
      g_error ("%s", error->message);
  }
  ps = tb_gdb_remote_get_packet_size (remote);
  {
    g_autofree char *header = g_strdup_printf ("M%x,%zx:", TB_MB_ADDRESS + TB_MB_HEADER, ps);
    per_packet = (ps - 4 - strlen (header)) / 2;
  }
  chunks = (kib * 1024 + 4095) / 4096;
  /* each request in its own packets: the UPK, the header, every chunk */
  minimum = (double) ((upk_len + per_packet - 1) / per_packet + 1 +
                      chunks * ((4 + 4096 + 16 + per_packet - 1) / per_packet)) / kib;
  printf ("\n%u KiB image programmed through the SBM on a Cortex-M4 in QEMU (mps2-an386, PacketSize %zu, "
          "M packets: QEMU refuses X)\n", kib, ps);
  printf ("%9s %9s %12s %9s %6s\n", "seconds", "KiB/s", "packets/KiB", "minimum", "ratio");
  printf ("%9.2f %9.0f %12.3f %9.3f %6.3f\n", seconds, kib / seconds, (double) sent / kib, minimum,
          (double) sent / kib / minimum);
  printf ("(the minimum counts only the data: each of the %" G_GUINT64_FORMAT " mailbox commands also writes its "
          "doorbell, polls for the answer, and stops and resumes the core; the reset and the boot check included)\n",
          chunks + 3);
  g_clear_object (&probe);
  g_subprocess_force_exit (proc);
  g_subprocess_wait (proc, NULL, NULL);
}

int
main (int argc, char **argv)
{
  guint kib = argc > 1 ? (guint) g_ascii_strtoull (argv[1], NULL, 10) : 256;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tb-bench-gdb-XXXXXX", &error);
  g_autofree char *dir = g_build_filename (tmp, "board", NULL);
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (dir, NULL, 0, 0, NULL, &error);
  const guint sizes[] = { 0x400, 0x1000, 0x4000 };
  const guint window = 32 * 1024; /* of the board's 64 KiB RAM, rewritten until N KiB moved */
  const guint32 address = TB_BOARD_RAM_BASE + 0x4000;
  g_autofree guint8 *out = g_malloc (window), *in = g_malloc (window);
  g_autoptr(GRand) rand = g_rand_new_with_seed (18);
  gboolean ok = TRUE;

  if (board == NULL || kib == 0)
    g_error ("setup: %s", error != NULL ? error->message : "bad size");
  tb_virtual_board_reset (board);
  for (guint i = 0; i < window; i++)
    out[i] = (guint8) g_rand_int (rand);
  printf ("%u KiB of random bytes written and read back through a GDB server stub (TCP loopback)\n", kib);
  printf ("%-10s %-6s %9s %12s %9s %6s %12s\n", "PacketSize", "dir", "KiB/s", "packets/KiB", "minimum", "ratio",
          "c/request");
  for (guint s = 0; s < G_N_ELEMENTS (sizes); s++)
    {
      TbGdbStubOptions options = { sizes[s], TRUE, TRUE, TRUE, FALSE, FALSE, TB_GDB_STUB_FAULT_NONE, 0 };
      g_autoptr(TbGdbStub) stub = tb_gdb_stub_new (board, &options, NULL, &error);
      g_autofree char *uri = NULL;
      g_autoptr(TbProbe) probe = NULL;

      if (stub == NULL)
        g_error ("stub: %s", error->message);
      uri = g_strconcat ("gdb:", tb_gdb_stub_get_address (stub), NULL);
      probe = tb_probe_open (uri, &error);
      if (probe == NULL)
        g_error ("probe: %s", error->message);
      for (guint dir_index = 0; dir_index < 2; dir_index++)
        {
          gboolean write = dir_index == 0;
          char kind = write ? 'X' : 'm';
          guint64 before = tb_gdb_stub_get_packets_of_kind (stub, kind);
          guint64 c_before = tb_gdb_stub_get_packets_of_kind (stub, 'c');
          guint requests = (kib * 1024 + window - 1) / window;
          gint64 start = g_get_monotonic_time ();
          g_autofree char *header = g_strdup_printf ("X%x,%x:", address, sizes[s]);
          double seconds, per_kib, minimum;
          gsize per_request;

          for (guint r = 0; r < requests; r++)
            {
              gboolean moved = write ? tb_probe_write_memory (probe, address, out, window, NULL, &error)
                                     : tb_probe_read_memory (probe, address, in, window, NULL, &error);
              if (!moved)
                g_error ("transfer: %s", error->message);
            }
          seconds = (double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC;
          if (!write && memcmp (in, out, window) != 0)
            g_error ("read back differs from what was written");
          per_kib = (double) (tb_gdb_stub_get_packets_of_kind (stub, kind) - before) / (requests * window / 1024.0);
          if (write)
            {
              gsize capacity = sizes[s] - 4 - strlen (header);
              per_request = (escaped_size (out, window) + capacity - 1) / capacity;
            }
          else
            per_request = (window + (sizes[s] - 4) / 2 - 1) / ((sizes[s] - 4) / 2);
          minimum = (double) per_request / (window / 1024.0);
          printf ("%-10u %-6s %9.0f %12.3f %9.3f %6.3f %12.2f\n", sizes[s], write ? "write" : "read",
                  requests * window / 1024.0 / seconds, per_kib, minimum, per_kib / minimum,
                  (double) (tb_gdb_stub_get_packets_of_kind (stub, 'c') - c_before) / requests);
          ok = ok && per_kib <= 1.1 * minimum;
        }
    }
  g_clear_object (&board);
  printf ("%s\n", ok ? "stub: target met, ≤ 1.1 × the minimum packets per KiB" : "stub: target missed");
  bench_qemu (kib, tmp);
  bench_qemu_sbm (kib, tmp);
  tb_file_remove_tree (tmp, NULL);
  return ok ? 0 : 1;
}
