/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* CMSIS-DAP commands (the protocol, independent of USB: docs/cmsis-dap.md) */
enum {
  TB_DAP_CMD_INFO = 0x00,
  TB_DAP_CMD_CONNECT = 0x02,
  TB_DAP_CMD_DISCONNECT = 0x03,
  TB_DAP_CMD_TRANSFER_CONFIGURE = 0x04,
  TB_DAP_CMD_TRANSFER = 0x05,
  TB_DAP_CMD_TRANSFER_BLOCK = 0x06,
  TB_DAP_CMD_WRITE_ABORT = 0x08,
  TB_DAP_CMD_SWJ_CLOCK = 0x11,
  TB_DAP_CMD_SWJ_SEQUENCE = 0x12,
};

enum {
  TB_DAP_INFO_VENDOR = 0x01,
  TB_DAP_INFO_PRODUCT = 0x02,
  TB_DAP_INFO_SERIAL = 0x03,
  TB_DAP_INFO_PROTOCOL_VERSION = 0x04,
  TB_DAP_INFO_FIRMWARE_VERSION = 0x09,
  TB_DAP_INFO_CAPABILITIES = 0xf0,
  TB_DAP_INFO_PACKET_COUNT = 0xfe,
  TB_DAP_INFO_PACKET_SIZE = 0xff,
};

/* transfer request bits */
#define TB_DAP_AP (1u << 0)
#define TB_DAP_READ (1u << 1)
#define TB_DAP_A(addr) ((guint8) ((addr) & 0x0c))

/* transfer response ACK (bits 0–2) and flags */
#define TB_DAP_ACK_OK 1u
#define TB_DAP_ACK_WAIT 2u
#define TB_DAP_ACK_FAULT 4u
#define TB_DAP_ACK_NONE 7u
#define TB_DAP_PROTOCOL_ERROR (1u << 3)

#define TB_DAP_PACKET_SIZE_MIN 64u
#define TB_DAP_PACKET_SIZE_MAX 16384u

/**
 * TbDapExchangeFunc:
 * @request: one command
 * @response: (out caller-allocates): its response
 * @response_cap: room in @response (the probe's packet size)
 * @response_len: (out): bytes received
 * @timeout_ms: give up after this long (a %TB_ERROR_FAILED "no answer")
 *
 * Sends one command packet and receives its response: the transport (USB
 * bulk endpoints, or an emulator in the tests).
 */
typedef gboolean (*TbDapExchangeFunc) (gpointer      data,
                                       const guint8 *request,
                                       gsize         request_len,
                                       guint8       *response,
                                       gsize         response_cap,
                                       gsize        *response_len,
                                       guint         timeout_ms,
                                       GError      **error);

/**
 * TbDapSendFunc:
 * TbDapReceiveFunc:
 *
 * A transport that can have several commands outstanding: send queues a
 * command packet, receive returns the oldest response. With both set
 * (tb_dap_set_pipeline()), block transfers keep up to the probe's packet
 * count of commands in flight.
 */
typedef gboolean (*TbDapSendFunc) (gpointer      data,
                                   const guint8 *request,
                                   gsize         request_len,
                                   guint         timeout_ms,
                                   GError      **error);
typedef gboolean (*TbDapReceiveFunc) (gpointer   data,
                                      guint8    *response,
                                      gsize      response_cap,
                                      gsize     *response_len,
                                      guint      timeout_ms,
                                      GError   **error);

typedef struct _TbDap TbDap;

/**
 * TbDapTransfer:
 * @request: %TB_DAP_AP, %TB_DAP_READ and TB_DAP_A() of the register
 * @value: the word written, or (out) the word read
 */
typedef struct {
  guint8 request;
  guint32 value;
} TbDapTransfer;

/**
 * TbDapPacket:
 * @block: a DAP_TransferBlock of @count words of @request's register,
 *   else a DAP_Transfer of @count @transfers
 *
 * One command of a stream (tb_dap_run_packets()); it must fit one packet.
 */
typedef struct {
  gboolean block;
  guint8 request;
  guint32 *words;
  guint count;
  TbDapTransfer *transfers;
} TbDapPacket;

TbDap      *tb_dap_new                 (TbDapExchangeFunc exchange,
                                        gpointer       data);
void        tb_dap_free                (TbDap         *dap);
void        tb_dap_set_pipeline        (TbDap         *dap,
                                        TbDapSendFunc  send,
                                        TbDapReceiveFunc receive);
guint       tb_dap_get_max_in_flight   (TbDap         *dap);
gboolean    tb_dap_init                (TbDap         *dap,
                                        GError       **error);
void        tb_dap_set_timeout         (TbDap         *dap,
                                        guint          timeout_ms);
guint       tb_dap_get_packet_size     (TbDap         *dap);
guint       tb_dap_get_packet_count    (TbDap         *dap);
guint8      tb_dap_get_capabilities    (TbDap         *dap);
guint64     tb_dap_get_exchanges       (TbDap         *dap);
double      tb_dap_get_block_fill      (TbDap         *dap,
                                        guint64       *packets);
char       *tb_dap_info_string         (TbDap         *dap,
                                        guint8         id,
                                        GError       **error);
gboolean    tb_dap_connect_swd         (TbDap         *dap,
                                        GError       **error);
gboolean    tb_dap_disconnect          (TbDap         *dap,
                                        GError       **error);
gboolean    tb_dap_swj_clock           (TbDap         *dap,
                                        guint32        hz,
                                        GError       **error);
gboolean    tb_dap_swj_sequence        (TbDap         *dap,
                                        guint          bits,
                                        const guint8  *data,
                                        GError       **error);
gboolean    tb_dap_jtag_to_swd         (TbDap         *dap,
                                        GError       **error);
gboolean    tb_dap_transfer_configure  (TbDap         *dap,
                                        guint8         idle_cycles,
                                        guint16        wait_retry,
                                        guint16        match_retry,
                                        GError       **error);
gboolean    tb_dap_write_abort         (TbDap         *dap,
                                        guint32        value,
                                        GError       **error);
gboolean    tb_dap_transfer            (TbDap         *dap,
                                        TbDapTransfer *transfers,
                                        guint          n,
                                        GError       **error);
gboolean    tb_dap_run_packets         (TbDap         *dap,
                                        TbDapPacket   *packets,
                                        guint          n,
                                        GError       **error);
gboolean    tb_dap_transfer_fits       (TbDap         *dap,
                                        const TbDapTransfer *transfers,
                                        guint          n);
guint       tb_dap_block_words         (TbDap         *dap,
                                        gboolean       read);
gboolean    tb_dap_transfer_block      (TbDap         *dap,
                                        guint8         request,
                                        guint32       *words,
                                        guint          n,
                                        GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbDap, tb_dap_free)

G_END_DECLS
