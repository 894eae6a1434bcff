/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The CMSIS-DAP protocol, host side, independent of the transport.
 *
 * Every response is checked before a byte of it is used: the command echo,
 * the length against what the command can produce and against the packet
 * size, the status, the transfer count and ACK. A probe that answers short,
 * long, garbled, late or not at all, that keeps the target in WAIT or
 * reports a FAULT, gets a clear GError — never a hang, a crash or a read
 * past a buffer (fuzz/fuzz-dap.c feeds random responses to these checks).
 *
 * Transfers are packed into as few packets as the probe's packet size
 * allows. The USB transport (libusb, several packets in flight) plugs in as
 * a TbDapExchangeFunc; so does the emulated probe of the tests. */

#include "config.h"

#include "tb-cmsis-dap.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"

#define DAP_OK 0x00
#define DEFAULT_TIMEOUT_MS 2000
/* DP ABORT: clear the sticky compare, error, write-data error and overrun flags */
#define ABORT_CLEAR_STICKY 0x1eu
#define ABORT_DAPABORT 0x01u

struct _TbDap {
  TbDapExchangeFunc exchange;
  gpointer data;
  guint packet_size;
  guint packet_count;
  guint8 capabilities;
  guint timeout_ms;
  guint64 exchanges;
  guint64 block_packets;
  guint64 block_bytes;          /* bytes of those packets that carried words */
  TbDapSendFunc send;
  TbDapReceiveFunc receive;
  guint max_in_flight;
  guint8 *response;
};

TbDap *
tb_dap_new (TbDapExchangeFunc exchange, gpointer data)
{
  TbDap *dap = g_new0 (TbDap, 1);

  dap->exchange = exchange;
  dap->data = data;
  dap->packet_size = TB_DAP_PACKET_SIZE_MIN;
  dap->packet_count = 1;
  dap->timeout_ms = DEFAULT_TIMEOUT_MS;
  dap->response = g_malloc (TB_DAP_PACKET_SIZE_MAX);
  return dap;
}

void
tb_dap_free (TbDap *dap)
{
  if (dap == NULL)
    return;
  g_free (dap->response);
  g_free (dap);
}

/**
 * tb_dap_set_pipeline:
 *
 * Lets block transfers keep several commands in flight through @send and
 * @receive (the same transport as the exchange function).
 */
void
tb_dap_set_pipeline (TbDap *dap, TbDapSendFunc send, TbDapReceiveFunc receive)
{
  dap->send = send;
  dap->receive = receive;
}

/**
 * tb_dap_get_max_in_flight:
 *
 * Returns: the most commands that were outstanding at once
 */
guint
tb_dap_get_max_in_flight (TbDap *dap)
{
  return MAX (dap->max_in_flight, dap->exchanges > 0 ? 1u : 0u);
}

void
tb_dap_set_timeout (TbDap *dap, guint timeout_ms)
{
  dap->timeout_ms = timeout_ms;
}

guint
tb_dap_get_packet_size (TbDap *dap)
{
  return dap->packet_size;
}

guint
tb_dap_get_packet_count (TbDap *dap)
{
  return dap->packet_count;
}

guint8
tb_dap_get_capabilities (TbDap *dap)
{
  return dap->capabilities;
}

/**
 * tb_dap_get_exchanges:
 *
 * Returns: command packets exchanged so far (for benchmarks)
 */
guint64
tb_dap_get_exchanges (TbDap *dap)
{
  return dap->exchanges;
}

/**
 * tb_dap_get_block_fill:
 * @packets: (out): DAP_TransferBlock packets exchanged
 *
 * Returns: their average fill: the bytes of the request (writes) or
 *   response (reads) over the packet size
 */
double
tb_dap_get_block_fill (TbDap *dap, guint64 *packets)
{
  *packets = dap->block_packets;
  return dap->block_packets > 0 ? (double) dap->block_bytes / ((double) dap->block_packets * dap->packet_size) : 0;
}

