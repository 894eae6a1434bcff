/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A client of the GDB remote serial protocol (docs/probes.md): packets
 * `$payload#cs` with their checksums and +/- acknowledgements (until the
 * server accepts QStartNoAckMode), run-length encoded replies, binary X
 * writes escaped and chunked to the server's PacketSize, O packets
 * (console output) skipped, stop replies, ^C.
 *
 * Everything the server sends is bounded before it is kept: a packet's raw
 * and decoded lengths, the bytes of garbage between packets, the number of
 * console packets and retransmissions, and the time: each exchange has one
 * deadline (the timeout), so a server that trickles bytes, floods console
 * deadline (the timeout), so a server that trickles bytes, floods console
 * output or never answers ends in a TB_ERROR within that time.
 *
 * This file: the connection, packets, the exchange of a command, the
 * handshake and run control. Memory, registers and monitor commands are
 * in tb-gdb-remote-target.c. */

#include "config.h"

#include "tb-gdb-remote-private.h"

#include <stdarg.h>
#include <string.h>

#include <glib/gi18n-lib.h>

#include "tb-error.h"

/* Largest packet kept, before and after run-length decoding. */
#define MAX_RAW (2 * TB_GDB_PACKET_SIZE_MAX + 64)
#define MAX_DECODED (2 * TB_GDB_PACKET_SIZE_MAX + 64)
/* Bytes that are not part of a packet tolerated while waiting for one. */
#define MAX_GARBAGE 4096
/* Console (O) packets tolerated in the answer to one command. */
#define MAX_CONSOLE_PACKETS 256
/* Stale packets taken while waiting for an acknowledgement. */
#define MAX_STALE_PACKETS 16
/* Retransmissions (a '-' from the server, a bad checksum from it). */
#define MAX_RETRIES 3

/**
 * tb_gdb_remote_new:
 * @stream: a connection to the server (a #GSocketConnection, or any stream)
 * @peer: how to name the server in messages ("localhost:1234")
 */
TbGdbRemote *
tb_gdb_remote_new (GIOStream *stream, const char *peer)
{
  TbGdbRemote *self = g_new0 (TbGdbRemote, 1);

  self->stream = g_object_ref (stream);
  if (G_IS_SOCKET_CONNECTION (stream))
    self->socket = g_object_ref (g_socket_connection_get_socket (G_SOCKET_CONNECTION (stream)));
  self->peer = g_strdup (peer);
  self->timeout_ms = TB_GDB_TIMEOUT_MS_DEFAULT;
  self->packet_size = TB_GDB_PACKET_SIZE_DEFAULT;
  self->x_supported = -1;
  self->features = g_strdup ("");
  return self;
}

void
tb_gdb_remote_free (TbGdbRemote *self)
{
  if (self == NULL)
    return;
  g_io_stream_close (self->stream, NULL, NULL);
  g_clear_object (&self->socket);
  g_clear_object (&self->stream);
  g_free (self->peer);
  g_free (self->features);
  g_free (self);
}

void
tb_gdb_remote_set_timeout (TbGdbRemote *self, guint timeout_ms)
{
  self->timeout_ms = MAX (timeout_ms, 1u);
}

const char *
tb_gdb_remote_get_features (TbGdbRemote *self)
{
  return self->features;
}

gsize
tb_gdb_remote_get_packet_size (TbGdbRemote *self)
{
  return self->packet_size;
}

gboolean
tb_gdb_remote_is_no_ack (TbGdbRemote *self)
{
  return self->no_ack;
}

/**
 * tb_gdb_remote_get_packets:
 *
 * Returns: packets sent so far (retransmissions included)
 */
guint64
tb_gdb_remote_get_packets (TbGdbRemote *self)
{
  return self->packets;
}

gboolean
tb_gdb_remote_is_running (TbGdbRemote *self)
{
  return self->running;
}

void
tb_gdb_remote_fail (TbGdbRemote *self, GError **error, int code, const char *format, ...)
{
  g_autofree char *what = NULL;
  va_list args;

  va_start (args, format);
  what = g_strdup_vprintf (format, args);
  va_end (args);
  g_set_error (error, TB_ERROR, code, _("GDB server %s, answering “%s”: %s"), self->peer, self->current, what);
}

