/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A GDB server (the remote serial protocol's server side) in a thread,
 * listening on a real TCP loopback port or Unix socket, serving a virtual
 * board's memory map the way a server in front of a Cortex-M does: flash,
 * RAM and the system control space (CPUID, DHCSR, DEMCR, AIRCR), the
 * mailbox's command word ringing the SBM, ^C and `c` halting and resuming
 * the core, "monitor reset halt" / "reset run", a register file. Options
 * switch features off (no-ack mode, X, the monitor) and make it hostile
 * (tb-gdb-stub.h). One client at a time, like most servers.
 *
 * A locked board refuses to halt; the stub then reports the stop anyway
 * and keeps serving memory through the board's debug rules (the mailbox
 * stays open), as a server reading memory through the MEM-AP would. */

#include "config.h"

#include "tb-gdb-stub.h"

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-cortex-m.h"
#include "tb-virtual-board.h"

#define STUB_CPUID 0x410fc241u /* Cortex-M4 r0p1 */
#define N_REGS 17              /* r0–r15, xPSR */
#define FLOOD_PACKETS 100000

struct _TbGdbStub {
  TbVirtualBoard *board;
  TbGdbStubOptions options;
  GSocketListener *listener;
  GCancellable *cancellable;
  GThread *thread;
  char *address;
  char *unix_path;
  GMutex lock;
  guint64 packets_by_kind[256];
};

/* One connection. */
typedef struct {
  TbGdbStub *stub;
  GSocketConnection *connection;
  GString *last;                /* the last frame sent, for a '-' */
  gboolean no_ack;
  gboolean stopped;
  gboolean closing;
  guint32 demcr;
  guint32 regs[N_REGS];
} Session;

static gboolean
send_raw (Session *s, const char *data, gsize len)
{
  return g_output_stream_write_all (g_io_stream_get_output_stream (G_IO_STREAM (s->connection)), data, len, NULL,
                                    s->stub->cancellable, NULL);
}

/* Frames @payload, run-length encoding it if asked. */
static void
frame (Session *s, GString *out, const char *payload, gsize len, int checksum_skew)
{
  guint8 sum = 0;
  gsize start;

  g_string_append_c (out, '$');
  start = out->len;
  for (gsize i = 0; i < len;)
    {
      gsize run = 1;
      while (s->stub->options.run_length && i + run < len && payload[i + run] == payload[i] && run < 98)
        run++;
      g_string_append_c (out, payload[i]);
      if (run >= 4)
        {
          guint repeat = (guint) run - 1;
          if (repeat + 29 == '#' || repeat + 29 == '$')
            repeat = 5; /* counts that would read as framing */
          g_string_append_c (out, '*');
          g_string_append_c (out, (char) (repeat + 29));
          i += repeat + 1;
        }
      else
        i++;
    }
  for (gsize i = start; i < out->len; i++)
    sum += (guint8) out->str[i];
  g_string_append_printf (out, "#%02x", (guint8) (sum + checksum_skew));
}

static gboolean
send_packet_skewed (Session *s, const char *payload, int skew)
{
  g_string_truncate (s->last, 0);
  frame (s, s->last, payload, strlen (payload), skew);
  return send_raw (s, s->last->str, s->last->len);
}

static void
hex_append (GString *s, const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    g_string_append_printf (s, "%02x", data[i]);
}

static gboolean
send_console (Session *s, const char *text)
{
  g_autoptr(GString) packet = g_string_new ("O");
  g_autoptr(GString) framed = g_string_new (NULL);

  hex_append (packet, (const guint8 *) text, strlen (text));
  frame (s, framed, packet->str, packet->len, 0);
  return send_raw (s, framed->str, framed->len);
}

static gboolean
send_packet (Session *s, const char *payload)
{
  if (s->stub->options.console && !send_console (s, "stub: working\n"))
    return FALSE;
  return send_packet_skewed (s, payload, 0);
}

static int
hex_value (char c)
{
  return g_ascii_xdigit_value (c);
}

static gboolean
hex_decode (const char *hex, gsize len, guint8 *out)
{
  for (gsize i = 0; i + 1 < len; i += 2)
    {
      int hi = hex_value (hex[i]), lo = hex_value (hex[i + 1]);
      if (hi < 0 || lo < 0)
        return FALSE;
      out[i / 2] = (guint8) (hi << 4 | lo);
    }
  return len % 2 == 0;
}

static guint32
get32 (const guint8 *p)
{
  guint32 v;

  memcpy (&v, p, 4);
  return GUINT32_FROM_LE (v);
}

