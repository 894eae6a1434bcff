/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A GDB server (QEMU's gdbstub, OpenOCD, pyOCD, a J-Link GDB server) as a
 * TbProbe: `gdb:HOST:PORT` or `gdb:unix:PATH`, the protocol in
 * tb-gdb-remote.c.
 *
 * The server only touches memory while the core is stopped, but the SBM
 * behind the mailbox has to run to answer: so the probe keeps the core
 * running between requests (connecting starts it, as powering a board up
 * does), and stops it around each memory access, letting it run again
 * afterwards. Only tb_probe_halt() and a reset with halt leave it stopped.
 *
 * Reset asks the server's monitor ("reset halt" / "reset run", QEMU's
 * "system_reset") and falls back to AIRCR.SYSRESETREQ written through
 * memory (with DEMCR's reset vector catch for a halt) where the server has
 * no such command. (QEMU ignores debugger writes to the system control
 * space, so its monitor is the only way there.) */

#include "config.h"

#include "tb-gdb-probe.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gi18n-lib.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "tb-cortex-m.h"
#include "tb-error.h"

/* How long closing waits for the server to let the target go. */
#define DETACH_TIMEOUT_MS 1000u
/* Memory moved per stop of the core: many full packets per ^C and `c`. */
#define GDB_BLOCK_SIZE (64u * 1024u)

struct _TbGdbProbe {
  TbProbe parent_instance;

  TbGdbRemote *remote;
  guint32 cpuid;
  gboolean keep_running;        /* the core runs between requests */
  int reset_method;             /* -1 not known yet, a monitor_resets index, or past them: AIRCR */
};

G_DEFINE_FINAL_TYPE (TbGdbProbe, tb_gdb_probe, TB_TYPE_PROBE)

/* Stops the core for an access, if it runs. */
static gboolean
stop_for_access (TbGdbProbe *self, GError **error)
{
  return tb_gdb_remote_interrupt (self->remote, error);
}

/* Lets it run again after the access, keeping the access's error first. */
static gboolean
end_access (TbGdbProbe *self, gboolean ok, GError **error)
{
  if (!self->keep_running)
    return ok;
  if (!ok)
    {
      tb_gdb_remote_continue (self->remote, NULL);
      return FALSE;
    }
  return tb_gdb_remote_continue (self->remote, error);
}

static gboolean
gdb_read (TbProbe *probe, guint32 address, guint8 *buf, gsize len, GError **error)
{
  TbGdbProbe *self = TB_GDB_PROBE (probe);

  if (!stop_for_access (self, error))
    return FALSE;
  return end_access (self, tb_gdb_remote_read_memory (self->remote, address, buf, len, error), error);
}

static gboolean
gdb_write (TbProbe *probe, guint32 address, const guint8 *data, gsize len, GError **error)
{
  TbGdbProbe *self = TB_GDB_PROBE (probe);

  if (!stop_for_access (self, error))
    return FALSE;
  return end_access (self, tb_gdb_remote_write_memory (self->remote, address, data, len, error), error);
}

static gboolean
write_word (TbGdbRemote *remote, guint32 address, guint32 value, GError **error)
{
  guint32 le = GUINT32_TO_LE (value);

  return tb_gdb_remote_write_memory (remote, address, (const guint8 *) &le, 4, error);
}

static gboolean
read_word (TbGdbRemote *remote, guint32 address, guint32 *value, GError **error)
{
  if (!tb_gdb_remote_read_memory (remote, address, (guint8 *) value, 4, error))
    return FALSE;
  *value = GUINT32_FROM_LE (*value);
  return TRUE;
}

/* A monitor answer that reads like a refusal of the command itself. */
static gboolean
output_is_refusal (const char *output)
{
  g_autofree char *lower = g_ascii_strdown (output != NULL ? output : "", -1);

  return strstr (lower, "unknown") != NULL || strstr (lower, "invalid") != NULL ||
         strstr (lower, "not supported") != NULL || strstr (lower, "unrecognized") != NULL;
}

/* Monitor commands that reset the target, halted or running: OpenOCD's
 * and pyOCD's, then QEMU's (its VM stays stopped while the debugger has it
 * stopped, so one command serves both). */
static const char *const monitor_resets[][2] = {
  { "reset halt", "reset run" },
  { "system_reset", "system_reset" },
};

static gboolean
monitor_reset (TbGdbProbe *self, gboolean halt, gboolean *done, GError **error)
{
  *done = FALSE;
  for (guint i = MAX (self->reset_method, 0); i < G_N_ELEMENTS (monitor_resets); i++)
    {
      g_autofree char *output = NULL;
      gboolean supported = FALSE;
      if (!tb_gdb_remote_monitor (self->remote, monitor_resets[i][halt ? 0 : 1], &supported, &output, error))
        return FALSE;
      if (supported && !output_is_refusal (output))
        {
          self->reset_method = (int) i;
          *done = TRUE;
          return TRUE;
        }
    }
  self->reset_method = G_N_ELEMENTS (monitor_resets); /* AIRCR from now on */
  return TRUE;
}

/* System reset through the core's own registers. */
static gboolean
aircr_reset (TbGdbProbe *self, gboolean halt, GError **error)
{
  guint32 demcr = 0;

  if (!read_word (self->remote, TB_CM_DEMCR, &demcr, error))
    return FALSE;
  if (halt && (!write_word (self->remote, TB_CM_DHCSR, TB_CM_DHCSR_DBGKEY | TB_CM_DHCSR_C_DEBUGEN, error) ||
               !write_word (self->remote, TB_CM_DEMCR, demcr | TB_CM_DEMCR_VC_CORERESET, error)))
    return FALSE;
  if (!write_word (self->remote, TB_CM_AIRCR, TB_CM_AIRCR_VECTKEY | TB_CM_AIRCR_SYSRESETREQ, error))
    return FALSE;
  return !halt || write_word (self->remote, TB_CM_DEMCR, demcr & ~TB_CM_DEMCR_VC_CORERESET, error);
}

static gboolean
gdb_reset (TbProbe *probe, gboolean halt, GError **error)
{
  TbGdbProbe *self = TB_GDB_PROBE (probe);
  gboolean done = FALSE;

  if (!tb_gdb_remote_interrupt (self->remote, error) || !monitor_reset (self, halt, &done, error) ||
      (!done && !aircr_reset (self, halt, error)))
    return FALSE;
  self->keep_running = !halt;
  return halt || tb_gdb_remote_continue (self->remote, error);
}

static gboolean
gdb_halt (TbProbe *probe, GError **error)
{
  TbGdbProbe *self = TB_GDB_PROBE (probe);

  if (!tb_gdb_remote_interrupt (self->remote, error))
    return FALSE;
  self->keep_running = FALSE;
  return TRUE;
}

static gboolean
gdb_resume (TbProbe *probe, GError **error)
{
  TbGdbProbe *self = TB_GDB_PROBE (probe);

  self->keep_running = TRUE;
  return tb_gdb_remote_continue (self->remote, error);
}

static void
tb_gdb_probe_finalize (GObject *object)
{
  TbGdbProbe *self = TB_GDB_PROBE (object);

  if (self->remote != NULL)
    {
      tb_gdb_remote_set_timeout (self->remote, DETACH_TIMEOUT_MS);
      tb_gdb_remote_detach (self->remote, NULL);
    }
  g_clear_pointer (&self->remote, tb_gdb_remote_free);
  G_OBJECT_CLASS (tb_gdb_probe_parent_class)->finalize (object);
}

static void
tb_gdb_probe_class_init (TbGdbProbeClass *klass)
{
  TbProbeClass *probe_class = TB_PROBE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = tb_gdb_probe_finalize;
  probe_class->read_memory = gdb_read;
  probe_class->write_memory = gdb_write;
  probe_class->reset = gdb_reset;
  probe_class->halt = gdb_halt;
  probe_class->resume = gdb_resume;
}

static void
tb_gdb_probe_init (TbGdbProbe *self)
{
  self->reset_method = -1;
}

/**
 * tb_gdb_probe_new_for_stream:
 * @stream: a connection to a GDB server
 * @address: its address as in the URI (`HOST:PORT`, `unix:PATH`)
 *
 * Talks to the server (qSupported, no-ack mode), reads the core's CPUID
 * and lets the core run.
 */
TbProbe *
tb_gdb_probe_new_for_stream (GIOStream *stream, const char *address, GError **error)
{
  g_autoptr(TbGdbRemote) remote = tb_gdb_remote_new (stream, address);
  g_autoptr(TbGdbProbe) self = NULL;
  g_autofree char *uri = g_strconcat ("gdb:", address, NULL);
  g_autofree char *description = NULL;
  guint32 cpuid = 0;

  if (!tb_gdb_remote_handshake (remote, error) || !read_word (remote, TB_CM_CPUID, &cpuid, error))
    return NULL;
  description = g_strdup_printf (_("GDB server %s"), address);
  self = g_object_new (TB_TYPE_GDB_PROBE, "uri", uri, "kind", "gdb", "serial", address, "description", description,
                       NULL);
  self->remote = g_steal_pointer (&remote);
  self->cpuid = cpuid;
  self->keep_running = TRUE;
  tb_probe_set_block_size (TB_PROBE (self), GDB_BLOCK_SIZE);
  if (!tb_gdb_remote_continue (self->remote, error))
    return NULL;
  return TB_PROBE (g_steal_pointer (&self));
}

/**
 * tb_gdb_probe_open:
 * @address: `HOST:PORT` or `unix:PATH` (the URI without `gdb:`)
 *
 * Connects to a GDB server.
 */
TbProbe *
tb_gdb_probe_open (const char *address, GError **error)
{
  g_autoptr(GSocketConnectable) connectable = NULL;
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) local = NULL;

  if (g_str_has_prefix (address, "unix:") && address[5] != '\0')
    connectable = G_SOCKET_CONNECTABLE (g_unix_socket_address_new (address + 5));
  else if (!g_str_has_prefix (address, "unix:"))
    {
      connectable = g_network_address_parse (address, 0, NULL);
      if (connectable != NULL && g_network_address_get_port (G_NETWORK_ADDRESS (connectable)) == 0)
        g_clear_object (&connectable);
    }
  if (connectable == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("“gdb:%s” is not a GDB server address: expected gdb:HOST:PORT or gdb:unix:PATH"), address);
      return NULL;
    }
  g_socket_client_set_timeout (client, (TB_GDB_TIMEOUT_MS_DEFAULT + 999) / 1000);
  connection = g_socket_client_connect (client, connectable, NULL, &local);
  if (connection == NULL)
    {
      g_set_error (error, TB_ERROR, g_error_matches (local, G_IO_ERROR, G_IO_ERROR_NOT_FOUND) ? TB_ERROR_NOT_FOUND
                                                                                              : TB_ERROR_FAILED,
                   _("Cannot connect to the GDB server %s: %s"), address, local->message);
      return NULL;
    }
  /* packets are small and each waits for an answer: no Nagle delay */
  if (g_socket_get_family (g_socket_connection_get_socket (connection)) != G_SOCKET_FAMILY_UNIX)
    g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
  return tb_gdb_probe_new_for_stream (G_IO_STREAM (connection), address, error);
}