/* Sends @request and checks the echo and the minimum length of the answer,
 * which lands in dap->response. */
static gboolean
command (TbDap *dap, const guint8 *request, gsize len, gsize min_response, gsize *response_len, GError **error)
{
  gsize got = 0;

  g_assert (len >= 1 && len <= dap->packet_size);
  if (!dap->exchange (dap->data, request, len, dap->response, dap->packet_size, &got, dap->timeout_ms, error))
    return FALSE;
  dap->exchanges++;
  if (got > dap->packet_size)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe answered command 0x%02x with %" G_GSIZE_FORMAT " bytes, more than its packet size "
                     "(%u)"), request[0], got, dap->packet_size);
      return FALSE;
    }
  if (got == 0 || dap->response[0] != request[0])
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   got == 0 ? _("The probe answered command 0x%02x with nothing")
                            : _("The probe answered command 0x%02x with a response to command 0x%02x (garbled or "
                                "stale)"), request[0], got > 0 ? dap->response[0] : 0);
      return FALSE;
    }
  if (got < min_response)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe's answer to command 0x%02x is %" G_GSIZE_FORMAT " bytes; it needs %" G_GSIZE_FORMAT),
                   request[0], got, min_response);
      return FALSE;
    }
  *response_len = got;
  return TRUE;
}

/* A command whose answer is [command, status]. */
static gboolean
command_status (TbDap *dap, const guint8 *request, gsize len, const char *what, GError **error)
{
  gsize got = 0;

  if (!command (dap, request, len, 2, &got, error))
    return FALSE;
  if (dap->response[1] != DAP_OK)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The probe refused to %s (status 0x%02x)"), what,
                   dap->response[1]);
      return FALSE;
    }
  return TRUE;
}

/* DAP_Info: the raw value of @id into @out (at most @cap bytes). */
static gboolean
info (TbDap *dap, guint8 id, guint8 *out, gsize cap, gsize *out_len, GError **error)
{
  const guint8 request[] = { TB_DAP_CMD_INFO, id };
  gsize got = 0;
  gsize len;

  if (!command (dap, request, sizeof request, 2, &got, error))
    return FALSE;
  len = dap->response[1];
  if (len > got - 2 || len > cap)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe's information 0x%02x claims %" G_GSIZE_FORMAT " bytes but carries %" G_GSIZE_FORMAT),
                   id, len, got - 2);
      return FALSE;
    }
  memcpy (out, dap->response + 2, len);
  *out_len = len;
  return TRUE;
}

/**
 * tb_dap_info_string:
 *
 * Returns: (transfer full): the string (empty when the probe has none)
 */
char *
tb_dap_info_string (TbDap *dap, guint8 id, GError **error)
{
  guint8 buf[256];
  gsize len = 0;

  if (!info (dap, id, buf, sizeof buf, &len, error))
    return NULL;
  while (len > 0 && buf[len - 1] == '\0')
    len--;
  if (!g_utf8_validate ((const char *) buf, (gssize) len, NULL) || memchr (buf, '\0', len) != NULL)
    return g_strdup ("?");
  return g_strndup ((const char *) buf, len);
}

static gboolean
info_number (TbDap *dap, guint8 id, gsize size, guint32 *value, GError **error)
{
  guint8 buf[4] = { 0 };
  gsize len = 0;

  if (!info (dap, id, buf, sizeof buf, &len, error))
    return FALSE;
  if (len != size)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe's information 0x%02x is %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT), id, len,
                   size);
      return FALSE;
    }
  *value = (guint32) buf[0] | (guint32) buf[1] << 8 | (guint32) buf[2] << 16 | (guint32) buf[3] << 24;
  return TRUE;
}

/**
 * tb_dap_init:
 *
 * Reads the probe's packet size, packet count and capabilities and checks
 * them: a packet size outside 64 … 16384 bytes, no packet count or no SWD
 * is refused.
 */