static gint64
deadline_from_now (TbGdbRemote *self)
{
  return g_get_monotonic_time () + (gint64) self->timeout_ms * 1000;
}

/* Fills the receive buffer with what the server sent, waiting at most until
 * @deadline. */
static gboolean
fill (TbGdbRemote *self, gint64 deadline, GError **error)
{
  g_autoptr(GError) local = NULL;
  gssize n;

  if (self->socket != NULL)
    {
      gint64 remaining = deadline - g_get_monotonic_time ();
      if (remaining <= 0 || !g_socket_condition_timed_wait (self->socket, G_IO_IN, remaining, NULL, &local))
        {
          if (local != NULL && !g_error_matches (local, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
            tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, "%s", local->message);
          else
            tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("no answer within %u ms"), self->timeout_ms);
          return FALSE;
        }
      n = g_socket_receive (self->socket, (char *) self->rx, sizeof self->rx, NULL, &local);
    }
  else
    {
      if (g_get_monotonic_time () > deadline)
        {
          tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("no answer within %u ms"), self->timeout_ms);
          return FALSE;
        }
      n = g_input_stream_read (g_io_stream_get_input_stream (self->stream), self->rx, sizeof self->rx, NULL, &local);
    }
  if (n < 0)
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, "%s", local->message);
      return FALSE;
    }
  if (n == 0)
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("the server closed the connection"));
      return FALSE;
    }
  self->rx_pos = 0;
  self->rx_len = (gsize) n;
  return TRUE;
}

static gboolean
read_byte (TbGdbRemote *self, gint64 deadline, guint8 *c, GError **error)
{
  if (self->rx_pos == self->rx_len && !fill (self, deadline, error))
    return FALSE;
  *c = self->rx[self->rx_pos++];
  return TRUE;
}

static gboolean
write_raw (TbGdbRemote *self, const void *data, gsize len, GError **error)
{
  g_autoptr(GError) local = NULL;

  if (!g_output_stream_write_all (g_io_stream_get_output_stream (self->stream), data, len, NULL, NULL, &local))
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("cannot send: %s"), local->message);
      return FALSE;
    }
  return TRUE;
}

static int
hex_value (guint8 c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

gboolean
tb_gdb_remote_is_hex (const char *s, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (hex_value ((guint8) s[i]) < 0)
      return FALSE;
  return TRUE;
}

/* Hex digits to bytes; @hex is known to be hex, @len even. */
void
tb_gdb_remote_hex_decode (const char *hex, gsize len, guint8 *out)
{
  for (gsize i = 0; i + 1 < len; i += 2)
    out[i / 2] = (guint8) (hex_value ((guint8) hex[i]) << 4 | hex_value ((guint8) hex[i + 1]));
}

void
tb_gdb_remote_hex_append (GString *s, const guint8 *data, gsize len)
{
  static const char digits[] = "0123456789abcdef";

  for (gsize i = 0; i < len; i++)
    {
      g_string_append_c (s, digits[data[i] >> 4]);
      g_string_append_c (s, digits[data[i] & 15]);
    }
}

/* The raw payload between '$' and '#' after run-length decoding and
 * unescaping. */
static gboolean
decode_payload (TbGdbRemote *self, const GString *raw, GString *out, GError **error)
{
  g_string_truncate (out, 0);
  for (gsize i = 0; i < raw->len; i++)
    {
      guint8 c = (guint8) raw->str[i];
      if (c == '}')
        {
          if (++i == raw->len)
            {
              tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("escape character at the end of a packet"));
              return FALSE;
            }
          g_string_append_c (out, (char) ((guint8) raw->str[i] ^ 0x20));
        }
      else if (c == '*')
        {
          guint8 n = i + 1 < raw->len ? (guint8) raw->str[i + 1] : 0;
          if (out->len == 0 || n < ' ' || n > '~')
            {
              tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("bad run length at offset %" G_GSIZE_FORMAT), i);
              return FALSE;
            }
          if (out->len + (n - 29u) > MAX_DECODED)
            break; /* caught below */
          for (guint r = 0; r < n - 29u; r++)
            g_string_append_c (out, out->str[out->len - 1]);
          i++;
        }
      else
        g_string_append_c (out, (char) c);
      if (out->len > MAX_DECODED)
        break;
    }
  if (out->len > MAX_DECODED)
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("a packet longer than %u bytes"), (guint) MAX_DECODED);
      return FALSE;
    }
  return TRUE;
}