/**
 * tb_gdb_probe_get_remote:
 *
 * Returns: (transfer none): the protocol client
 */
TbGdbRemote *
tb_gdb_probe_get_remote (TbGdbProbe *self)
{
  return self->remote;
}

guint32
tb_gdb_probe_get_cpuid (TbGdbProbe *self)
{
  return self->cpuid;
}

/**
 * tb_gdb_probe_has_monitor_reset:
 *
 * Returns: whether the last reset went through the server's monitor
 *   (FALSE: through AIRCR, or no reset yet)
 */
gboolean
tb_gdb_probe_has_monitor_reset (TbGdbProbe *self)
{
  return self->reset_method >= 0 && self->reset_method < (int) G_N_ELEMENTS (monitor_resets);
}

/**
 * tb_gdb_probe_describe:
 *
 * One line for people: the server's packet size and acks, and the core.
 *
 * Returns: (transfer full): the description
 */
char *
tb_gdb_probe_describe (TbGdbProbe *self)
{
  return g_strdup_printf (_("GDB server · PacketSize %zu · %s · %s (CPUID 0x%08x)"),
                          tb_gdb_remote_get_packet_size (self->remote),
                          tb_gdb_remote_is_no_ack (self->remote) ? _("no-ack mode") : _("acknowledged packets"),
                          tb_cortex_m_core_name (self->cpuid), self->cpuid);
}
