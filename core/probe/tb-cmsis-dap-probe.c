/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A CMSIS-DAP probe as a TbProbe: the protocol (tb-cmsis-dap.c), ADIv5
 * (tb-adiv5.c) and Cortex-M run control (tb-cortex-m.c) over a transport —
 * USB bulk endpoints for a real probe, an emulator in the tests. Connecting
 * reads the probe's information, switches the target to SWD, powers its
 * debug domain up and reads DP IDCODE, the AP's IDR and CPUID. */

#include "config.h"

#include "tb-cmsis-dap-probe.h"

#include <glib/gi18n-lib.h>

#include "tb-adiv5.h"
#include "tb-cortex-m.h"
#include "tb-error.h"

struct _TbCmsisDapProbe {
  TbProbe parent_instance;

  TbDap *dap;
  TbAdiv5 *adi;
  gpointer transport;
  GDestroyNotify transport_destroy;
  char *firmware;
  guint32 cpuid;
  guint32 clock;
};

G_DEFINE_FINAL_TYPE (TbCmsisDapProbe, tb_cmsis_dap_probe, TB_TYPE_PROBE)

static gboolean
dap_read (TbProbe *probe, guint32 address, guint8 *buf, gsize len, GError **error)
{
  return tb_adiv5_read_memory (TB_CMSIS_DAP_PROBE (probe)->adi, address, buf, len, error);
}

static gboolean
dap_write (TbProbe *probe, guint32 address, const guint8 *data, gsize len, GError **error)
{
  return tb_adiv5_write_memory (TB_CMSIS_DAP_PROBE (probe)->adi, address, data, len, error);
}

static gboolean
dap_reset (TbProbe *probe, gboolean halt, GError **error)
{
  return tb_cortex_m_reset (TB_CMSIS_DAP_PROBE (probe)->adi, halt, error);
}

static gboolean
dap_halt (TbProbe *probe, GError **error)
{
  return tb_cortex_m_halt (TB_CMSIS_DAP_PROBE (probe)->adi, error);
}

static gboolean
dap_resume (TbProbe *probe, GError **error)
{
  return tb_cortex_m_resume (TB_CMSIS_DAP_PROBE (probe)->adi, error);
}

static void
tb_cmsis_dap_probe_finalize (GObject *object)
{
  TbCmsisDapProbe *self = TB_CMSIS_DAP_PROBE (object);

  if (self->dap != NULL)
    tb_dap_disconnect (self->dap, NULL);
  g_clear_pointer (&self->adi, tb_adiv5_free);
  g_clear_pointer (&self->dap, tb_dap_free);
  if (self->transport_destroy != NULL)
    self->transport_destroy (self->transport);
  g_free (self->firmware);
  G_OBJECT_CLASS (tb_cmsis_dap_probe_parent_class)->finalize (object);
}

static void
tb_cmsis_dap_probe_class_init (TbCmsisDapProbeClass *klass)
{
  TbProbeClass *probe_class = TB_PROBE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = tb_cmsis_dap_probe_finalize;
  probe_class->read_memory = dap_read;
  probe_class->write_memory = dap_write;
  probe_class->reset = dap_reset;
  probe_class->halt = dap_halt;
  probe_class->resume = dap_resume;
}

static void
tb_cmsis_dap_probe_init (TbCmsisDapProbe *self)
{
}

/**
 * tb_cmsis_dap_probe_new_for_transport:
 * @exchange: sends one command packet and receives its response
 * @destroy: (nullable): frees @data with the probe
 * @uri: the probe's URI (`cmsis-dap:SERIAL`)
 *
 * Connects to the probe and, through it, to the target's debug port.
 */
TbProbe *
tb_cmsis_dap_probe_new_for_transport (TbDapExchangeFunc exchange, gpointer data, GDestroyNotify destroy,
                                      const char *uri, GError **error)
{
  g_autoptr(TbDap) dap = tb_dap_new (exchange, data);
  g_autofree char *vendor = NULL, *product = NULL, *serial = NULL, *firmware = NULL, *description = NULL;
  g_autoptr(TbCmsisDapProbe) self = NULL;

  if (!tb_dap_init (dap, error) || (vendor = tb_dap_info_string (dap, TB_DAP_INFO_VENDOR, error)) == NULL ||
      (product = tb_dap_info_string (dap, TB_DAP_INFO_PRODUCT, error)) == NULL ||
      (serial = tb_dap_info_string (dap, TB_DAP_INFO_SERIAL, error)) == NULL ||
      (firmware = tb_dap_info_string (dap, TB_DAP_INFO_FIRMWARE_VERSION, error)) == NULL)
    {
      if (destroy != NULL)
        destroy (data);
      return NULL;
    }
  description = g_strdup_printf (_("CMSIS-DAP probe %s %s (serial %s)"), vendor, product, serial);
  self = g_object_new (TB_TYPE_CMSIS_DAP_PROBE, "uri", uri, "kind", "cmsis-dap", "serial", serial, "description",
                       description, NULL);
  self->dap = g_steal_pointer (&dap);
  self->transport = data;
  self->transport_destroy = destroy;
  self->firmware = g_steal_pointer (&firmware);
  self->clock = TB_CMSIS_DAP_DEFAULT_CLOCK_HZ;
  self->adi = tb_adiv5_new (self->dap);
  if (!tb_dap_connect_swd (self->dap, error) || !tb_dap_swj_clock (self->dap, self->clock, error) ||
      !tb_dap_transfer_configure (self->dap, 0, 128, 0, error) || !tb_adiv5_connect (self->adi, error) ||
      !tb_adiv5_read32 (self->adi, TB_CM_CPUID, &self->cpuid, error))
    return NULL;
  return TB_PROBE (g_steal_pointer (&self));
}

TbDap *
tb_cmsis_dap_probe_get_dap (TbCmsisDapProbe *self)
{
  return self->dap;
}

TbAdiv5 *
tb_cmsis_dap_probe_get_adiv5 (TbCmsisDapProbe *self)
{
  return self->adi;
}

const char *
tb_cmsis_dap_probe_get_firmware (TbCmsisDapProbe *self)
{
  return self->firmware;
}

guint32
tb_cmsis_dap_probe_get_idcode (TbCmsisDapProbe *self)
{
  return tb_adiv5_get_idcode (self->adi);
}

guint32
tb_cmsis_dap_probe_get_ap_idr (TbCmsisDapProbe *self)
{
  return tb_adiv5_get_ap_idr (self->adi);
}

guint32
tb_cmsis_dap_probe_get_cpuid (TbCmsisDapProbe *self)
{
  return self->cpuid;
}

guint32
tb_cmsis_dap_probe_get_clock (TbCmsisDapProbe *self)
{
  return self->clock;
}

/**
 * tb_cmsis_dap_probe_describe:
 *
 * One line for people: the probe's firmware, packet count and size, SWD
 * clock and the core behind it (the workbench's Devices page shows it).
 *
 * Returns: (transfer full): the description
 */
char *
tb_cmsis_dap_probe_describe (TbCmsisDapProbe *self)
{
  TbDap *dap = tb_cmsis_dap_probe_get_dap (self);

  return g_strdup_printf (_("firmware %s · %u packets of %u bytes · SWD %.1f MHz · %s (DP 0x%08x)"),
                          tb_cmsis_dap_probe_get_firmware (self), tb_dap_get_packet_count (dap),
                          tb_dap_get_packet_size (dap), tb_cmsis_dap_probe_get_clock (self) / 1e6,
                          tb_cortex_m_core_name (tb_cmsis_dap_probe_get_cpuid (self)),
                          tb_cmsis_dap_probe_get_idcode (self));
}
