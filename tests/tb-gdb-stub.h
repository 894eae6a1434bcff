/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"
#include "tb-virtual-board.h"

G_BEGIN_DECLS

/* What a hostile server does when it answers a packet starting with the
 * options' fault_on character. */
typedef enum {
  TB_GDB_STUB_FAULT_NONE,
  TB_GDB_STUB_FAULT_BAD_CHECKSUM,   /* every answer's checksum is off by one */
  TB_GDB_STUB_FAULT_WRONG_LENGTH,   /* a memory read answers one byte short */
  TB_GDB_STUB_FAULT_CONSOLE_FLOOD,  /* O packets, never the answer */
  TB_GDB_STUB_FAULT_DISCONNECT,     /* half a packet, then the connection closes */
  TB_GDB_STUB_FAULT_SILENT,         /* never answers */
  TB_GDB_STUB_FAULT_GARBAGE,        /* bytes that are not a packet, never the answer */
  TB_GDB_STUB_FAULT_BAD_RUN_LENGTH, /* a run-length count below the printable range */
} TbGdbStubFault;

typedef struct {
  guint packet_size;            /* announced in qSupported (0: not announced) */
  gboolean no_ack;              /* offers QStartNoAckMode */
  gboolean monitor;             /* has "monitor reset halt" / "reset run" */
  gboolean binary_write;        /* knows X */
  gboolean run_length;          /* compresses runs in its answers */
  gboolean console;             /* sends an O packet before each answer */
  TbGdbStubFault fault;
  char fault_on;                /* the packets the fault answers ('m' when 0) */
  gboolean no_p;                /* answers p and P with an empty packet, as QEMU does */
  gboolean stale_stop;          /* greets a client with a stop reply before its first ack, as QEMU does */
} TbGdbStubOptions;

typedef struct _TbGdbStub TbGdbStub;

TbGdbStub  *tb_gdb_stub_new         (TbVirtualBoard         *board,
                                     const TbGdbStubOptions *options,
                                     const char             *unix_path,
                                     GError                **error);
void        tb_gdb_stub_free        (TbGdbStub              *stub);
const char *tb_gdb_stub_get_address (TbGdbStub              *stub);
guint64     tb_gdb_stub_get_packets_of_kind (TbGdbStub      *stub,
                                             char            kind);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbGdbStub, tb_gdb_stub_free)

G_END_DECLS