gboolean
tb_dap_init (TbDap *dap, GError **error)
{
  guint32 size = 0, count = 0, caps = 0;

  dap->packet_size = TB_DAP_PACKET_SIZE_MIN;
  if (!info_number (dap, TB_DAP_INFO_PACKET_SIZE, 2, &size, error) ||
      !info_number (dap, TB_DAP_INFO_PACKET_COUNT, 1, &count, error) ||
      !info_number (dap, TB_DAP_INFO_CAPABILITIES, 1, &caps, error))
    return FALSE;
  if (size < TB_DAP_PACKET_SIZE_MIN || size > TB_DAP_PACKET_SIZE_MAX)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("The probe reports a packet size of %u bytes; CMSIS-DAP probes use %u to %u"), size,
                   TB_DAP_PACKET_SIZE_MIN, TB_DAP_PACKET_SIZE_MAX);
      return FALSE;
    }
  if (count == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("The probe reports a packet count of 0"));
      return FALSE;
    }
  if ((caps & 0x01) == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("The probe does not implement SWD"));
      return FALSE;
    }
  dap->packet_size = size;
  dap->packet_count = count;
  dap->capabilities = (guint8) caps;
  return TRUE;
}

gboolean
tb_dap_connect_swd (TbDap *dap, GError **error)
{
  const guint8 request[] = { TB_DAP_CMD_CONNECT, 1 };
  gsize got = 0;

  if (!command (dap, request, sizeof request, 2, &got, error))
    return FALSE;
  if (dap->response[1] != 1)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The probe could not connect in SWD mode"));
      return FALSE;
    }
  return TRUE;
}

gboolean
tb_dap_disconnect (TbDap *dap, GError **error)
{
  const guint8 request[] = { TB_DAP_CMD_DISCONNECT };

  return command_status (dap, request, sizeof request, _("disconnect"), error);
}

gboolean
tb_dap_swj_clock (TbDap *dap, guint32 hz, GError **error)
{
  const guint8 request[] = { TB_DAP_CMD_SWJ_CLOCK, (guint8) hz, (guint8) (hz >> 8), (guint8) (hz >> 16),
                             (guint8) (hz >> 24) };

  return command_status (dap, request, sizeof request, _("set the SWD clock"), error);
}

/**
 * tb_dap_swj_sequence:
 * @bits: 1 … 256 bits, sent LSB first from @data
 */
gboolean
tb_dap_swj_sequence (TbDap *dap, guint bits, const guint8 *data, GError **error)
{
  guint8 request[2 + 32];

  g_return_val_if_fail (bits >= 1 && bits <= 256, FALSE);
  request[0] = TB_DAP_CMD_SWJ_SEQUENCE;
  request[1] = (guint8) (bits == 256 ? 0 : bits);
  memcpy (request + 2, data, (bits + 7) / 8);
  return command_status (dap, request, 2 + (bits + 7) / 8, _("send an SWJ sequence"), error);
}

/**
 * tb_dap_jtag_to_swd:
 *
 * Line reset, the JTAG-to-SWD switch sequence (0xE79E), line reset again
 * and idle cycles: the target's debug port then speaks SWD.
 */
gboolean
tb_dap_jtag_to_swd (TbDap *dap, GError **error)
{
  static const guint8 sequence[] = {
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* 56 ones: line reset */
    0x9e, 0xe7,                               /* 0xE79E, LSB first */
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, /* line reset */
    0x00,                                     /* idle */
  };

  return tb_dap_swj_sequence (dap, sizeof sequence * 8, sequence, error);
}

gboolean
tb_dap_transfer_configure (TbDap *dap, guint8 idle_cycles, guint16 wait_retry, guint16 match_retry, GError **error)
{
  const guint8 request[] = { TB_DAP_CMD_TRANSFER_CONFIGURE, idle_cycles, (guint8) wait_retry,
                             (guint8) (wait_retry >> 8), (guint8) match_retry, (guint8) (match_retry >> 8) };

  return command_status (dap, request, sizeof request, _("configure transfers"), error);
}