/* Receives one packet ($…#cs), acknowledging it, asking for a
 * retransmission of a damaged one while acks are on. */
static gboolean
receive_packet (TbGdbRemote *self, gint64 deadline, GString *payload, GError **error)
{
  g_autoptr(GString) raw = g_string_new (NULL);
  guint garbage = 0, retries = 0;

  for (;;)
    {
      guint8 c = 0, sum = 0, hi = 0, lo = 0;
      int expected;

      /* the start of a packet */
      do
        {
          if (!read_byte (self, deadline, &c, error))
            return FALSE;
          if (c != '$' && c != '+' && ++garbage > MAX_GARBAGE)
            {
              tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("more than %u bytes that are not a packet"),
                    (guint) MAX_GARBAGE);
              return FALSE;
            }
        }
      while (c != '$');
      g_string_truncate (raw, 0);
      for (;;)
        {
          if (!read_byte (self, deadline, &c, error))
            return FALSE;
          if (c == '#')
            break;
          if (raw->len == MAX_RAW)
            {
              tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("a packet longer than %u bytes"), (guint) MAX_RAW);
              return FALSE;
            }
          sum += c;
          g_string_append_c (raw, (char) c);
        }
      if (!read_byte (self, deadline, &hi, error) || !read_byte (self, deadline, &lo, error))
        return FALSE;
      expected = hex_value (hi) < 0 || hex_value (lo) < 0 ? -1 : hex_value (hi) << 4 | hex_value (lo);
      if (expected == sum)
        break;
      if (self->no_ack || ++retries > MAX_RETRIES)
        {
          tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA,
                _("bad checksum on a %" G_GSIZE_FORMAT "-byte packet: computed %02x, packet says “%c%c”"), raw->len,
                sum, g_ascii_isprint (hi) ? hi : '?', g_ascii_isprint (lo) ? lo : '?');
          return FALSE;
        }
      if (!write_raw (self, "-", 1, error))
        return FALSE;
    }
  g_debug ("GDB server %s -> $%.*s", self->peer, (int) MIN (raw->len, 64), raw->str);
  if (!self->no_ack && !write_raw (self, "+", 1, error))
    return FALSE;
  return decode_payload (self, raw, payload, error);
}

/* Sends one packet, @payload already escaped; with acks on, waits for the
 * '+' and retransmits on '-'. */
static gboolean
send_packet (TbGdbRemote *self, const char *payload, gsize len, gint64 deadline, GError **error)
{
  g_autoptr(GString) frame = g_string_sized_new (len + 4);
  guint8 sum = 0;

  for (gsize i = 0; i < len; i++)
    sum += (guint8) payload[i];
  g_string_append_c (frame, '$');
  g_string_append_len (frame, payload, (gssize) len);
  g_string_append_printf (frame, "#%02x", sum);
  for (guint attempt = 0;; attempt++)
    {
      guint garbage = 0, stale_packets = 0;
      guint8 c = 0;

      g_debug ("GDB server %s <- %.*s", self->peer, (int) MIN (frame->len, 64), frame->str);
      if (!write_raw (self, frame->str, frame->len, error))
        return FALSE;
      self->packets++;
      if (self->no_ack)
        return TRUE;
      do
        {
          if (!read_byte (self, deadline, &c, error))
            return FALSE;
          if (c == '$')
            {
              /* a stale packet (QEMU sends a stop reply to a new client of a
               * running target): taken and acknowledged, as GDB does */
              g_autoptr(GString) stale = g_string_new (NULL);
              if (++stale_packets > MAX_STALE_PACKETS)
                {
                  tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("packets instead of an acknowledgement"));
                  return FALSE;
                }
              self->rx_pos--;
              if (!receive_packet (self, deadline, stale, error))
                return FALSE;
              g_debug ("GDB server %s: stale packet before the acknowledgement", self->peer);
              continue;
            }
          if (c != '+' && c != '-' && ++garbage > MAX_GARBAGE)
            {
              tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("more than %u bytes that are not an acknowledgement"),
                    (guint) MAX_GARBAGE);
              return FALSE;
            }
        }
      while (c != '+' && c != '-');
      if (c == '+')
        return TRUE;
      if (attempt == MAX_RETRIES)
        {
          tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("the server refused the packet %u times"), MAX_RETRIES + 1);
          return FALSE;
        }
    }
}

