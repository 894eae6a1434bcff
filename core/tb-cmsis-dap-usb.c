/* SPDX-License-Identifier: GPL-3.0-or-later */

/* CMSIS-DAP v2 probes on USB, through libusb: a probe is a device with a
 * vendor-class interface whose name contains "CMSIS-DAP" (as the CMSIS-DAP
 * specification says) and that has a bulk OUT and a bulk IN endpoint.
 * Probes are named `cmsis-dap:SERIAL`; `cmsis-dap` alone is the only probe.
 * Commands go out on bulk OUT, responses come back on bulk IN, each within
 * the protocol's timeout. */

#include "config.h"

#include "tb-cmsis-dap-usb.h"

#include <glib/gi18n-lib.h>
#include <libusb.h>
#include <string.h>

#include "tb-cmsis-dap-probe.h"
#include "tb-error.h"

#define UDEV_RULE_HINT \
  "add a udev rule such as data/60-trustbench-cmsis-dap.rules (installed with Trustbench) and replug the probe"

typedef struct {
  libusb_context *usb;
  libusb_device_handle *handle;
  int interface;
  guint8 ep_out;
  guint8 ep_in;
  guint16 max_packet;
} Usb;

static void
usb_free (Usb *u)
{
  if (u == NULL)
    return;
  if (u->handle != NULL)
    {
      libusb_release_interface (u->handle, u->interface);
      libusb_close (u->handle);
    }
  if (u->usb != NULL)
    libusb_exit (u->usb);
  g_free (u);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Usb, usb_free)

/* Pipelined use: commands go out while earlier ones are still being
 * answered; the probe buffers up to its packet count of them. */
static gboolean
usb_send (gpointer data, const guint8 *request, gsize len, guint timeout_ms, GError **error)
{
  Usb *u = data;
  int done = 0;
  int rc = libusb_bulk_transfer (u->handle, u->ep_out, (unsigned char *) request, (int) len, &done, timeout_ms);

  if (rc != 0 || done != (int) len)
    {
      g_set_error (error, TB_ERROR, rc == LIBUSB_ERROR_NO_DEVICE ? TB_ERROR_NOT_FOUND : TB_ERROR_FAILED,
                   _("Cannot send a command to the CMSIS-DAP probe: %s"),
                   rc != 0 ? libusb_strerror (rc) : _("short write"));
      return FALSE;
    }
  return TRUE;
}

static gboolean
usb_receive (gpointer data, guint8 *response, gsize cap, gsize *response_len, guint timeout_ms, GError **error)
{
  Usb *u = data;
  int done = 0;
  int rc = libusb_bulk_transfer (u->handle, u->ep_in, response, (int) cap, &done, timeout_ms);

  if (rc != 0)
    {
      g_set_error (error, TB_ERROR, rc == LIBUSB_ERROR_NO_DEVICE ? TB_ERROR_NOT_FOUND : TB_ERROR_FAILED,
                   rc == LIBUSB_ERROR_TIMEOUT ? _("The CMSIS-DAP probe did not answer within %u ms")
                                              : _("Cannot read the CMSIS-DAP probe's answer (%u ms): %s"),
                   timeout_ms, libusb_strerror (rc));
      return FALSE;
    }
  *response_len = (gsize) done;
  return TRUE;
}

static gboolean
usb_exchange (gpointer data, const guint8 *request, gsize len, guint8 *response, gsize cap, gsize *response_len,
              guint timeout_ms, GError **error)
{
  return usb_send (data, request, len, timeout_ms, error) &&
         usb_receive (data, response, cap, response_len, timeout_ms, error);
}

/* The CMSIS-DAP v2 interface of @dev, if it has one (the name needs the
 * device open: see check_name). */
