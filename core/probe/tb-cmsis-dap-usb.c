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


typedef struct {
  libusb_context *usb;
  libusb_device_handle *handle;
  int interface;
  guint8 ep_out;
  guint8 ep_in;
  gsize response_cap;           /* the largest answer the protocol layer takes */
  GQueue pending;               /* Command: sent, answer not yet taken */
} Usb;

/* One command in flight: its bulk OUT and the bulk IN for its answer, both
 * submitted at once as asynchronous libusb transfers. */
typedef struct {
  struct libusb_transfer *out;
  struct libusb_transfer *in;
  int out_done;
  int in_done;
  guint timeout_ms;
} Command;

static void LIBUSB_CALL
transfer_done (struct libusb_transfer *transfer)
{
  *(int *) transfer->user_data = 1;
}

static void
command_free (Command *c)
{
  if (c->out != NULL)
    {
      g_free (c->out->buffer);
      libusb_free_transfer (c->out);
    }
  if (c->in != NULL)
    {
      g_free (c->in->buffer);
      libusb_free_transfer (c->in);
    }
  g_free (c);
}

/* Runs libusb's events until *@flag is set. The transfers carry their own
 * timeouts; the deadline only guards against a transfer libusb never ends. */
static gboolean
wait_for (Usb *u, int *flag, guint timeout_ms)
{
  gint64 deadline = g_get_monotonic_time () + (gint64) (timeout_ms + 5000) * 1000;

  while (!*flag)
    {
      struct timeval tv = { 0, 200 * 1000 };
      int rc = libusb_handle_events_timeout_completed (u->usb, &tv, flag);
      if ((rc != 0 && rc != LIBUSB_ERROR_INTERRUPTED) || g_get_monotonic_time () > deadline)
        return FALSE;
    }
  return TRUE;
}

/* Cancels every command still in flight and waits until libusb has let go
 * of their buffers. */
static void
cancel_pending (Usb *u)
{
  Command *c;

  for (GList *l = u->pending.head; l != NULL; l = l->next)
    {
      c = l->data;
      if (!c->out_done)
        libusb_cancel_transfer (c->out);
      if (!c->in_done)
        libusb_cancel_transfer (c->in);
    }
  while ((c = g_queue_pop_head (&u->pending)) != NULL)
    {
      if (wait_for (u, &c->out_done, 0) && wait_for (u, &c->in_done, 0))
        command_free (c);
      /* else libusb still owns the transfers: leaking them beats a use after free */
    }
}

static void
usb_free (Usb *u)
{
  if (u == NULL)
    return;
  if (u->handle != NULL)
    {
      cancel_pending (u);
      libusb_release_interface (u->handle, u->interface);
      libusb_close (u->handle);
    }
  if (u->usb != NULL)
    libusb_exit (u->usb);
  g_free (u);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Usb, usb_free)

static GError *
transfer_error (int rc, const char *what, guint timeout_ms)
{
  int code = rc == LIBUSB_ERROR_NO_DEVICE ? TB_ERROR_NOT_FOUND : TB_ERROR_FAILED;

  if (rc == LIBUSB_ERROR_TIMEOUT)
    return g_error_new (TB_ERROR, code, _("The CMSIS-DAP probe did not answer within %u ms"), timeout_ms);
  return g_error_new (TB_ERROR, code, "%s: %s", what, libusb_strerror (rc));
}

static int
status_code (enum libusb_transfer_status status)
{
  switch (status)
    {
    case LIBUSB_TRANSFER_COMPLETED:
      return 0;
    case LIBUSB_TRANSFER_TIMED_OUT:
      return LIBUSB_ERROR_TIMEOUT;
    case LIBUSB_TRANSFER_NO_DEVICE:
      return LIBUSB_ERROR_NO_DEVICE;
    case LIBUSB_TRANSFER_OVERFLOW:
      return LIBUSB_ERROR_OVERFLOW;
    case LIBUSB_TRANSFER_STALL:
      return LIBUSB_ERROR_PIPE;
    case LIBUSB_TRANSFER_CANCELLED:
      return LIBUSB_ERROR_INTERRUPTED;
    case LIBUSB_TRANSFER_ERROR:
    default:
      return LIBUSB_ERROR_IO;
    }
}