static void
put32 (guint8 *p, guint32 v)
{
  v = GUINT32_TO_LE (v);
  memcpy (p, &v, 4);
}

static gboolean
is_scs (guint32 address)
{
  return address >= 0xe000e000u && address < 0xe000f000u;
}

/* The system control space registers, a word at a time. */
static gboolean
scs_access (Session *s, guint32 address, guint32 *value, gboolean write)
{
  TbVirtualBoard *board = s->stub->board;

  switch (address)
    {
    case TB_CM_CPUID:
      if (!write)
        *value = STUB_CPUID;
      return TRUE;
    case TB_CM_DHCSR:
      if (!write)
        *value = TB_CM_DHCSR_C_DEBUGEN | TB_CM_DHCSR_S_REGRDY |
                 (tb_virtual_board_is_halted (board) ? TB_CM_DHCSR_S_HALT | TB_CM_DHCSR_C_HALT : 0);
      return TRUE;
    case TB_CM_DEMCR:
      if (write)
        s->demcr = *value;
      else
        *value = s->demcr;
      return TRUE;
    case TB_CM_AIRCR:
      if (!write)
        *value = 0xfa050000u;
      else if ((*value & 0xffff0000u) == TB_CM_AIRCR_VECTKEY && (*value & TB_CM_AIRCR_SYSRESETREQ) != 0)
        {
          if (s->demcr & TB_CM_DEMCR_VC_CORERESET)
            return tb_virtual_board_reset_halt (board, NULL);
          tb_virtual_board_reset (board);
        }
      return TRUE;
    default:
      if (!write)
        *value = 0;
      return TRUE;
    }
}

static gboolean
memory_read (Session *s, guint32 address, guint8 *buf, gsize len)
{
  if (!is_scs (address))
    return tb_virtual_board_debug_read (s->stub->board, address, buf, len, NULL);
  if (address % 4 != 0 || len % 4 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i += 4)
    {
      guint32 v = 0;
      if (!scs_access (s, address + (guint32) i, &v, FALSE))
        return FALSE;
      put32 (buf + i, v);
    }
  return TRUE;
}

static gboolean
memory_write (Session *s, guint32 address, const guint8 *data, gsize len)
{
  guint32 doorbell = TB_BOARD_RAM_BASE + TB_MB_OFF_COMMAND;

  if (is_scs (address))
    {
      if (address % 4 != 0 || len % 4 != 0)
        return FALSE;
      for (gsize i = 0; i < len; i += 4)
        {
          guint32 v = get32 (data + i);
          if (!scs_access (s, address + (guint32) i, &v, TRUE))
            return FALSE;
        }
      return TRUE;
    }
  if (!tb_virtual_board_debug_write (s->stub->board, address, data, len, NULL))
    return FALSE;
  /* the mailbox's command word rings the SBM (which runs once the core does) */
  if (address <= doorbell && doorbell < address + len)
    tb_virtual_board_doorbell (s->stub->board);
  return TRUE;
}

static gboolean
parse_address_length (const char *args, guint32 *address, gsize *len, const char **rest)
{
  char *end = NULL;
  guint64 a = g_ascii_strtoull (args, &end, 16);
  guint64 n;

  if (end == args || *end != ',' || a > G_MAXUINT32)
    return FALSE;
  args = end + 1;
  n = g_ascii_strtoull (args, &end, 16);
  if (end == args || n > 0x10000)
    return FALSE;
  *address = (guint32) a;
  *len = (gsize) n;
  *rest = end;
  return TRUE;
}

static void
stop_core (Session *s)
{
  /* a locked board refuses: the stub reports the stop all the same */
  tb_virtual_board_halt (s->stub->board, NULL);
  s->stopped = TRUE;
}

static void
run_core (Session *s)
{
  s->stopped = FALSE;
  tb_virtual_board_resume (s->stub->board);
}

static char *
monitor (Session *s, const char *hex, gsize len)
{
  g_autofree guint8 *text = g_malloc0 (len / 2 + 1);
  g_autoptr(GError) error = NULL;

  if (!s->stub->options.monitor)
    return g_strdup ("");
  if (!hex_decode (hex, len, text))
    return g_strdup ("E01");
  if (g_strcmp0 ((const char *) text, "reset halt") == 0)
    {
      if (!tb_virtual_board_reset_halt (s->stub->board, &error))
        {
          g_autofree char *line = g_strdup_printf ("%s\n", error->message);
          send_console (s, line);
          return g_strdup ("E01");
        }
      send_console (s, "target halted due to debug-request\n");
      return g_strdup ("OK");
    }
  if (g_strcmp0 ((const char *) text, "reset run") == 0)
    {
      tb_virtual_board_reset (s->stub->board);
      return g_strdup ("OK");
    }
  {
    g_autofree char *line = g_strdup_printf ("unknown command: '%s'\n", (const char *) text);
    send_console (s, line);
  }
  return g_strdup ("OK");
}