static gboolean
find_interface (libusb_device *dev, int *number, guint8 *ep_out, guint8 *ep_in, guint8 *name_index)
{
  struct libusb_config_descriptor *config = NULL;
  gboolean found = FALSE;

  if (libusb_get_active_config_descriptor (dev, &config) != 0 &&
      libusb_get_config_descriptor (dev, 0, &config) != 0)
    return FALSE;
  for (int i = 0; i < config->bNumInterfaces && !found; i++)
    {
      const struct libusb_interface_descriptor *alt;
      guint8 out = 0, in = 0;

      if (config->interface[i].num_altsetting < 1)
        continue;
      alt = &config->interface[i].altsetting[0];
      if (alt->bInterfaceClass != LIBUSB_CLASS_VENDOR_SPEC || alt->iInterface == 0)
        continue;
      for (int e = 0; e < alt->bNumEndpoints; e++)
        {
          const struct libusb_endpoint_descriptor *ep = &alt->endpoint[e];
          if ((ep->bmAttributes & 0x03) != LIBUSB_TRANSFER_TYPE_BULK)
            continue;
          if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) != 0 && in == 0)
            in = ep->bEndpointAddress;
          else if ((ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) == 0 && out == 0)
            out = ep->bEndpointAddress;
        }
      if (in != 0 && out != 0)
        {
          *number = alt->bInterfaceNumber;
          *ep_out = out;
          *ep_in = in;
          *name_index = alt->iInterface;
          found = TRUE;
        }
    }
  libusb_free_config_descriptor (config);
  return found;
}

static char *
string_descriptor (libusb_device_handle *handle, guint8 index)
{
  unsigned char buf[256];
  int n = index != 0 ? libusb_get_string_descriptor_ascii (handle, index, buf, sizeof buf - 1) : -1;

  if (n < 0)
    return NULL;
  buf[n] = '\0';
  return g_strdup ((const char *) buf);
}

static void
set_open_error (GError **error, int rc, guint16 vid, guint16 pid)
{
  if (rc == LIBUSB_ERROR_ACCESS)
    g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION,
                 _("Permission denied opening the USB device %04x:%04x: %s"), vid, pid, UDEV_RULE_HINT);
  else if (rc == LIBUSB_ERROR_BUSY)
    g_set_error (error, TB_ERROR, TB_ERROR_BUSY,
                 _("The CMSIS-DAP probe %04x:%04x is in use by another program (a debugger, OpenOCD, pyOCD?)"), vid,
                 pid);
  else
    g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot open the USB device %04x:%04x: %s"), vid, pid,
                 libusb_strerror (rc));
}

typedef struct {
  char *serial;
  char *vendor;
  char *product;
  guint16 vid, pid, bcd;
  libusb_device *dev;
  int interface;
  guint8 ep_out, ep_in;
  int open_error;               /* 0, or why it could not be opened */
} Candidate;

static void
candidate_free (Candidate *c)
{
  g_free (c->serial);
  g_free (c->vendor);
  g_free (c->product);
  if (c->dev != NULL)
    libusb_unref_device (c->dev);
  g_free (c);
}

/* Every USB device with a CMSIS-DAP v2 interface. */
static GPtrArray *
find_probes (libusb_context *usb)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) candidate_free);
  libusb_device **list = NULL;
  ssize_t n = libusb_get_device_list (usb, &list);

  for (ssize_t i = 0; i < n; i++)
    {
      struct libusb_device_descriptor desc;
      libusb_device_handle *handle = NULL;
      int number, rc;
      guint8 ep_out, ep_in, name_index;
      g_autofree char *name = NULL;
      Candidate *c;

      if (libusb_get_device_descriptor (list[i], &desc) != 0 ||
          !find_interface (list[i], &number, &ep_out, &ep_in, &name_index))
        continue;
      c = g_new0 (Candidate, 1);
      c->vid = desc.idVendor;
      c->pid = desc.idProduct;
      c->bcd = desc.bcdDevice;
      c->dev = libusb_ref_device (list[i]);
      c->interface = number;
      c->ep_out = ep_out;
      c->ep_in = ep_in;
      rc = libusb_open (list[i], &handle);
      if (rc != 0)
        {
          /* cannot read its strings: list it, with the reason */
          c->open_error = rc;
          g_ptr_array_add (out, c);
          continue;
        }
      name = string_descriptor (handle, name_index);
      if (name == NULL || strstr (name, "CMSIS-DAP") == NULL)
        {
          libusb_close (handle);
          candidate_free (c);
          continue;
        }
      c->serial = string_descriptor (handle, desc.iSerialNumber);
      c->vendor = string_descriptor (handle, desc.iManufacturer);
      c->product = string_descriptor (handle, desc.iProduct);
      libusb_close (handle);
      g_ptr_array_add (out, c);
    }
  if (n >= 0 && list != NULL)
    libusb_free_device_list (list, 1);
  return out;
}

/**
 * tb_cmsis_dap_usb_list:
 *
 * Returns: (transfer full) (element-type TbProbeInfo): the CMSIS-DAP
 *   probes on USB (an empty list when USB is not available)
 */