/* Pipelined use: a command goes out, with the bulk IN for its answer
 * already queued behind it, while earlier ones are still being answered;
 * the probe buffers up to its packet count of them. */
static gboolean
usb_send (gpointer data, const guint8 *request, gsize len, guint timeout_ms, GError **error)
{
  Usb *u = data;
  Command *c = g_new0 (Command, 1);
  int rc;

  c->timeout_ms = timeout_ms;
  c->out = libusb_alloc_transfer (0);
  c->in = libusb_alloc_transfer (0);
  libusb_fill_bulk_transfer (c->out, u->handle, u->ep_out, g_memdup2 (request, len), (int) len, transfer_done,
                            &c->out_done, timeout_ms);
  libusb_fill_bulk_transfer (c->in, u->handle, u->ep_in, g_malloc (MAX (u->response_cap, 64)), (int) MAX (u->response_cap, 64),
                            transfer_done, &c->in_done, timeout_ms);
  if ((rc = libusb_submit_transfer (c->out)) != 0)
    {
      command_free (c);
      g_propagate_error (error, transfer_error (rc, _("Cannot send a command to the CMSIS-DAP probe"), timeout_ms));
      return FALSE;
    }
  if ((rc = libusb_submit_transfer (c->in)) != 0)
    {
      c->in_done = 1;
      g_queue_push_tail (&u->pending, c);
      cancel_pending (u);
      g_propagate_error (error, transfer_error (rc, _("Cannot ask for the CMSIS-DAP probe's answer"), timeout_ms));
      return FALSE;
    }
  g_queue_push_tail (&u->pending, c);
  return TRUE;
}

/* The oldest outstanding command's answer. A failed transfer breaks the
 * stream: everything still in flight is cancelled. */
static gboolean
usb_receive (gpointer data, guint8 *response, gsize cap, gsize *response_len, guint timeout_ms, GError **error)
{
  Usb *u = data;
  Command *c = g_queue_peek_head (&u->pending);
  GError *failure = NULL;
  int rc;

  u->response_cap = MAX (cap, 64);
  if (c == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("No command is waiting for the CMSIS-DAP probe's answer"));
      return FALSE;
    }
  if (!wait_for (u, &c->out_done, c->timeout_ms) || !wait_for (u, &c->in_done, c->timeout_ms))
    failure = transfer_error (LIBUSB_ERROR_TIMEOUT, NULL, c->timeout_ms);
  else if ((rc = status_code (c->out->status)) != 0 || c->out->actual_length != c->out->length)
    failure = transfer_error (rc != 0 ? rc : LIBUSB_ERROR_IO, _("Cannot send a command to the CMSIS-DAP probe"),
                              c->timeout_ms);
  else if ((rc = status_code (c->in->status)) != 0)
    failure = transfer_error (rc, _("Cannot read the CMSIS-DAP probe's answer"), c->timeout_ms);
  else if ((gsize) c->in->actual_length > cap)
    failure = g_error_new (TB_ERROR, TB_ERROR_FAILED,
                           _("The CMSIS-DAP probe answered %d bytes, more than its packet size of %" G_GSIZE_FORMAT),
                           c->in->actual_length, cap);
  if (failure != NULL)
    {
      cancel_pending (u);
      g_propagate_error (error, failure);
      return FALSE;
    }
  memcpy (response, c->in->buffer, (gsize) c->in->actual_length);
  *response_len = (gsize) c->in->actual_length;
  command_free (g_queue_pop_head (&u->pending));
  return TRUE;
}

static gboolean
usb_exchange (gpointer data, const guint8 *request, gsize len, guint8 *response, gsize cap, gsize *response_len,
              guint timeout_ms, GError **error)
{
  Usb *u = data;

  u->response_cap = MAX (cap, 64);
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
                 _("Permission denied opening the USB device %04x:%04x. Let your user open it with this udev rule "
                   "in /etc/udev/rules.d/60-trustbench-cmsis-dap.rules (the rules Trustbench installs name the "
                   "common probes), then run `udevadm control --reload` and replug the probe:\n"
                   "SUBSYSTEM==\"usb\", ATTR{idVendor}==\"%04x\", ATTR{idProduct}==\"%04x\", TAG+=\"uaccess\""),
                 vid, pid, vid, pid);
  else if (rc == LIBUSB_ERROR_BUSY)
    g_set_error (error, TB_ERROR, TB_ERROR_BUSY,
                 _("The CMSIS-DAP probe %04x:%04x is busy: in use by another program (a debugger, OpenOCD, pyOCD, "
                   "another trustbench-tool?)"), vid, pid);
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