gboolean
tb_dap_write_abort (TbDap *dap, guint32 value, GError **error)
{
  const guint8 request[] = { TB_DAP_CMD_WRITE_ABORT, 0, (guint8) value, (guint8) (value >> 8),
                             (guint8) (value >> 16), (guint8) (value >> 24) };

  return command_status (dap, request, sizeof request, _("write the DP ABORT register"), error);
}

/* Turns a transfer response that is not OK into an error, after clearing
 * the debug port's sticky flags so the next access can work. */
static gboolean
transfer_failed (TbDap *dap, guint8 ack, GError **error)
{
  if ((ack & 0x07) == TB_DAP_ACK_WAIT)
    {
      tb_dap_write_abort (dap, ABORT_DAPABORT | ABORT_CLEAR_STICKY, NULL);
      g_set_error (error, TB_ERROR, TB_ERROR_BUSY,
                   _("The target kept answering WAIT: it is busy or its debug port is stuck"));
    }
  else if ((ack & 0x07) == TB_DAP_ACK_FAULT)
    {
      tb_dap_write_abort (dap, ABORT_CLEAR_STICKY, NULL);
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED,
                   _("The target answered FAULT (an access it refuses, e.g. locked or unmapped memory)"));
    }
  else if ((ack & TB_DAP_PROTOCOL_ERROR) != 0)
    g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("SWD protocol error (bad parity): check the wiring and clock"));
  else if ((ack & 0x07) == TB_DAP_ACK_NONE)
    g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                 _("No target answers on SWD: is it powered and connected?"));
  else
    g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The probe reported transfer response 0x%02x"), ack);
  return FALSE;
}

/* Builds the DAP_Transfer command for transfers[0 .. n). */
static gsize
transfer_request (guint8 *req, const TbDapTransfer *t, guint n)
{
  gsize len = 3;

  req[0] = TB_DAP_CMD_TRANSFER;
  req[1] = 0;
  req[2] = (guint8) n;
  for (guint i = 0; i < n; i++)
    {
      req[len++] = t[i].request;
      if ((t[i].request & TB_DAP_READ) == 0)
        for (guint b = 0; b < 4; b++)
          req[len++] = (guint8) (t[i].value >> (8 * b));
    }
  return len;
}

/* Checks a DAP_Transfer response (in dap->response) and stores the reads. */
static gboolean
transfer_response (TbDap *dap, gsize got, TbDapTransfer *t, guint n, GError **error)
{
  gsize expected = 3;
  guint reads_done = 0, done;

  if (got < 3 || dap->response[0] != TB_DAP_CMD_TRANSFER)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe answered a register transfer with %" G_GSIZE_FORMAT " bytes starting 0x%02x"), got,
                   got > 0 ? dap->response[0] : 0);
      return FALSE;
    }
  done = dap->response[1];
  if (done > n)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The probe reports %u transfers done of %u asked"), done,
                   n);
      return FALSE;
    }
  for (guint i = 0; i < done; i++)
    if (t[i].request & TB_DAP_READ)
      reads_done++;
  expected += 4 * (gsize) reads_done;
  if (got != expected)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe's transfer response is %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT), got,
                   expected);
      return FALSE;
    }
  {
    const guint8 *p = dap->response + 3;
    for (guint i = 0; i < done; i++)
      if (t[i].request & TB_DAP_READ)
        {
          t[i].value = (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
          p += 4;
        }
  }
  if (dap->response[2] != TB_DAP_ACK_OK || done != n)
    return transfer_failed (dap, dap->response[2] == TB_DAP_ACK_OK ? 0 : dap->response[2], error);
  return TRUE;
}

