/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the pieces of TbGdbRemote share (tb-gdb-remote.c: packets, the
 * exchange of a command, handshake and run control;
 * tb-gdb-remote-target.c: memory, registers, monitor commands): its
 * fields, a bound, and the helpers the commands use. */

#include "tb-gdb-remote.h"

G_BEGIN_DECLS

/* Monitor output kept. */
#define MAX_MONITOR_OUTPUT (64 * 1024)

struct _TbGdbRemote {
  GIOStream *stream;
  GSocket *socket;              /* NULL when the stream is not a socket (fuzzing) */
  char *peer;
  char *features;
  guint timeout_ms;
  gsize packet_size;
  gboolean no_ack;
  gboolean running;
  int x_supported;              /* -1 not known yet */
  guint64 packets;
  char current[24];             /* the command in flight, for messages */
  guint8 rx[4096];
  gsize rx_pos;
  gsize rx_len;
};


void     tb_gdb_remote_fail       (TbGdbRemote *self,
                                   GError     **error,
                                   int          code,
                                   const char  *format,
                                   ...) G_GNUC_PRINTF (4, 5);
gboolean tb_gdb_remote_exchange   (TbGdbRemote *self,
                                   const char  *payload,
                                   gsize        len,
                                   GString     *reply,
                                   GString     *console,
                                   GError     **error);
gboolean tb_gdb_remote_check_ok   (TbGdbRemote   *self,
                                   const GString *reply,
                                   GError       **error);
gboolean tb_gdb_remote_is_hex     (const char *s,
                                   gsize       len);
void     tb_gdb_remote_hex_decode (const char *hex,
                                   gsize       len,
                                   guint8     *out);
void     tb_gdb_remote_hex_append (GString      *s,
                                   const guint8 *data,
                                   gsize         len);

G_END_DECLS