static void
set_current (TbGdbRemote *self, const char *payload, gsize len)
{
  gsize n = MIN (len, sizeof self->current - 1);

  for (gsize i = 0; i < n; i++)
    self->current[i] = g_ascii_isprint (payload[i]) ? payload[i] : '.';
  self->current[n] = '\0';
  if (len > n && n > 3)
    memcpy (self->current + n - 3, "...", 3);
}

static gboolean
is_console_packet (const GString *reply)
{
  return reply->len > 1 && reply->str[0] == 'O' && (reply->len - 1) % 2 == 0 && tb_gdb_remote_is_hex (reply->str + 1, reply->len - 1);
}

/* Receives the answer to a command, skipping console packets (logged, or
 * collected into @console). */
static gboolean
receive_reply (TbGdbRemote *self, gint64 deadline, GString *reply, GString *console, GError **error)
{
  for (guint n = 0;; n++)
    {
      if (!receive_packet (self, deadline, reply, error))
        return FALSE;
      if (!is_console_packet (reply))
        return TRUE;
      if (n == MAX_CONSOLE_PACKETS)
        {
          tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("more than %u console output packets"), MAX_CONSOLE_PACKETS);
          return FALSE;
        }
      {
        gsize bytes = (reply->len - 1) / 2;
        g_autofree guint8 *text = g_malloc (bytes + 1);
        tb_gdb_remote_hex_decode (reply->str + 1, reply->len - 1, text);
        text[bytes] = '\0';
        if (console != NULL && console->len + bytes <= MAX_MONITOR_OUTPUT)
          g_string_append_len (console, (const char *) text, (gssize) bytes);
        else if (console == NULL)
          g_debug ("GDB server %s console: %s", self->peer, (const char *) text);
      }
    }
}

gboolean
tb_gdb_remote_exchange (TbGdbRemote *self, const char *payload, gsize len, GString *reply, GString *console, GError **error)
{
  gint64 deadline = deadline_from_now (self);

  set_current (self, payload, len);
  return send_packet (self, payload, len, deadline, error) && receive_reply (self, deadline, reply, console, error);
}

/**
 * tb_gdb_remote_command:
 * @payload: the packet's payload (escaped where it is binary)
 * @reply_len: (out) (optional): the reply's length
 *
 * Sends one packet and receives its reply (console output skipped).
 *
 * Returns: (transfer full): the reply, NUL-terminated
 */
char *
tb_gdb_remote_command (TbGdbRemote *self, const char *payload, gsize len, gsize *reply_len, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);

  if (!tb_gdb_remote_exchange (self, payload, len, reply, NULL, error))
    return NULL;
  if (reply_len != NULL)
    *reply_len = reply->len;
  return g_string_free (g_steal_pointer (&reply), FALSE);
}

gboolean
tb_gdb_remote_check_ok (TbGdbRemote *self, const GString *reply, GError **error)
{
  if (g_strcmp0 (reply->str, "OK") == 0)
    return TRUE;
  if (reply->len == 0)
    tb_gdb_remote_fail (self, error, TB_ERROR_UNSUPPORTED, _("the server does not support this packet"));
  else if (reply->str[0] == 'E')
    tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("error %.8s"), reply->str + 1);
  else
    tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("expected “OK”, got “%.16s”"), reply->str);
  return FALSE;
}

/* A stop reply: S or T (stopped), W or X (the program is gone). */
static gboolean
check_stop_reply (TbGdbRemote *self, const GString *reply, GError **error)
{
  char kind = reply->len > 0 ? reply->str[0] : '\0';

  if ((kind == 'S' || kind == 'T') && reply->len >= 3 && tb_gdb_remote_is_hex (reply->str + 1, 2))
    {
      self->running = FALSE;
      return TRUE;
    }
  if (kind == 'W' || kind == 'X')
    tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("the target is gone (stop reply “%.16s”)"), reply->str);
  else
    tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("expected a stop reply, got “%.16s”"), reply->str);
  return FALSE;
}