/* Builds the DAP_TransferBlock command for @count words from @words. */
static gsize
block_request (guint8 *req, guint8 request, const guint32 *words, guint count)
{
  gsize len = 5;

  req[0] = TB_DAP_CMD_TRANSFER_BLOCK;
  req[1] = 0;
  req[2] = (guint8) count;
  req[3] = (guint8) (count >> 8);
  req[4] = request;
  if ((request & TB_DAP_READ) == 0)
    for (guint i = 0; i < count; i++)
      for (guint b = 0; b < 4; b++)
        req[len++] = (guint8) (words[i] >> (8 * b));
  return len;
}

/* Checks a DAP_TransferBlock response (in dap->response) for @count words
 * and stores the words read. */
static gboolean
block_response (TbDap *dap, gsize got, gsize req_len, guint8 request, guint32 *words, guint count, GError **error)
{
  gboolean read = (request & TB_DAP_READ) != 0;
  gsize expected;
  guint done;

  if (got < 4 || dap->response[0] != TB_DAP_CMD_TRANSFER_BLOCK)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe answered a block transfer with %" G_GSIZE_FORMAT " bytes starting 0x%02x"), got,
                   got > 0 ? dap->response[0] : 0);
      return FALSE;
    }
  dap->block_packets++;
  dap->block_bytes += read ? got : req_len;
  done = (guint) dap->response[1] | (guint) dap->response[2] << 8;
  if (done > count)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("The probe reports %u block transfers done of %u asked"),
                   done, count);
      return FALSE;
    }
  expected = 4 + (read ? 4 * (gsize) done : 0);
  if (got != expected)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe's block transfer response is %" G_GSIZE_FORMAT " bytes, not %" G_GSIZE_FORMAT), got,
                   expected);
      return FALSE;
    }
  if (read)
    for (guint i = 0; i < done; i++)
      {
        const guint8 *p = dap->response + 4 + 4 * i;
        words[i] = (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
      }
  if (dap->response[3] != TB_DAP_ACK_OK || done != count)
    return transfer_failed (dap, dap->response[3] == TB_DAP_ACK_OK ? 0 : dap->response[3], error);
  return TRUE;
}

static gsize
packet_request (const TbDapPacket *p, guint8 *req)
{
  return p->block ? block_request (req, p->request, p->words, p->count) : transfer_request (req, p->transfers, p->count);
}

static gboolean
packet_response (TbDap *dap, TbDapPacket *p, gsize got, gsize req_len, GError **error)
{
  if (got > dap->packet_size)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("The probe answered with %" G_GSIZE_FORMAT " bytes, more than its packet size (%u)"), got,
                   dap->packet_size);
      return FALSE;
    }
  return p->block ? block_response (dap, got, req_len, p->request, p->words, p->count, error)
                  : transfer_response (dap, got, p->transfers, p->count, error);
}

/* Packets with up to the packet count of commands outstanding: the next
 * command goes out as soon as a response comes back. On an error the
 * responses still due are drained, so the stream stays in step. */
static gboolean
run_pipelined (TbDap *dap, TbDapPacket *packets, guint n, GError **error)
{
  g_autofree guint8 *req = g_malloc (dap->packet_size);
  guint sent = 0, received = 0, in_flight = 0;
  guint window = MIN (MAX (dap->packet_count, 1u), 255u);
  gsize req_lens[255];
  g_autoptr(GError) failure = NULL;

  while (received < n)
    {
      while (failure == NULL && sent < n && in_flight < window)
        {
          gsize len = packet_request (&packets[sent], req);
          if (!dap->send (dap->data, req, len, dap->timeout_ms, &failure))
            break;
          req_lens[sent % window] = len;
          sent++;
          in_flight++;
          dap->max_in_flight = MAX (dap->max_in_flight, in_flight);
        }
      if (in_flight == 0)
        break;
      {
        gsize got = 0;
        g_autoptr(GError) local = NULL;

        if (!dap->receive (dap->data, dap->response, dap->packet_size, &got, dap->timeout_ms, &local))
          {
            /* the stream is broken: nothing more will come */
            if (failure == NULL)
              failure = g_steal_pointer (&local);
            break;
          }
        dap->exchanges++;
        in_flight--;
        received++;
        if (failure == NULL &&
            !packet_response (dap, &packets[received - 1], got, req_lens[(received - 1) % window], &local))
          failure = g_steal_pointer (&local);
      }
    }
  if (failure != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&failure));
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_dap_run_packets:
 * @packets: commands that each fit one packet (request and response)
 *
 * Runs a stream of DAP_Transfer and DAP_TransferBlock commands, with a
 * pipelined transport up to the probe's packet count in flight.
 */
