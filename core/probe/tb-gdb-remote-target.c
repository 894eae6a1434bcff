/* SPDX-License-Identifier: GPL-3.0-or-later */

/* What a TbGdbRemote does on the target once connected: memory reads (m)
 * and writes (X, escaped and chunked to the server's PacketSize, or M),
 * registers (g, p, P) and monitor commands (qRcmd). Packets and the
 * exchange of a command are in tb-gdb-remote.c. */

#include "config.h"

#include "tb-gdb-remote-private.h"

#include <string.h>

#include <glib/gi18n-lib.h>

#include "tb-error.h"

static gboolean
check_stopped (TbGdbRemote *self, GError **error)
{
  if (!self->running)
    return TRUE;
  g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("GDB server %s: the core is running; halt it first"),
               self->peer);
  return FALSE;
}

/* Bytes of memory one m packet's reply holds, framed within PacketSize. */
static gsize
read_chunk (TbGdbRemote *self)
{
  return (self->packet_size - 4) / 2;
}

/**
 * tb_gdb_remote_read_memory:
 *
 * Reads target memory with m packets sized to the server's PacketSize.
 */
gboolean
tb_gdb_remote_read_memory (TbGdbRemote *self, guint32 address, guint8 *buf, gsize len, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);

  if (!check_stopped (self, error))
    return FALSE;
  for (gsize done = 0; done < len;)
    {
      gsize n = MIN (len - done, read_chunk (self));
      guint32 at = address + (guint32) done;
      g_autofree char *request = g_strdup_printf ("m%x,%zx", at, n);
      if (!tb_gdb_remote_exchange (self, request, strlen (request), reply, NULL, error))
        return FALSE;
      if (reply->len > 0 && reply->str[0] == 'E' && reply->len <= 3)
        {
          tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("cannot read %zu bytes at 0x%08x (error %s)"), n, at, reply->str + 1);
          return FALSE;
        }
      if (reply->len != 2 * n || !tb_gdb_remote_is_hex (reply->str, reply->len))
        {
          tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA,
                _("expected %zu hex digits for %zu bytes at 0x%08x, got %zu characters"), 2 * n, n, at, reply->len);
          return FALSE;
        }
      tb_gdb_remote_hex_decode (reply->str, reply->len, buf + done);
      done += n;
    }
  return TRUE;
}

static gboolean
needs_escape (guint8 c)
{
  return c == '$' || c == '#' || c == '}' || c == '*';
}

/* Payload bytes a packet may carry: PacketSize counts the whole packet,
 * '$', '#' and the checksum included (as GDB counts it). */
static gsize
payload_capacity (TbGdbRemote *self, const char *header)
{
  return self->packet_size - 4 - strlen (header);
}

/* One X packet: as many bytes from @data as fit in the PacketSize. */
static gsize
build_x_packet (TbGdbRemote *self, GString *packet, guint32 address, const guint8 *data, gsize len)
{
  g_autofree char *longest = g_strdup_printf ("X%x,%zx:", address, MIN (len, self->packet_size));
  gsize budget = payload_capacity (self, longest), used = 0, n = 0;

  while (n < len && used + (needs_escape (data[n]) ? 2 : 1) <= budget)
    used += needs_escape (data[n++]) ? 2 : 1;
  g_string_printf (packet, "X%x,%zx:", address, n);
  for (gsize i = 0; i < n; i++)
    {
      if (needs_escape (data[i]))
        {
          g_string_append_c (packet, '}');
          g_string_append_c (packet, (char) (data[i] ^ 0x20));
        }
      else
        g_string_append_c (packet, (char) data[i]);
    }
  return n;
}

/**
 * tb_gdb_remote_write_memory:
 *
 * Writes target memory: binary X packets filled to the server's
 * PacketSize, or hex M packets when the server does not know X.
 */