/* The answer to one packet, NULL for none. */
static char *
answer (Session *s, const char *payload, gsize len)
{
  const TbGdbStubOptions *o = &s->stub->options;
  guint32 address = 0;
  gsize n = 0;
  const char *rest = NULL;

  if (g_str_has_prefix (payload, "qSupported"))
    {
      GString *features = g_string_new (NULL);
      if (o->packet_size != 0)
        g_string_append_printf (features, "PacketSize=%x;", o->packet_size);
      g_string_append (features, o->no_ack ? "QStartNoAckMode+;" : "");
      g_string_append (features, "swbreak+");
      return g_string_free (features, FALSE);
    }
  if (strcmp (payload, "QStartNoAckMode") == 0)
    return g_strdup (o->no_ack ? "OK" : "");
  if (strcmp (payload, "?") == 0)
    return g_strdup ("S05");
  if (payload[0] == 'm')
    {
      g_autofree guint8 *buf = NULL;
      GString *hex;
      if (!parse_address_length (payload + 1, &address, &n, &rest) || *rest != '\0' ||
          2 * n + 4 > MAX (o->packet_size, TB_GDB_PACKET_SIZE_DEFAULT))
        return g_strdup ("E02");
      buf = g_malloc0 (MAX (n, 1));
      if (!memory_read (s, address, buf, n))
        return g_strdup ("E01");
      hex = g_string_new (NULL);
      hex_append (hex, buf, n);
      return g_string_free (hex, FALSE);
    }
  if (payload[0] == 'M' || (payload[0] == 'X' && o->binary_write))
    {
      g_autofree guint8 *buf = NULL;
      gsize have = 0;
      if (len + 4 > MAX (o->packet_size, TB_GDB_PACKET_SIZE_DEFAULT) ||
          !parse_address_length (payload + 1, &address, &n, &rest) || *rest != ':')
        return g_strdup ("E02");
      rest++;
      buf = g_malloc0 (MAX (n, 1));
      if (payload[0] == 'M')
        {
          if (strlen (rest) != 2 * n || !hex_decode (rest, 2 * n, buf))
            return g_strdup ("E02");
          have = n;
        }
      else
        for (const char *p = rest; p < payload + len; p++)
          {
            guint8 b = (guint8) *p;
            if (b == '}')
              {
                if (++p == payload + len)
                  return g_strdup ("E02");
                b = (guint8) *p ^ 0x20;
              }
            if (have == n)
              return g_strdup ("E02");
            buf[have++] = b;
          }
      if (have != n)
        return g_strdup ("E02");
      return g_strdup (memory_write (s, address, buf, n) ? "OK" : "E01");
    }
  if (strcmp (payload, "c") == 0)
    {
      run_core (s);
      return NULL;
    }
  if (strcmp (payload, "g") == 0)
    {
      GString *hex = g_string_new (NULL);
      for (guint i = 0; i < N_REGS; i++)
        {
          guint8 b[4];
          put32 (b, s->regs[i]);
          hex_append (hex, b, 4);
        }
      return g_string_free (hex, FALSE);
    }
  if ((payload[0] == 'p' || payload[0] == 'P') && o->no_p)
    return g_strdup ("");
  if (payload[0] == 'G')
    {
      guint8 b[N_REGS * 4];
      if (len != 1 + 2 * sizeof b || !hex_decode (payload + 1, 2 * sizeof b, b))
        return g_strdup ("E00");
      for (guint i = 0; i < N_REGS; i++)
        s->regs[i] = get32 (b + 4 * i);
      return g_strdup ("OK");
    }
  if (payload[0] == 'p')
    {
      guint64 r = g_ascii_strtoull (payload + 1, NULL, 16);
      guint8 b[4];
      GString *hex;
      if (r >= N_REGS)
        return g_strdup ("E00");
      put32 (b, s->regs[r]);
      hex = g_string_new (NULL);
      hex_append (hex, b, 4);
      return g_string_free (hex, FALSE);
    }
  if (payload[0] == 'P')
    {
      char *end = NULL;
      guint64 r = g_ascii_strtoull (payload + 1, &end, 16);
      guint8 b[4];
      if (r >= N_REGS || *end != '=' || strlen (end + 1) != 8 || !hex_decode (end + 1, 8, b))
        return g_strdup ("E00");
      s->regs[r] = get32 (b);
      return g_strdup ("OK");
    }
  if (g_str_has_prefix (payload, "qRcmd,"))
    return monitor (s, payload + 6, len - 6);
  if (strcmp (payload, "D") == 0)
    {
      run_core (s);
      s->closing = TRUE;
      return g_strdup ("OK");
    }
  if (strcmp (payload, "k") == 0)
    {
      s->closing = TRUE;
      return NULL;
    }
  return g_strdup ("");
}