GPtrArray *
tb_cmsis_dap_usb_list (GError **error)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) tb_probe_info_free);
  libusb_context *usb = NULL;
  g_autoptr(GPtrArray) probes = NULL;

  if (libusb_init (&usb) != 0)
    return out;
  probes = find_probes (usb);
  for (guint i = 0; i < probes->len; i++)
    {
      Candidate *c = g_ptr_array_index (probes, i);
      TbProbeInfo *info = g_new0 (TbProbeInfo, 1);

      info->kind = g_strdup ("cmsis-dap");
      info->serial = g_strdup (c->serial != NULL ? c->serial : "");
      info->uri = c->serial != NULL ? g_strconcat ("cmsis-dap:", c->serial, NULL) : g_strdup ("cmsis-dap");
      info->description = c->open_error != 0
                            ? g_strdup_printf (_("USB device %04x:%04x (cannot open it: %s)"), c->vid, c->pid,
                                               c->open_error == LIBUSB_ERROR_ACCESS ? _("permission denied")
                                                                                    : libusb_strerror (c->open_error))
                            : g_strdup_printf ("%s %s", c->vendor != NULL ? c->vendor : "?",
                                               c->product != NULL ? c->product : "CMSIS-DAP");
      info->vendor = g_strdup (c->vendor);
      info->product = g_strdup (c->product);
      info->firmware = g_strdup_printf ("%x.%02x", c->bcd >> 8, c->bcd & 0xff);
      g_ptr_array_add (out, info);
    }
  g_clear_pointer (&probes, g_ptr_array_unref);
  libusb_exit (usb);
  return out;
}

/**
 * tb_cmsis_dap_usb_open:
 * @serial: (nullable): the probe's serial number; %NULL when there is
 *   exactly one probe
 *
 * Opens a CMSIS-DAP v2 probe on USB and connects to its target.
 */
TbProbe *
tb_cmsis_dap_usb_open (const char *serial, GError **error)
{
  g_autoptr(Usb) u = g_new0 (Usb, 1);
  g_autoptr(GPtrArray) probes = NULL;
  Candidate *chosen = NULL;
  g_autofree char *uri = NULL;
  int rc;

  if ((rc = libusb_init (&u->usb)) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("No CMSIS-DAP probe: USB is not available here (%s)"),
                   libusb_strerror (rc));
      return NULL;
    }
  probes = find_probes (u->usb);
  for (guint i = 0; i < probes->len; i++)
    {
      Candidate *c = g_ptr_array_index (probes, i);
      if (serial == NULL || g_strcmp0 (c->serial, serial) == 0)
        {
          if (chosen != NULL)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                           _("%u CMSIS-DAP probes are connected: say which with cmsis-dap:SERIAL (probe list shows "
                             "them)"), probes->len);
              return NULL;
            }
          chosen = c;
        }
    }
  if (chosen == NULL)
    {
      if (serial != NULL)
        g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                     _("No CMSIS-DAP probe with serial %s is connected (probe list shows the probes)"), serial);
      else
        g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("No CMSIS-DAP probe is connected"));
      return NULL;
    }
  if (chosen->open_error != 0)
    {
      set_open_error (error, chosen->open_error, chosen->vid, chosen->pid);
      return NULL;
    }
  if ((rc = libusb_open (chosen->dev, &u->handle)) != 0)
    {
      set_open_error (error, rc, chosen->vid, chosen->pid);
      return NULL;
    }
  libusb_set_auto_detach_kernel_driver (u->handle, 1);
  if ((rc = libusb_claim_interface (u->handle, chosen->interface)) != 0)
    {
      set_open_error (error, rc, chosen->vid, chosen->pid);
      libusb_close (u->handle);
      u->handle = NULL;
      return NULL;
    }
  u->interface = chosen->interface;
  u->ep_out = chosen->ep_out;
  u->ep_in = chosen->ep_in;
  uri = chosen->serial != NULL ? g_strconcat ("cmsis-dap:", chosen->serial, NULL) : g_strdup ("cmsis-dap");
  g_clear_pointer (&probes, g_ptr_array_unref);
  {
    TbProbe *probe = tb_cmsis_dap_probe_new_for_transport (usb_exchange, g_steal_pointer (&u),
                                                           (GDestroyNotify) usb_free, uri, error);
    if (probe != NULL)
      tb_dap_set_pipeline (tb_cmsis_dap_probe_get_dap (TB_CMSIS_DAP_PROBE (probe)), usb_send, usb_receive);
    return probe;
  }
}
