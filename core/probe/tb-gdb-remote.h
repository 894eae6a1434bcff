/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/* PacketSize assumed when a server does not announce one, and the bounds
 * put on what it announces. */
#define TB_GDB_PACKET_SIZE_DEFAULT 400u
#define TB_GDB_PACKET_SIZE_MIN 64u
#define TB_GDB_PACKET_SIZE_MAX 65536u

/* A reply is given up after this long unless tb_gdb_remote_set_timeout()
 * says otherwise. */
#define TB_GDB_TIMEOUT_MS_DEFAULT 5000u

typedef struct _TbGdbRemote TbGdbRemote;

TbGdbRemote *tb_gdb_remote_new             (GIOStream     *stream,
                                            const char    *peer);
void         tb_gdb_remote_free            (TbGdbRemote   *self);
void         tb_gdb_remote_set_timeout     (TbGdbRemote   *self,
                                            guint          timeout_ms);
gboolean     tb_gdb_remote_handshake       (TbGdbRemote   *self,
                                            GError       **error);
const char  *tb_gdb_remote_get_features    (TbGdbRemote   *self);
gsize        tb_gdb_remote_get_packet_size (TbGdbRemote   *self);
gboolean     tb_gdb_remote_is_no_ack       (TbGdbRemote   *self);
guint64      tb_gdb_remote_get_packets     (TbGdbRemote   *self);
gboolean     tb_gdb_remote_is_running      (TbGdbRemote   *self);

char        *tb_gdb_remote_command         (TbGdbRemote   *self,
                                            const char    *payload,
                                            gsize          len,
                                            gsize         *reply_len,
                                            GError       **error);
gboolean     tb_gdb_remote_read_memory     (TbGdbRemote   *self,
                                            guint32        address,
                                            guint8        *buf,
                                            gsize          len,
                                            GError       **error);
gboolean     tb_gdb_remote_write_memory    (TbGdbRemote   *self,
                                            guint32        address,
                                            const guint8  *data,
                                            gsize          len,
                                            GError       **error);
gboolean     tb_gdb_remote_interrupt       (TbGdbRemote   *self,
                                            GError       **error);
gboolean     tb_gdb_remote_continue        (TbGdbRemote   *self,
                                            GError       **error);
gboolean     tb_gdb_remote_monitor         (TbGdbRemote   *self,
                                            const char    *command,
                                            gboolean      *supported,
                                            char         **output,
                                            GError       **error);
gboolean     tb_gdb_remote_read_register   (TbGdbRemote   *self,
                                            guint          regnum,
                                            guint32       *value,
                                            GError       **error);
gboolean     tb_gdb_remote_write_register  (TbGdbRemote   *self,
                                            guint          regnum,
                                            guint32        value,
                                            GError       **error);
GByteArray  *tb_gdb_remote_read_registers  (TbGdbRemote   *self,
                                            GError       **error);
gboolean     tb_gdb_remote_detach          (TbGdbRemote   *self,
                                            GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbGdbRemote, tb_gdb_remote_free)

G_END_DECLS