/* Answers as the options' fault says. */
static void
answer_hostile (Session *s, const char *reply)
{
  switch (s->stub->options.fault)
    {
    case TB_GDB_STUB_FAULT_BAD_CHECKSUM:
      send_packet_skewed (s, reply, 1);
      break;
    case TB_GDB_STUB_FAULT_WRONG_LENGTH:
      {
        g_autofree char *shorter = g_strndup (reply, strlen (reply) >= 2 ? strlen (reply) - 2 : 0);
        send_packet (s, shorter);
      }
      break;
    case TB_GDB_STUB_FAULT_CONSOLE_FLOOD:
      for (guint i = 0; i < FLOOD_PACKETS && send_console (s, "flood\n"); i++)
        ;
      s->closing = TRUE;
      break;
    case TB_GDB_STUB_FAULT_DISCONNECT:
      {
        g_autoptr(GString) framed = g_string_new (NULL);
        frame (s, framed, reply, strlen (reply), 0);
        send_raw (s, framed->str, framed->len / 2);
        s->closing = TRUE;
      }
      break;
    case TB_GDB_STUB_FAULT_GARBAGE:
      {
        char junk[1024];
        memset (junk, 'x', sizeof junk);
        for (guint i = 0; i < 64 && send_raw (s, junk, sizeof junk); i++)
          ;
      }
      break;
    case TB_GDB_STUB_FAULT_BAD_RUN_LENGTH:
      send_raw (s, "$0*\001#5b", 8); /* '0' + '*' + 1 */
      break;
    case TB_GDB_STUB_FAULT_SILENT:
    case TB_GDB_STUB_FAULT_NONE:
      break;
    }
}

static void
handle_packet (Session *s, const char *payload, gsize len)
{
  const TbGdbStubOptions *o = &s->stub->options;
  g_autofree char *reply = NULL;
  gboolean enter_no_ack = strcmp (payload, "QStartNoAckMode") == 0 && o->no_ack;

  g_mutex_lock (&s->stub->lock);
  s->stub->packets_by_kind[(guint8) payload[0]]++;
  g_mutex_unlock (&s->stub->lock);
  reply = answer (s, payload, len);
  if (reply != NULL && o->fault != TB_GDB_STUB_FAULT_NONE && payload[0] == (o->fault_on != 0 ? o->fault_on : 'm'))
    answer_hostile (s, reply);
  else if (reply != NULL)
    send_packet (s, reply);
  if (enter_no_ack)
    s->no_ack = TRUE;
}

static gboolean
read_byte (Session *s, guint8 *buf, gsize *pos, gsize *len, guint8 *c)
{
  if (*pos == *len)
    {
      gssize n = g_input_stream_read (g_io_stream_get_input_stream (G_IO_STREAM (s->connection)), buf, 4096,
                                      s->stub->cancellable, NULL);
      if (n <= 0)
        return FALSE;
      *pos = 0;
      *len = (gsize) n;
    }
  *c = buf[(*pos)++];
  return TRUE;
}

