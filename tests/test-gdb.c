/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The GDB remote probe through the real I/O path: a GDB server stub
 * (tb-gdb-stub.c) serving a virtual board over a TCP loopback port or a
 * Unix socket, the client connecting with GSocketClient. Memory, registers,
 * reset, the whole provisioning chain compared byte for byte with the
 * in-process virtual probe, the CLI, and hostile servers. */

#include "config.h"

#include <string.h>

#include "tb-gdb-stub.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

typedef struct {
  char *tmp;
  TbVirtualBoard *board;
  TbGdbStub *stub;
  char *uri;
} Fixture;

/* A server with everything on: no-ack mode, X, the monitor, run-length
 * encoding, a 4 KiB packet. */
static const TbGdbStubOptions full_options = { 0x1000, TRUE, TRUE, TRUE, TRUE, FALSE, TB_GDB_STUB_FAULT_NONE, 0 };

/* A minimal one: acks, M only, no monitor, no PacketSize (400 assumed),
 * console output before every answer; on a Unix socket. */
static const TbGdbStubOptions minimal_options = { 0, FALSE, FALSE, FALSE, FALSE, TRUE, TB_GDB_STUB_FAULT_NONE, 0 };

static void
start_stub (Fixture *f, const TbGdbStubOptions *options, gboolean on_unix_socket)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *socket_path = g_build_filename (f->tmp, "gdb.sock", NULL);

  g_clear_pointer (&f->stub, tb_gdb_stub_free);
  g_clear_pointer (&f->uri, g_free);
  f->stub = tb_gdb_stub_new (f->board, options, on_unix_socket ? socket_path : NULL, &error);
  g_assert_no_error (error);
  f->uri = g_strconcat ("gdb:", tb_gdb_stub_get_address (f->stub), NULL);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;

  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "board", NULL);
  f->board = tb_virtual_board_create (dir, NULL, 256 * 1024, 1024, "0dab05b1", &error);
  g_assert_no_error (error);
  tb_virtual_board_reset (f->board);
  start_stub (f, data == &minimal_options ? &minimal_options : &full_options, data == &minimal_options);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_pointer (&f->stub, tb_gdb_stub_free);
  g_clear_object (&f->board);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->uri);
}

/* Every byte value, the ones X escapes ($ # } *) among them. */
static void
fill_pattern (guint8 *buf, gsize len)
{
  for (gsize i = 0; i < len; i++)
    buf[i] = (guint8) (i * 7 + 3);
  memset (buf + len / 2, '}', 40);
  memset (buf + len / 2 + 40, 0xff, 300); /* a run the server compresses */
}

/* Memory through the server reads back what was written, in RAM across
 * several packets; the server and the core are identified. */
