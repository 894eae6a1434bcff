/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The GDB remote probe against a real GDB server: QEMU's gdbstub, on a
 * Cortex-M4 (qemu-system-arm -M mps2-an386) running a few instructions
 * this test assembles itself — a loop counting in RAM at 0x20000000, so the
 * test sees whether the core runs. Each test starts QEMU halted (-S) with
 * its gdbstub on a Unix socket and stops it afterwards; without
 * qemu-system-arm (tools/install-deps installs it) the tests skip. */

#include "config.h"

#include <string.h>

#include "tb-test-util.h"
#include "trustbench.h"

#define COUNTER 0x20000000u
#define RESET_HANDLER 0x00000008u

typedef struct {
  char *tmp;
  GSubprocess *qemu;
  char *uri;
} Fixture;

/* Vector table and a loop: r0 = &counter; for (;;) (*r0)++. Thumb code. */
static const guint8 firmware[] = {
  0x00, 0x80, 0x00, 0x20, /* initial SP 0x20008000 */
  0x09, 0x00, 0x00, 0x00, /* reset: 0x08, Thumb */
  0x02, 0x48,             /* 0x08 ldr r0, [pc, #8] */
  0x01, 0x68,             /* 0x0a ldr r1, [r0] */
  0x01, 0x31,             /* 0x0c adds r1, #1 */
  0x01, 0x60,             /* 0x0e str r1, [r0] */
  0xfb, 0xe7,             /* 0x10 b 0x0a */
  0x00, 0xbf,             /* 0x12 nop */
  0x00, 0x00, 0x00, 0x20, /* 0x14 .word COUNTER */
};

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-arm");
  g_autofree char *image = NULL, *socket_path = NULL, *gdb = NULL;

  if (qemu == NULL)
    return;
  f->tmp = tb_test_make_tmpdir ();
  image = g_build_filename (f->tmp, "loop.bin", NULL);
  socket_path = g_build_filename (f->tmp, "gdb.sock", NULL);
  g_assert_true (g_file_set_contents (image, (const char *) firmware, sizeof firmware, &error));
  gdb = g_strdup_printf ("unix:%s,server=on,wait=off", socket_path);
  f->qemu = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE | G_SUBPROCESS_FLAGS_STDERR_SILENCE, &error, qemu,
                              "-M", "mps2-an386", "-nographic", "-S", "-monitor", "none", "-serial", "none",
                              "-kernel", image, "-gdb", gdb, NULL);
  g_assert_no_error (error);
  /* QEMU listens on the socket once it is ready */
  g_assert_true (tb_test_wait_for_listener (socket_path, 10000));
  f->uri = g_strconcat ("gdb:unix:", socket_path, NULL);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->qemu != NULL)
    {
      g_subprocess_force_exit (f->qemu);
      g_subprocess_wait (f->qemu, NULL, NULL);
      g_clear_object (&f->qemu);
    }
  if (f->tmp != NULL)
    tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->uri);
}

static gboolean
skip_without_qemu (Fixture *f)
{
  if (f->qemu != NULL)
    return FALSE;
  g_test_skip ("qemu-system-arm is not installed (tools/install-deps installs it)");
  return TRUE;
}

static guint32
read_counter (TbProbe *probe)
{
  g_autoptr(GError) error = NULL;
  guint8 b[4];

  g_assert_true (tb_probe_read_memory (probe, COUNTER, b, sizeof b, NULL, &error));
  g_assert_no_error (error);
  return (guint32) b[0] | (guint32) b[1] << 8 | (guint32) b[2] << 16 | (guint32) b[3] << 24;
}

/* The server and the core are identified; the core runs between requests
 * and keeps still while halted. */
static void
test_identify_and_run (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  TbGdbRemote *remote;
  guint32 first, halted;
  gboolean moved = FALSE;

  if (skip_without_qemu (f))
    return;
  probe = tb_probe_open (f->uri, &error);
  g_assert_no_error (error);
  remote = tb_gdb_probe_get_remote (TB_GDB_PROBE (probe));
  g_assert_cmphex (tb_gdb_probe_get_cpuid (TB_GDB_PROBE (probe)) & 0xff0ffff0u, ==, 0x410fc240u);
  g_assert_cmpstr (tb_cortex_m_core_name (tb_gdb_probe_get_cpuid (TB_GDB_PROBE (probe))), ==, "Cortex-M4");
  g_assert_cmpuint (tb_gdb_remote_get_packet_size (remote), ==, 0x1000);
  first = read_counter (probe);
  /* the loop counts while the probe lets the core run (bounded wait) */
  for (guint i = 0; i < 200 && !moved; i++)
    {
      g_usleep (10 * 1000);
      moved = read_counter (probe) != first;
    }
  g_assert_true (moved);
  g_assert_true (tb_probe_halt (probe, &error));
  g_assert_no_error (error);
  halted = read_counter (probe);
  g_usleep (20 * 1000);
  g_assert_cmpuint (read_counter (probe), ==, halted);
  g_assert_true (tb_probe_resume (probe, &error));
  g_assert_no_error (error);
}