static gboolean
parse_features (TbGdbRemote *self, const GString *reply, GError **error)
{
  g_auto(GStrv) features = g_strsplit (reply->str, ";", -1);

  g_free (self->features);
  self->features = g_strdup (reply->str);
  for (guint i = 0; features[i] != NULL; i++)
    {
      if (g_str_has_prefix (features[i], "PacketSize="))
        {
          const char *value = features[i] + strlen ("PacketSize=");
          guint64 size = 0;
          if (!g_ascii_string_to_unsigned (value, 16, TB_GDB_PACKET_SIZE_MIN, TB_GDB_PACKET_SIZE_MAX, &size, NULL))
            {
              tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("PacketSize “%.16s” is not a hex number from %x to %x"),
                    value, TB_GDB_PACKET_SIZE_MIN, TB_GDB_PACKET_SIZE_MAX);
              return FALSE;
            }
          self->packet_size = (gsize) size;
        }
    }
  return TRUE;
}

static gboolean
has_feature (TbGdbRemote *self, const char *feature)
{
  g_auto(GStrv) features = g_strsplit (self->features, ";", -1);

  return g_strv_contains ((const char *const *) features, feature);
}

/**
 * tb_gdb_remote_handshake:
 *
 * qSupported (PacketSize), QStartNoAckMode where the server offers it, and
 * `?`: the target is stopped afterwards.
 */
gboolean
tb_gdb_remote_handshake (TbGdbRemote *self, GError **error)
{
  static const char supported[] = "qSupported:swbreak+;hwbreak+";
  g_autoptr(GString) reply = g_string_new (NULL);

  if (!tb_gdb_remote_exchange (self, supported, strlen (supported), reply, NULL, error) || !parse_features (self, reply, error))
    return FALSE;
  if (has_feature (self, "QStartNoAckMode+"))
    {
      if (!tb_gdb_remote_exchange (self, "QStartNoAckMode", strlen ("QStartNoAckMode"), reply, NULL, error) ||
          !tb_gdb_remote_check_ok (self, reply, error))
        return FALSE;
      self->no_ack = TRUE;
    }
  return tb_gdb_remote_exchange (self, "?", 1, reply, NULL, error) && check_stop_reply (self, reply, error);
}

/**
 * tb_gdb_remote_interrupt:
 *
 * Stops a running target (^C) and waits for its stop reply; a stop reply
 * that already came (the target stopped by itself) is taken instead.
 */
gboolean
tb_gdb_remote_interrupt (TbGdbRemote *self, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);
  gint64 deadline = deadline_from_now (self);
  gboolean sent = FALSE;

  if (!self->running)
    return TRUE;
  set_current (self, "^C", 2);
  for (guint n = 0; n <= MAX_CONSOLE_PACKETS; n++)
    {
      gboolean pending = self->rx_pos < self->rx_len ||
                         (self->socket != NULL && (g_socket_condition_check (self->socket, G_IO_IN) & G_IO_IN) != 0);
      if (!sent && !pending)
        {
          if (!write_raw (self, "\003", 1, error))
            return FALSE;
          sent = TRUE;
        }
      if (!receive_packet (self, deadline, reply, error))
        return FALSE;
      if (!is_console_packet (reply))
        return check_stop_reply (self, reply, error);
    }
  tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("more than %u console output packets"), MAX_CONSOLE_PACKETS);
  return FALSE;
}

/**
 * tb_gdb_remote_continue:
 *
 * Lets the target run; its stop reply comes when tb_gdb_remote_interrupt()
 * stops it.
 */
gboolean
tb_gdb_remote_continue (TbGdbRemote *self, GError **error)
{
  if (self->running)
    return TRUE;
  set_current (self, "c", 1);
  if (!send_packet (self, "c", 1, deadline_from_now (self), error))
    return FALSE;
  self->running = TRUE;
  return TRUE;
}

/**
 * tb_gdb_remote_detach:
 *
 * Detaches (D): the server lets the target run and may close.
 */
gboolean
tb_gdb_remote_detach (TbGdbRemote *self, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);

  if (self->running && !tb_gdb_remote_interrupt (self, error))
    return FALSE;
  return tb_gdb_remote_exchange (self, "D", 1, reply, NULL, error) && tb_gdb_remote_check_ok (self, reply, error);
}