static void
test_memory (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  guint8 pattern[6000], back[6000], direct[6000];
  guint32 address = TB_BOARD_RAM_BASE + 0x1002;
  TbGdbProbe *gdb;
  guint64 before;
  char kind;

  fill_pattern (pattern, sizeof pattern);
  probe = tb_probe_open (f->uri, &error);
  g_assert_no_error (error);
  g_assert_true (TB_IS_GDB_PROBE (probe));
  gdb = TB_GDB_PROBE (probe);
  g_assert_cmpstr (tb_probe_get_kind (probe), ==, "gdb");
  g_assert_cmpstr (tb_probe_get_uri (probe), ==, f->uri);
  g_assert_cmphex (tb_gdb_probe_get_cpuid (gdb), ==, 0x410fc241u);
  if (data == &minimal_options)
    {
      g_assert_cmpuint (tb_gdb_remote_get_packet_size (tb_gdb_probe_get_remote (gdb)), ==,
                        TB_GDB_PACKET_SIZE_DEFAULT);
      g_assert_false (tb_gdb_remote_is_no_ack (tb_gdb_probe_get_remote (gdb)));
    }
  else
    {
      g_assert_cmpuint (tb_gdb_remote_get_packet_size (tb_gdb_probe_get_remote (gdb)), ==, 0x1000);
      g_assert_true (tb_gdb_remote_is_no_ack (tb_gdb_probe_get_remote (gdb)));
      g_assert_nonnull (strstr (tb_gdb_remote_get_features (tb_gdb_probe_get_remote (gdb)), "PacketSize=1000"));
    }
  /* the core runs between requests */
  g_assert_true (tb_gdb_remote_is_running (tb_gdb_probe_get_remote (gdb)));
  /* X where the server has it, M otherwise */
  kind = data == &minimal_options ? 'M' : 'X';
  before = tb_gdb_stub_get_packets_of_kind (f->stub, kind);
  g_assert_true (tb_probe_write_memory (probe, address, pattern, sizeof pattern, NULL, &error));
  g_assert_no_error (error);
  /* chunked to the server's PacketSize (the stub refuses longer packets) */
  g_assert_cmpuint (tb_gdb_stub_get_packets_of_kind (f->stub, kind) - before, >=, 2);
  g_assert_true (tb_probe_read_memory (probe, address, back, sizeof back, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (back, sizeof back, pattern, sizeof pattern);
  g_assert_true (tb_gdb_remote_is_running (tb_gdb_probe_get_remote (gdb)));
  /* a read the server refuses: outside every memory */
  g_assert_false (tb_probe_read_memory (probe, 0x70000000u, back, 16, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "0x70000000"));
  g_clear_object (&probe);

  /* the board itself holds the bytes */
  g_assert_true (tb_virtual_board_debug_read (f->board, address, direct, sizeof direct, &error));
  g_assert_cmpmem (direct, sizeof direct, pattern, sizeof pattern);
}

/* A 32 KiB write goes in as few X packets as the PacketSize allows (a
 * packet, framing included, of PacketSize bytes), a read in as few m
 * packets, and the core is stopped once for each, not per 4 KiB. */
static void
test_packets_filled (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint64 c = tb_gdb_stub_get_packets_of_kind (f->stub, 'c'); /* before any client */
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autoptr(GRand) rand = g_rand_new_with_seed (7);
  g_autofree guint8 *buf = g_malloc (32 * 1024);
  g_autofree char *header = g_strdup_printf ("X%x,%x:", TB_BOARD_RAM_BASE, 0x1000);
  gsize escaped = 32 * 1024, capacity = 0x1000 - 4 - strlen (header);
  guint64 x = tb_gdb_stub_get_packets_of_kind (f->stub, 'X');
  guint64 m = tb_gdb_stub_get_packets_of_kind (f->stub, 'm');

  g_assert_no_error (error);
  for (gsize i = 0; i < 32 * 1024; i++)
    {
      buf[i] = (guint8) g_rand_int (rand);
      escaped += buf[i] == '$' || buf[i] == '#' || buf[i] == '}' || buf[i] == '*';
    }
  g_assert_true (tb_probe_write_memory (probe, TB_BOARD_RAM_BASE, buf, 32 * 1024, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tb_gdb_stub_get_packets_of_kind (f->stub, 'X') - x, ==, (escaped + capacity - 1) / capacity);
  g_assert_true (tb_probe_read_memory (probe, TB_BOARD_RAM_BASE, buf, 32 * 1024, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tb_gdb_stub_get_packets_of_kind (f->stub, 'm') - m, ==,
                    (32 * 1024 + (0x1000 - 4) / 2 - 1) / ((0x1000 - 4) / 2));
  /* connecting's c and the write's have reached the server before the
   * read's ^C; the read's own c may still be on its way */
  g_assert_cmpuint (tb_gdb_stub_get_packets_of_kind (f->stub, 'c') - c, >=, 2);
  g_assert_cmpuint (tb_gdb_stub_get_packets_of_kind (f->stub, 'c') - c, <=, 3);
}

/* Registers: p, P, g; the halted core keeps still until resumed. */
static void
test_registers (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autoptr(GByteArray) regs = NULL;
  TbGdbRemote *remote;
  guint32 value = 0;

  g_assert_no_error (error);
  remote = tb_gdb_probe_get_remote (TB_GDB_PROBE (probe));
  /* the core must be stopped for register access */
  g_assert_false (tb_gdb_remote_read_register (remote, 15, &value, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_true (tb_probe_halt (probe, &error));
  g_assert_no_error (error);
  g_assert_true (tb_virtual_board_is_halted (f->board));
  g_assert_true (tb_gdb_remote_read_register (remote, 15, &value, &error));
  g_assert_no_error (error);
  g_assert_cmphex (value, ==, TB_BOARD_FLASH_BASE + 0x8000u);
  g_assert_true (tb_gdb_remote_write_register (remote, 3, 0xdeadbeefu, &error));
  g_assert_no_error (error);
  regs = tb_gdb_remote_read_registers (remote, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (regs->len, ==, 17 * 4);
  g_assert_cmphex (regs->data[12] | regs->data[13] << 8 | regs->data[14] << 16 | (guint32) regs->data[15] << 24, ==,
                   0xdeadbeefu);
  g_assert_false (tb_gdb_remote_read_register (remote, 99, &value, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_clear_error (&error);
  /* memory access leaves a halted core halted */
  g_assert_true (tb_probe_read_memory (probe, TB_CM_CPUID, (guint8 *) &value, 4, NULL, &error));
  g_assert_false (tb_gdb_remote_is_running (remote));
  g_assert_true (tb_probe_resume (probe, &error));
  g_assert_no_error (error);
  g_assert_true (tb_gdb_remote_is_running (remote));
}

/* A server like QEMU: no p/P (g/G instead), a stale stop reply before
 * the first acknowledgement, no monitor reset. */
static void
test_qemu_like (Fixture *f, gconstpointer data)
{
  TbGdbStubOptions options = minimal_options;
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  TbGdbRemote *remote;
  guint32 value = 0;

  options.no_p = TRUE;
  options.stale_stop = TRUE;
  options.console = FALSE;
  options.packet_size = 0x1000;
  start_stub (f, &options, FALSE);
  probe = tb_probe_open (f->uri, &error);
  g_assert_no_error (error);
  remote = tb_gdb_probe_get_remote (TB_GDB_PROBE (probe));
  g_assert_true (tb_probe_halt (probe, &error));
  g_assert_true (tb_gdb_remote_write_register (remote, 7, 0xc0ffee00u, &error));
  g_assert_no_error (error);
  g_assert_true (tb_gdb_remote_read_register (remote, 7, &value, &error));
  g_assert_no_error (error);
  g_assert_cmphex (value, ==, 0xc0ffee00u);
  g_assert_true (tb_gdb_remote_read_register (remote, 15, &value, &error));
  g_assert_cmphex (value, ==, TB_BOARD_FLASH_BASE + 0x8000u);
}

/* Reset with halt, through the server's monitor or, where it has none,
 * through AIRCR written via memory: either way the board is reset and
 * held; without halt it boots. */
static void
test_reset (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  gboolean has_monitor = data != &minimal_options;

  g_assert_no_error (error);
  g_assert_true (tb_probe_reset (probe, TRUE, &error));
  g_assert_no_error (error);
  g_assert_cmpint (tb_gdb_probe_has_monitor_reset (TB_GDB_PROBE (probe)), ==, has_monitor);
  g_assert_true (tb_virtual_board_is_halted (f->board));
  g_assert_false (tb_gdb_remote_is_running (tb_gdb_probe_get_remote (TB_GDB_PROBE (probe))));
  g_assert_true (tb_probe_reset (probe, FALSE, &error));
  g_assert_no_error (error);
  g_assert_false (tb_virtual_board_is_halted (f->board));
  g_assert_true (tb_gdb_remote_is_running (tb_gdb_probe_get_remote (TB_GDB_PROBE (probe))));
}

static void
make_image (const char *tmp, TbContext *ctx, const char *version, guint32 counter, char **upk, char **image)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *bin = g_build_filename (tmp, "app.bin", NULL);
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) u = NULL;
  TbMasterOptions mo = { "widget", NULL, NULL, version, counter, 0 };
  guint8 bytes[9000];

  for (gsize i = 0; i < sizeof bytes; i++)
    bytes[i] = (guint8) (i * 11);
  g_assert_true (g_file_set_contents (bin, (const char *) bytes, sizeof bytes, NULL));
  *upk = g_strdup_printf ("%s/app-%s.tbupk", tmp, version);
  *image = g_strdup_printf ("%s/app-%s.tbimg", tmp, version);
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error);
  g_assert_no_error (error);
  u = tb_master_image (ctx, fw, &mo, "gdb passphrase", *image, *upk, NULL, &error);
  g_assert_no_error (error);
}

/* The board behind the GDB server, provisioned (SBM installed, identity,
 * lock, program) through it, ends with flash identical byte for byte to a
 * copy of the same board provisioned through the in-process virtual probe;
 * a rollback is refused through it; the CLI reaches the board too. */
static void
test_provision_byte_for_byte (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ctx_dir = g_build_filename (f->tmp, "ctx", NULL);
  g_autofree char *board_dir = g_strdup (tb_virtual_board_get_path (f->board));
  g_autofree char *copy = g_build_filename (f->tmp, "copy", NULL);
  g_autofree char *copy_uri = g_strconcat ("virtual:", copy, NULL);
  g_autofree char *upk = NULL, *image = NULL, *old_upk = NULL, *old_image = NULL;
  g_autoptr(TbContext) ctx = NULL;
  const char *products[] = { "widget", NULL };
  TbProvisionOptions options = { NULL, NULL, NULL, FALSE };
  const char *tool = g_getenv ("TB_TOOL");

  ctx = tb_context_create (ctx_dir, "GDB OEM", &error);
  g_assert_true (tb_hierarchy_create (ctx, products, NULL, "gdb passphrase", NULL, &error));
  g_assert_no_error (error);
  make_image (f->tmp, ctx, "1.0.0", 1, &old_upk, &old_image);
  make_image (f->tmp, ctx, "2.3.4", 2, &upk, &image);
  options.upk_path = upk;
  options.image_path = image;
  tb_test_copy_dir (board_dir, copy);
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    TbProvisionResult result = { 0 };
    g_assert_no_error (error);
    gboolean ok = tb_provision_device (ctx, probe, &options, "gdb passphrase", &result, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
    g_assert_cmpstr (result.app_version, ==, "2.3.4");
    g_assert_cmpstr (result.lifecycle, ==, "locked");
    tb_provision_result_clear (&result);
  }
  {
    g_autoptr(TbProbe) probe = tb_probe_open (copy_uri, &error);
    TbProvisionResult result = { 0 };
    g_assert_no_error (error);
    gboolean ok = tb_provision_device (ctx, probe, &options, "gdb passphrase", &result, NULL, &error);
    g_assert_no_error (error);
    g_assert_true (ok);
    tb_provision_result_clear (&result);
  }
  /* a rollback through the GDB server is refused, the flash unchanged */
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    g_autoptr(TbTarget) target = NULL;
    g_autoptr(GBytes) receipt = NULL;
    g_assert_no_error (error);
    target = tb_target_new (probe);
    g_assert_false (tb_target_install (target, old_upk, old_image, &receipt, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    g_clear_error (&error);
  }
  tb_test_assert_same_flash (board_dir, copy);
  /* the CLI's device commands reach the provisioned board through the server */
  if (tool != NULL)
    {
      g_autofree char *info = NULL, *reset = NULL;
      g_setenv ("TRUSTBENCH_CONTEXT", ctx_dir, TRUE);
      g_assert_cmpint (tb_test_run_tool (tool, &info, "device", "info", "--probe", f->uri, NULL), ==, 0);
      g_assert_nonnull (strstr (info, "\"lifecycle\" : \"locked\""));
      g_assert_nonnull (strstr (info, "\"attestation_valid\" : true"));
      g_assert_nonnull (strstr (info, "\"version\" : \"2.3.4\""));
      g_assert_cmpint (tb_test_run_tool (tool, &reset, "device", "reset", "--probe", f->uri, NULL), ==, 0);
      g_assert_nonnull (strstr (reset, "\"boot\" : \"ok\""));
      g_unsetenv ("TRUSTBENCH_CONTEXT");
    }
}

/* trustbench-tool probe info, write, read and reset through the server. */
static void
test_tool (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *written = NULL, *read_back = NULL, *reset = NULL;
  g_autofree char *in_path = g_build_filename (f->tmp, "pattern.bin", NULL);
  g_autofree char *out_path = g_build_filename (f->tmp, "read.bin", NULL);
  g_autofree char *address = g_strdup_printf ("0x%x", TB_BOARD_RAM_BASE + 0x1002);
  g_autofree char *got = NULL;
  const char *tool = g_getenv ("TB_TOOL");
  guint8 pattern[3000];
  gsize got_len = 0;

  if (tool == NULL)
    {
      g_test_skip ("TB_TOOL is not set");
      return;
    }
  g_assert_cmpint (tb_test_run_tool (tool, &out, "probe", "info", "--probe", f->uri, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"kind\" : \"gdb\""));
  g_assert_nonnull (strstr (out, "\"packet_size\" : 4096"));
  g_assert_nonnull (strstr (out, "\"cpuid\" : \"0x410fc241\""));
  g_assert_nonnull (strstr (out, "\"core\" : \"Cortex-M4\""));
  g_assert_nonnull (strstr (out, "\"no_ack_mode\" : true"));
  g_assert_nonnull (strstr (out, "\"PacketSize=1000\""));

  fill_pattern (pattern, sizeof pattern);
  g_assert_true (g_file_set_contents (in_path, (const char *) pattern, sizeof pattern, &error));
  g_assert_cmpint (tb_test_run_tool (tool, &written, "probe", "write", "--probe", f->uri, address, in_path, NULL), ==,
                   0);
  g_assert_cmpint (
    tb_test_run_tool (tool, &read_back, "probe", "read", "--probe", f->uri, address, "3000", "-o", out_path, NULL), ==,
    0);
  g_assert_true (g_file_get_contents (out_path, &got, &got_len, &error));
  g_assert_cmpmem (got, got_len, pattern, sizeof pattern);
  g_assert_cmpint (tb_test_run_tool (tool, &reset, "probe", "reset", "--probe", f->uri, "--halt", NULL), ==, 0);
  g_assert_nonnull (strstr (reset, "\"halted\" : true"));
}

typedef struct {
  const char *name;
  TbGdbStubFault fault;
  char fault_on;
  gboolean no_ack;
  int code;
  const char *says;
} Hostile;

static const Hostile hostile_servers[] = {
  { "bad-checksum-acked", TB_GDB_STUB_FAULT_BAD_CHECKSUM, 'm', FALSE, TB_ERROR_INVALID_DATA, "bad checksum" },
  { "bad-checksum-no-ack", TB_GDB_STUB_FAULT_BAD_CHECKSUM, 'm', TRUE, TB_ERROR_INVALID_DATA, "bad checksum" },
  { "bad-checksum-handshake", TB_GDB_STUB_FAULT_BAD_CHECKSUM, 'q', FALSE, TB_ERROR_INVALID_DATA, "qSupported" },
  { "wrong-length", TB_GDB_STUB_FAULT_WRONG_LENGTH, 'm', TRUE, TB_ERROR_INVALID_DATA, "expected 8 hex digits" },
  { "console-flood", TB_GDB_STUB_FAULT_CONSOLE_FLOOD, 'm', TRUE, TB_ERROR_INVALID_DATA, "console output" },
  { "disconnect", TB_GDB_STUB_FAULT_DISCONNECT, 'm', TRUE, TB_ERROR_FAILED, "closed the connection" },
  { "garbage", TB_GDB_STUB_FAULT_GARBAGE, 'm', FALSE, TB_ERROR_INVALID_DATA, "not a packet" },
  { "bad-run-length", TB_GDB_STUB_FAULT_BAD_RUN_LENGTH, 'm', TRUE, TB_ERROR_INVALID_DATA, "run length" },
  { "silent", TB_GDB_STUB_FAULT_SILENT, 'q', FALSE, TB_ERROR_FAILED, "no answer within" },
};

/* A hostile server is a clear error naming it, never a hang or a crash. */
static void
test_hostile (Fixture *f, gconstpointer data)
{
  const Hostile *h = data;
  TbGdbStubOptions options = full_options;
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;

  g_test_message ("hostile server: %s", h->name);
  options.fault = h->fault;
  options.fault_on = h->fault_on;
  options.no_ack = h->no_ack;
  start_stub (f, &options, FALSE);
  probe = tb_probe_open (f->uri, &error);
  g_assert_null (probe);
  g_assert_error (error, TB_ERROR, h->code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, tb_gdb_stub_get_address (f->stub)));
  if (strstr (error->message, h->says) == NULL)
    g_error ("“%s” does not say “%s”", error->message, h->says);
}

/* Addresses that are not a GDB server's. */
static void
test_bad_address (Fixture *f, gconstpointer data)
{
  const char *bad[] = { "gdb:", "gdb:no-port", "gdb:unix:", "gdb:localhost:0", "gdb:localhost:99999" };
  g_autoptr(GError) error = NULL;
  g_autofree char *nowhere = g_strdup_printf ("gdb:unix:%s/no-such.sock", f->tmp);
  TbProbe *probe;

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      probe = tb_probe_open (bad[i], &error);
      g_assert_null (probe);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
      g_clear_error (&error);
    }
  probe = tb_probe_open (nowhere, &error);
  g_assert_null (probe);
  g_assert_nonnull (error);
  g_assert_true (error->domain == TB_ERROR);
  g_assert_nonnull (strstr (error->message, "no-such.sock"));
}

/* The protocol on its own, over a stream scripted in memory: acks,
 * retransmission after a '-', run-length decoding. */
static void
test_scripted (void)
{
  static const char script[] = "+$PacketSize=100;QStartNoAckMode-#00" /* bad checksum: '-' is sent */
                               "$PacketSize=100#c1"                    /* the retransmission */
                               "+$S05#b8"                              /* ? */
                               "+$0* 1*!#f6";                          /* m: "0000" "11111" → 4 bytes + 1 */
  g_autoptr(GInputStream) in = g_memory_input_stream_new_from_data (script, sizeof script - 1, NULL);
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();
  g_autoptr(GIOStream) stream = g_simple_io_stream_new (in, out);
  g_autoptr(TbGdbRemote) remote = tb_gdb_remote_new (stream, "scripted");
  g_autoptr(GError) error = NULL;
  guint8 buf[4];
  g_autofree char *sent = NULL;

  g_assert_true (tb_gdb_remote_handshake (remote, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (tb_gdb_remote_get_packet_size (remote), ==, 0x100);
  g_assert_false (tb_gdb_remote_is_no_ack (remote));
  /* "0000" + "1" repeated: 9 characters, not the 8 asked for */
  g_assert_false (tb_gdb_remote_read_memory (remote, 0x20000000, buf, 4, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "got 9 characters"));
  sent = g_strndup (g_memory_output_stream_get_data (G_MEMORY_OUTPUT_STREAM (out)),
                    g_memory_output_stream_get_data_size (G_MEMORY_OUTPUT_STREAM (out)));
  g_assert_true (g_str_has_prefix (sent, "$qSupported:swbreak+;hwbreak+#"));
  g_assert_nonnull (strstr (sent, "-+$?#3f+$m20000000,4#"));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/gdb/scripted", test_scripted);
  g_test_add ("/gdb/memory", Fixture, NULL, setup, test_memory, teardown);
  g_test_add ("/gdb/memory-minimal-server", Fixture, &minimal_options, setup, test_memory, teardown);
  g_test_add ("/gdb/packets-filled", Fixture, NULL, setup, test_packets_filled, teardown);
  g_test_add ("/gdb/registers", Fixture, NULL, setup, test_registers, teardown);
  g_test_add ("/gdb/qemu-like-server", Fixture, NULL, setup, test_qemu_like, teardown);
  g_test_add ("/gdb/reset-monitor", Fixture, NULL, setup, test_reset, teardown);
  g_test_add ("/gdb/reset-aircr", Fixture, &minimal_options, setup, test_reset, teardown);
  g_test_add ("/gdb/provision-byte-for-byte", Fixture, NULL, setup, test_provision_byte_for_byte, teardown);
  g_test_add ("/gdb/provision-minimal-server", Fixture, &minimal_options, setup, test_provision_byte_for_byte,
              teardown);
  g_test_add ("/gdb/tool", Fixture, NULL, setup, test_tool, teardown);
  g_test_add ("/gdb/bad-address", Fixture, NULL, setup, test_bad_address, teardown);
  for (guint i = 0; i < G_N_ELEMENTS (hostile_servers); i++)
    {
      g_autofree char *path = g_strdup_printf ("/gdb/hostile/%s", hostile_servers[i].name);
      g_test_add (path, Fixture, &hostile_servers[i], setup, test_hostile, teardown);
    }
  return g_test_run ();
}