/* Memory written through the gdbstub (QEMU knows no X: M packets) reads
 * back, bytes that X would escape among them. */
static void
test_memory (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  guint8 pattern[20000], back[20000];

  if (skip_without_qemu (f))
    return;
  for (gsize i = 0; i < sizeof pattern; i++)
    pattern[i] = (guint8) (i * 7 + 3);
  memset (pattern + 100, '$', 50);
  probe = tb_probe_open (f->uri, &error);
  g_assert_no_error (error);
  g_assert_true (tb_probe_write_memory (probe, 0x20001000u, pattern, sizeof pattern, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tb_probe_read_memory (probe, 0x20001000u, back, sizeof back, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (back, sizeof back, pattern, sizeof pattern);
}

/* Connects, lets the loop run until it has counted (so r0 is loaded), and
 * halts the core. */
static TbProbe *
open_halted (Fixture *f, TbGdbRemote **remote)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  guint32 counted = 0;

  g_assert_no_error (error);
  for (guint i = 0; i < 200 && counted == 0; i++)
    {
      g_usleep (10 * 1000);
      counted = read_counter (probe);
    }
  g_assert_cmpuint (counted, !=, 0);
  g_assert_true (tb_probe_halt (probe, &error));
  g_assert_no_error (error);
  *remote = tb_gdb_probe_get_remote (TB_GDB_PROBE (probe));
  return g_steal_pointer (&probe);
}

/* Registers of the halted core: r0 holds the counter's address, pc is in
 * the loop; a register written reads back. */
static void
test_registers (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  TbGdbRemote *remote;
  guint32 value = 0;

  if (skip_without_qemu (f))
    return;
  probe = open_halted (f, &remote);
  g_assert_true (tb_gdb_remote_read_register (remote, 0, &value, &error));
  g_assert_no_error (error);
  g_assert_cmphex (value, ==, COUNTER);
  g_assert_true (tb_gdb_remote_read_register (remote, 15, &value, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (value, >=, 0x0a);
  g_assert_cmpuint (value, <=, 0x10);
  g_assert_true (tb_gdb_remote_write_register (remote, 5, 0x5eed5eedu, &error));
  g_assert_no_error (error);
  g_assert_true (tb_gdb_remote_read_register (remote, 5, &value, &error));
  g_assert_cmphex (value, ==, 0x5eed5eedu);
}

/* QEMU's monitor has no "reset halt" and QEMU ignores debugger writes to
 * AIRCR: the probe resets with QEMU's "system_reset", and the core starts
 * over at its reset handler, its registers reset. */
static void
test_reset (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  TbGdbRemote *remote;
  guint32 value = 0;

  if (skip_without_qemu (f))
    return;
  probe = open_halted (f, &remote);
  g_assert_true (tb_gdb_remote_write_register (remote, 0, 0x12345678u, &error));
  g_assert_no_error (error);
  g_assert_true (tb_probe_reset (probe, TRUE, &error));
  g_assert_no_error (error);
  g_assert_true (tb_gdb_probe_has_monitor_reset (TB_GDB_PROBE (probe)));
  g_assert_true (tb_gdb_remote_read_register (remote, 15, &value, &error));
  g_assert_no_error (error);
  g_assert_cmphex (value, ==, RESET_HANDLER);
  g_assert_true (tb_gdb_remote_read_register (remote, 0, &value, &error));
  g_assert_cmphex (value, ==, 0);
  /* without halt it runs again */
  g_assert_true (tb_probe_reset (probe, FALSE, &error));
  g_assert_no_error (error);
  g_assert_true (tb_gdb_remote_is_running (remote));
}

/* trustbench-tool probe info through QEMU, twice (QEMU greets a second
 * client of a running core with a stale stop reply). */
static void
test_tool (Fixture *f, gconstpointer data)
{
  const char *tool = g_getenv ("TB_TOOL");

  if (skip_without_qemu (f))
    return;
  if (tool == NULL)
    {
      g_test_skip ("TB_TOOL is not set");
      return;
    }
  for (guint i = 0; i < 2; i++)
    {
      g_autofree char *out = NULL;
      g_assert_cmpint (tb_test_run_tool (tool, &out, "probe", "info", "--probe", f->uri, NULL), ==, 0);
      g_assert_nonnull (strstr (out, "\"kind\" : \"gdb\""));
      g_assert_nonnull (strstr (out, "\"core\" : \"Cortex-M4\""));
      g_assert_nonnull (strstr (out, "\"packet_size\" : 4096"));
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/qemu/identify-and-run", Fixture, NULL, setup, test_identify_and_run, teardown);
  g_test_add ("/qemu/memory", Fixture, NULL, setup, test_memory, teardown);
  g_test_add ("/qemu/registers", Fixture, NULL, setup, test_registers, teardown);
  g_test_add ("/qemu/reset", Fixture, NULL, setup, test_reset, teardown);
  g_test_add ("/qemu/tool", Fixture, NULL, setup, test_tool, teardown);
  return g_test_run ();
}