gboolean
tb_gdb_remote_write_memory (TbGdbRemote *self, guint32 address, const guint8 *data, gsize len, GError **error)
{
  g_autoptr(GString) packet = g_string_new (NULL);
  g_autoptr(GString) reply = g_string_new (NULL);

  if (!check_stopped (self, error))
    return FALSE;
  for (gsize done = 0; done < len;)
    {
      guint32 at = address + (guint32) done;
      gsize n;

      if (self->x_supported != 0)
        {
          n = build_x_packet (self, packet, at, data + done, len - done);
          if (!tb_gdb_remote_exchange (self, packet->str, packet->len, reply, NULL, error))
            return FALSE;
          if (reply->len == 0 && self->x_supported < 0)
            {
              self->x_supported = 0; /* M from now on */
              continue;
            }
          self->x_supported = 1;
        }
      else
        {
          g_autofree char *longest = g_strdup_printf ("M%x,%zx:", at, MIN (len - done, self->packet_size));
          n = MIN (len - done, payload_capacity (self, longest) / 2);
          g_string_printf (packet, "M%x,%zx:", at, n);
          tb_gdb_remote_hex_append (packet, data + done, n);
          if (!tb_gdb_remote_exchange (self, packet->str, packet->len, reply, NULL, error))
            return FALSE;
        }
      if (!tb_gdb_remote_check_ok (self, reply, error))
        {
          g_prefix_error (error, _("Writing %zu bytes at 0x%08x: "), n, at);
          return FALSE;
        }
      done += n;
    }
  return TRUE;
}

/**
 * tb_gdb_remote_monitor:
 * @command: a monitor command ("reset halt")
 * @supported: (out): FALSE when the server has no monitor commands
 * @output: (out) (optional): what the command printed
 *
 * Runs a monitor command (qRcmd).
 *
 * Returns: FALSE on an error (the server answered Exx)
 */
gboolean
tb_gdb_remote_monitor (TbGdbRemote *self, const char *command, gboolean *supported, char **output, GError **error)
{
  g_autoptr(GString) packet = g_string_new ("qRcmd,");
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autoptr(GString) console = g_string_new (NULL);

  *supported = FALSE;
  if (!check_stopped (self, error))
    return FALSE;
  tb_gdb_remote_hex_append (packet, (const guint8 *) command, strlen (command));
  if (!tb_gdb_remote_exchange (self, packet->str, packet->len, reply, console, error))
    return FALSE;
  if (reply->len == 0)
    return TRUE;
  if (reply->len % 2 == 0 && tb_gdb_remote_is_hex (reply->str, reply->len) && reply->len / 2 + console->len <= MAX_MONITOR_OUTPUT)
    {
      gsize n = reply->len / 2;
      g_autofree guint8 *text = g_malloc (n);
      tb_gdb_remote_hex_decode (reply->str, reply->len, text);
      g_string_append_len (console, (const char *) text, (gssize) n);
    }
  else if (!tb_gdb_remote_check_ok (self, reply, error))
    {
      g_prefix_error (error, _("Monitor command “%s”: "), command);
      return FALSE;
    }
  *supported = TRUE;
  if (output != NULL)
    *output = g_strdup (console->str);
  return TRUE;
}

/* A register's value in the target's byte order (little-endian). */
static gboolean
parse_register (TbGdbRemote *self, const char *hex, gsize len, guint32 *value, GError **error)
{
  guint8 bytes[4];

  if (len != 8 || !tb_gdb_remote_is_hex (hex, len))
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("expected 8 hex digits for a 32-bit register, got “%.16s”"), hex);
      return FALSE;
    }
  tb_gdb_remote_hex_decode (hex, len, bytes);
  memcpy (value, bytes, 4);
  *value = GUINT32_FROM_LE (*value);
  return TRUE;
}

/* Where register @regnum's 4 bytes are in a `g` packet's registers. */
static guint8 *
register_slot (TbGdbRemote *self, GByteArray *regs, guint regnum, GError **error)
{
  if ((gsize) regnum * 4 + 4 > regs->len)
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("register %u is not among the %u bytes of registers"), regnum,
            regs->len);
      return NULL;
    }
  return regs->data + (gsize) regnum * 4;
}