gboolean
tb_dap_run_packets (TbDap *dap, TbDapPacket *packets, guint n, GError **error)
{
  g_autofree guint8 *req = NULL;

  if (dap->send != NULL && dap->receive != NULL && n > 1)
    return run_pipelined (dap, packets, n, error);
  req = g_malloc (dap->packet_size);
  for (guint i = 0; i < n; i++)
    {
      gsize len = packet_request (&packets[i], req), got = 0;

      g_assert (len <= dap->packet_size);
      if (!command (dap, req, len, packets[i].block ? 4 : 3, &got, error) ||
          !packet_response (dap, &packets[i], got, len, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * tb_dap_transfer_fits:
 *
 * Whether @n register transfers fit one DAP_Transfer packet.
 */
gboolean
tb_dap_transfer_fits (TbDap *dap, const TbDapTransfer *t, guint n)
{
  gsize req = 3, resp = 3;

  for (guint i = 0; i < n; i++)
    {
      gboolean read = (t[i].request & TB_DAP_READ) != 0;
      req += 1 + (read ? 0 : 4);
      resp += read ? 4 : 0;
    }
  return n <= 255 && req <= dap->packet_size && resp <= dap->packet_size;
}

/**
 * tb_dap_transfer:
 *
 * Runs register reads and writes, packed into as few DAP_Transfer packets
 * as the packet size allows (at most 255 transfers each). Reads land in
 * the transfers' @value.
 */
gboolean
tb_dap_transfer (TbDap *dap, TbDapTransfer *transfers, guint n, GError **error)
{
  g_autoptr(GArray) packets = g_array_new (FALSE, TRUE, sizeof (TbDapPacket));
  guint start = 0;

  while (start < n)
    {
      guint count = 1;
      TbDapPacket p = { 0 };

      while (start + count < n && tb_dap_transfer_fits (dap, transfers + start, count + 1))
        count++;
      p.transfers = transfers + start;
      p.count = count;
      g_array_append_val (packets, p);
      start += count;
    }
  return tb_dap_run_packets (dap, (TbDapPacket *) packets->data, packets->len, error);
}

/**
 * tb_dap_block_words:
 * @read: reading, else writing
 *
 * Returns: the most words one DAP_TransferBlock packet carries
 */
guint
tb_dap_block_words (TbDap *dap, gboolean read)
{
  return (dap->packet_size - (read ? 4 : 5)) / 4;
}

/**
 * tb_dap_transfer_block:
 * @request: one register (usually the MEM-AP's DRW), %TB_DAP_READ to read
 * @words: (inout): the words to write, or (out) the words read
 *
 * Reads or writes one register @n times with DAP_TransferBlock, as many
 * words per packet as the packet size allows, and with a pipelined
 * transport up to the probe's packet count of packets in flight.
 */
gboolean
tb_dap_transfer_block (TbDap *dap, guint8 request, guint32 *words, guint n, GError **error)
{
  guint per_packet = tb_dap_block_words (dap, (request & TB_DAP_READ) != 0);
  g_autoptr(GArray) packets = g_array_new (FALSE, TRUE, sizeof (TbDapPacket));

  for (guint start = 0; start < n; start += per_packet)
    {
      TbDapPacket p = { TRUE, request, words + start, MIN (n - start, per_packet), NULL };
      g_array_append_val (packets, p);
    }
  return tb_dap_run_packets (dap, (TbDapPacket *) packets->data, packets->len, error);
}