static void
serve (TbGdbStub *stub, GSocketConnection *connection)
{
  Session s = { stub, connection, g_string_new (NULL), FALSE, FALSE, FALSE, 0, { 0 } };
  g_autoptr(GString) payload = g_string_new (NULL);
  guint8 buf[4096];
  gsize pos = 0, len = 0;
  guint8 c = 0;
  gboolean greeted = FALSE;

  s.regs[15] = TB_BOARD_FLASH_BASE + 0x8000u;
  s.regs[16] = 0x01000000u;
  stop_core (&s); /* attaching stops the core */
  while (!s.closing && read_byte (&s, buf, &pos, &len, &c))
    {
      guint8 sum = 0, hi = 0, lo = 0;

      if (c == '\003')
        {
          if (!s.stopped)
            {
              stop_core (&s);
              send_packet (&s, "T02");
            }
          continue;
        }
      if (c == '-')
        {
          send_raw (&s, s.last->str, s.last->len);
          continue;
        }
      if (c != '$')
        continue;
      g_string_truncate (payload, 0);
      while (read_byte (&s, buf, &pos, &len, &c) && c != '#')
        {
          g_string_append_c (payload, (char) c);
          sum += c;
        }
      if (c != '#' || !read_byte (&s, buf, &pos, &len, &hi) || !read_byte (&s, buf, &pos, &len, &lo))
        break;
      if (hex_value ((char) hi) * 16 + hex_value ((char) lo) != sum)
        {
          if (!s.no_ack)
            send_raw (&s, "-", 1);
          continue;
        }
      if (stub->options.stale_stop && !greeted)
        send_packet_skewed (&s, "T02thread:01;", 0);
      greeted = TRUE;
      if (!s.no_ack)
        send_raw (&s, "+", 1);
      handle_packet (&s, payload->str, payload->len);
    }
  /* a client gone without detaching leaves the core as it was */
  g_io_stream_close (G_IO_STREAM (connection), NULL, NULL);
  g_string_free (s.last, TRUE);
}

static gpointer
stub_thread (gpointer data)
{
  TbGdbStub *stub = data;

  while (!g_cancellable_is_cancelled (stub->cancellable))
    {
      g_autoptr(GSocketConnection) connection =
        g_socket_listener_accept (stub->listener, NULL, stub->cancellable, NULL);
      if (connection == NULL)
        break;
      if (g_socket_get_family (g_socket_connection_get_socket (connection)) != G_SOCKET_FAMILY_UNIX)
        g_socket_set_option (g_socket_connection_get_socket (connection), IPPROTO_TCP, TCP_NODELAY, 1, NULL);
      serve (stub, connection);
    }
  return NULL;
}

/**
 * tb_gdb_stub_new:
 * @unix_path: (nullable): listen on this Unix socket, else on a free TCP
 *   port of 127.0.0.1
 *
 * Starts serving @board.
 */
TbGdbStub *
tb_gdb_stub_new (TbVirtualBoard *board, const TbGdbStubOptions *options, const char *unix_path, GError **error)
{
  g_autoptr(GSocketAddress) address = NULL;
  g_autoptr(GSocketAddress) effective = NULL;
  TbGdbStub *stub = g_new0 (TbGdbStub, 1);

  stub->board = g_object_ref (board);
  stub->options = *options;
  g_mutex_init (&stub->lock);
  stub->listener = g_socket_listener_new ();
  stub->cancellable = g_cancellable_new ();
  if (unix_path != NULL)
    address = g_unix_socket_address_new (unix_path);
  else
    {
      g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
      address = g_inet_socket_address_new (loopback, 0);
    }
  if (!g_socket_listener_add_address (stub->listener, address, G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_DEFAULT, NULL,
                                      &effective, error))
    {
      tb_gdb_stub_free (stub);
      return NULL;
    }
  if (unix_path != NULL)
    {
      stub->unix_path = g_strdup (unix_path);
      stub->address = g_strconcat ("unix:", unix_path, NULL);
    }
  else
    stub->address = g_strdup_printf ("127.0.0.1:%u", g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (effective)));
  stub->thread = g_thread_new ("gdb-stub", stub_thread, stub);
  return stub;
}

void
tb_gdb_stub_free (TbGdbStub *stub)
{
  if (stub == NULL)
    return;
  g_cancellable_cancel (stub->cancellable);
  if (stub->thread != NULL)
    g_thread_join (stub->thread);
  g_socket_listener_close (stub->listener);
  if (stub->unix_path != NULL)
    g_unlink (stub->unix_path);
  g_object_unref (stub->listener);
  g_object_unref (stub->cancellable);
  g_object_unref (stub->board);
  g_free (stub->address);
  g_free (stub->unix_path);
  g_mutex_clear (&stub->lock);
  g_free (stub);
}

/**
 * tb_gdb_stub_get_address:
 *
 * Returns: what follows `gdb:` in the URI: `127.0.0.1:PORT` or `unix:PATH`
 */
const char *
tb_gdb_stub_get_address (TbGdbStub *stub)
{
  return stub->address;
}

/**
 * tb_gdb_stub_get_packets_of_kind:
 * @kind: the packets' first character ('X', 'm', 'c'…)
 *
 * Returns: how many such packets the stub received
 */
guint64
tb_gdb_stub_get_packets_of_kind (TbGdbStub *stub, char kind)
{
  guint64 n;

  g_mutex_lock (&stub->lock);
  n = stub->packets_by_kind[(guint8) kind];
  g_mutex_unlock (&stub->lock);
  return n;
}