/**
 * tb_gdb_remote_read_registers:
 *
 * Returns: (transfer full): the `g` packet's registers, in the target's
 *   order and byte order
 */
GByteArray *
tb_gdb_remote_read_registers (TbGdbRemote *self, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);
  GByteArray *regs;

  if (!check_stopped (self, error) || !tb_gdb_remote_exchange (self, "g", 1, reply, NULL, error))
    return NULL;
  if (reply->len == 0 || reply->len % 2 != 0 || !tb_gdb_remote_is_hex (reply->str, reply->len))
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_INVALID_DATA, _("expected the registers in hex, got “%.16s”"), reply->str);
      return NULL;
    }
  regs = g_byte_array_sized_new ((guint) reply->len / 2);
  g_byte_array_set_size (regs, (guint) reply->len / 2);
  tb_gdb_remote_hex_decode (reply->str, reply->len, regs->data);
  return regs;
}

/**
 * tb_gdb_remote_read_register:
 * @regnum: GDB's number for it (ARM: 0–12 r0–r12, 13 sp, 14 lr, 15 pc,
 *   25 cpsr/xpsr)
 *
 * Reads one 32-bit register (p, or g where the server has no p).
 */
gboolean
tb_gdb_remote_read_register (TbGdbRemote *self, guint regnum, guint32 *value, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);
  g_autofree char *request = g_strdup_printf ("p%x", regnum);
  g_autoptr(GByteArray) regs = NULL;
  guint8 *slot;

  if (!check_stopped (self, error) || !tb_gdb_remote_exchange (self, request, strlen (request), reply, NULL, error))
    return FALSE;
  if (reply->len > 0 && reply->str[0] == 'E' && reply->len <= 3)
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_FAILED, _("cannot read register %u (error %s)"), regnum, reply->str + 1);
      return FALSE;
    }
  if (reply->len > 0)
    return parse_register (self, reply->str, reply->len, value, error);
  regs = tb_gdb_remote_read_registers (self, error);
  if (regs == NULL || (slot = register_slot (self, regs, regnum, error)) == NULL)
    return FALSE;
  memcpy (value, slot, 4);
  *value = GUINT32_FROM_LE (*value);
  return TRUE;
}

/**
 * tb_gdb_remote_write_register:
 *
 * Writes one 32-bit register (P, or g then G where the server has no P:
 * QEMU answers P only to clients that read its target description).
 */
gboolean
tb_gdb_remote_write_register (TbGdbRemote *self, guint regnum, guint32 value, GError **error)
{
  g_autoptr(GString) reply = g_string_new (NULL);
  guint32 le = GUINT32_TO_LE (value);
  const guint8 *bytes = (const guint8 *) &le;
  g_autoptr(GString) request = g_string_new (NULL);
  g_autoptr(GByteArray) regs = NULL;
  guint8 *slot;

  if (!check_stopped (self, error))
    return FALSE;
  g_string_printf (request, "P%x=", regnum);
  tb_gdb_remote_hex_append (request, bytes, 4);
  if (!tb_gdb_remote_exchange (self, request->str, request->len, reply, NULL, error))
    return FALSE;
  if (reply->len > 0)
    return tb_gdb_remote_check_ok (self, reply, error);
  regs = tb_gdb_remote_read_registers (self, error);
  if (regs == NULL || (slot = register_slot (self, regs, regnum, error)) == NULL)
    return FALSE;
  memcpy (slot, bytes, 4);
  g_string_assign (request, "G");
  tb_gdb_remote_hex_append (request, regs->data, regs->len);
  if (request->len + 4 > self->packet_size)
    {
      tb_gdb_remote_fail (self, error, TB_ERROR_UNSUPPORTED, _("the server has no P packet and its registers do not fit a G packet"));
      return FALSE;
    }
  return tb_gdb_remote_exchange (self, request->str, request->len, reply, NULL, error) && tb_gdb_remote_check_ok (self, reply, error);
}