/* The part of a watch its event thread shares with the main context: the
 * thread's callback only queues a dispatch, which does nothing once the
 * watch is gone. */
typedef struct {
  GMainContext *context;
  TbUsbChangedFunc changed;
  gpointer user_data;
  gint alive;
} WatchShared;

struct _TbUsbWatch {
  libusb_context *usb;
  libusb_hotplug_callback_handle handle;
  GThread *thread;
  int stop;
  WatchShared *shared;
};

static void
watch_shared_clear (WatchShared *shared)
{
  g_main_context_unref (shared->context);
}

static gboolean
watch_dispatch (gpointer data)
{
  WatchShared *shared = data;

  if (g_atomic_int_get (&shared->alive))
    shared->changed (shared->user_data);
  return G_SOURCE_REMOVE;
}

static void
watch_shared_release (gpointer data)
{
  g_atomic_rc_box_release_full (data, (GDestroyNotify) watch_shared_clear);
}

static int LIBUSB_CALL
watch_hotplug (libusb_context *usb, libusb_device *device, libusb_hotplug_event event, void *data)
{
  WatchShared *shared = data;

  g_main_context_invoke_full (shared->context, G_PRIORITY_DEFAULT, watch_dispatch, g_atomic_rc_box_acquire (shared),
                              watch_shared_release);
  return 0;
}

static gpointer
watch_thread (gpointer data)
{
  TbUsbWatch *watch = data;

  while (!g_atomic_int_get (&watch->stop))
    {
      struct timeval tv = { 0, 250 * 1000 };
      libusb_handle_events_timeout_completed (watch->usb, &tv, &watch->stop);
    }
  return NULL;
}

/**
 * tb_usb_watch_new:
 * @changed: called in the thread-default main context of the caller when a
 *   USB device was plugged in or out
 *
 * Watches USB hotplug events. Where libusb has no hotplug support, fails
 * with %TB_ERROR_UNSUPPORTED: then list the probes from time to time.
 *
 * Returns: (transfer full) (nullable): the watch
 */
TbUsbWatch *
tb_usb_watch_new (TbUsbChangedFunc changed, gpointer user_data, GError **error)
{
  g_autofree TbUsbWatch *watch = g_new0 (TbUsbWatch, 1);
  int rc;

  if (!libusb_has_capability (LIBUSB_CAP_HAS_HOTPLUG))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("This libusb cannot report USB devices plugged in or out"));
      return NULL;
    }
  if ((rc = libusb_init (&watch->usb)) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("USB is not available here (%s)"), libusb_strerror (rc));
      return NULL;
    }
  watch->shared = g_atomic_rc_box_new0 (WatchShared);
  watch->shared->context = g_main_context_ref_thread_default ();
  watch->shared->changed = changed;
  watch->shared->user_data = user_data;
  watch->shared->alive = 1;
  rc = libusb_hotplug_register_callback (watch->usb,
                                         LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED | LIBUSB_HOTPLUG_EVENT_DEVICE_LEFT,
                                         0, LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
                                         LIBUSB_HOTPLUG_MATCH_ANY, watch_hotplug, watch->shared, &watch->handle);
  if (rc != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("Cannot watch USB devices: %s"), libusb_strerror (rc));
      watch_shared_release (watch->shared);
      libusb_exit (watch->usb);
      return NULL;
    }
  watch->thread = g_thread_new ("tb-usb-watch", watch_thread, watch);
  return g_steal_pointer (&watch);
}

void
tb_usb_watch_free (TbUsbWatch *watch)
{
  if (watch == NULL)
    return;
  g_atomic_int_set (&watch->shared->alive, 0);
  g_atomic_int_set (&watch->stop, 1);
  /* deregistering wakes the event thread up */
  libusb_hotplug_deregister_callback (watch->usb, watch->handle);
  g_thread_join (watch->thread);
  libusb_exit (watch->usb);
  watch_shared_release (watch->shared);
  g_free (watch);
}
