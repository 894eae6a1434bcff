/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The real libusb code path against a USB CMSIS-DAP v2 probe emulated by
 * umockdev: a testbed device (a vendor-class interface named "CMSIS-DAP"
 * with two bulk endpoints) whose usbfs ioctls (GET_CAPABILITIES, CLAIM /
 * RELEASEINTERFACE, SUBMITURB, REAPURB / REAPURBNDELAY, DISCARDURB) are
 * answered here; bulk OUT packets run through the emulated probe's command
 * interpreter (tb-dap-emu.c) wired to a virtual board, and its responses come
 * back on bulk IN. Runs under umockdev-wrapper. */

#include "config.h"

#include <errno.h>
#include <stdarg.h>
#include <linux/usbdevice_fs.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <string.h>
#include <umockdev.h>

#include "tb-cmsis-dap-usb.h"
#include "tb-dap-emu.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

#define DEVNODE "/dev/bus/usb/001/011"
#define SERIAL "TBEMU0001"

/* umockdev_in_mock_environment() can miss the preload; LD_PRELOAD tells */
static gboolean
in_umockdev (void)
{
  const char *preload = g_getenv ("LD_PRELOAD");
  return preload != NULL && strstr (preload, "umockdev") != NULL;
}

typedef struct {
  UMockdevIoctlData *urb;       /* the client's struct usbdevfs_urb */
  UMockdevIoctlData *buffer;    /* its buffer */
} Urb;

typedef struct {
  TbDapEmu *emu;
  GQueue done;                  /* Urb, ready to reap */
  GQueue responses;             /* GByteArray: the probe's answers, waiting for bulk INs */
  GQueue in_waiting;            /* Urb: bulk IN submitted before an answer */
  gboolean silent;              /* never answer (a hung probe) */
  gboolean busy;                /* claimed by another program */
  gboolean not_dap;             /* its vendor interface is something else */
  guint commands;
  guint ins_outstanding;        /* bulk IN URBs submitted, not yet reaped */
  guint max_ins_outstanding;
} Device;

static void
urb_free (Urb *u)
{
  g_clear_object (&u->urb);
  g_clear_object (&u->buffer);
  g_free (u);
}

/* The string descriptors a control transfer asks for. */
static gsize
string_descriptor (guint index, guint8 *out, gsize cap, gboolean not_dap)
{
  const char *const strings[] = { NULL, "Trustbench", "Emulated DAPLink", SERIAL,
                                  not_dap ? "Vendor Bulk Interface" : "CMSIS-DAP v2 Interface" };
  gsize n = 2;

  if (index == 0)
    {
      const guint8 langs[] = { 4, 3, 0x09, 0x04 };
      memcpy (out, langs, MIN (cap, sizeof langs));
      return MIN (cap, sizeof langs);
    }
  if (index >= G_N_ELEMENTS (strings))
    return 0;
  for (const char *c = strings[index]; *c != '\0' && n + 2 <= cap; c++)
    {
      out[n++] = (guint8) *c;
      out[n++] = 0;
    }
  out[0] = (guint8) n;
  out[1] = 3;
  return n;
}

static void
finish (Device *d, Urb *u, gsize actual)
{
  struct usbdevfs_urb *urb = (struct usbdevfs_urb *) u->urb->data;

  urb->status = 0;
  urb->actual_length = (int) actual;
  g_queue_push_tail (&d->done, u);
}

/* A bulk IN waiting for an answer gets it. */
static void
deliver (Device *d)
{
  while (!g_queue_is_empty (&d->responses) && !g_queue_is_empty (&d->in_waiting))
    {
      Urb *u = g_queue_pop_head (&d->in_waiting);
      g_autoptr(GByteArray) response = g_queue_pop_head (&d->responses);
      gsize n = MIN ((gsize) response->len, (gsize) u->buffer->data_len);
      memcpy (u->buffer->data, response->data, n);
      finish (d, u, n);
    }
}

static gboolean
handle_ioctl (UMockdevIoctlBase *handler, UMockdevIoctlClient *client, Device *d)
{
  gulong request = umockdev_ioctl_client_get_request (client);
  gulong size = (request >> _IOC_SIZESHIFT) & ((1 << _IOC_SIZEBITS) - 1);
  UMockdevIoctlData *arg = umockdev_ioctl_client_get_arg (client);
  g_autoptr(GError) error = NULL;
  g_autoptr(UMockdevIoctlData) data = size > 0 ? umockdev_ioctl_data_resolve (arg, 0, size, &error) : NULL;

  switch (request)
    {
    case USBDEVFS_GET_CAPABILITIES:
      *(guint32 *) data->data = USBDEVFS_CAP_BULK_CONTINUATION | USBDEVFS_CAP_NO_PACKET_SIZE_LIM;
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;
    case USBDEVFS_CLAIMINTERFACE:
    case USBDEVFS_DISCONNECT_CLAIM:
      if (d->busy)
        {
          umockdev_ioctl_client_complete (client, -1, EBUSY);
          return TRUE;
        }
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;
    case USBDEVFS_RELEASEINTERFACE:
    case USBDEVFS_CLEAR_HALT:
    case USBDEVFS_RESETEP:
    case USBDEVFS_SETINTERFACE:
      umockdev_ioctl_client_complete (client, 0, 0);
      return TRUE;
    case USBDEVFS_SUBMITURB:
      {
        struct usbdevfs_urb *urb = (struct usbdevfs_urb *) data->data;
        Urb *u = g_new0 (Urb, 1);

        u->urb = g_object_ref (data);
        u->buffer = umockdev_ioctl_data_resolve (data, G_STRUCT_OFFSET (struct usbdevfs_urb, buffer),
                                                 (gsize) urb->buffer_length, &error);
        if (u->buffer == NULL)
          {
            urb_free (u);
            umockdev_ioctl_client_complete (client, -1, EFAULT);
            return TRUE;
          }
        if (urb->type == USBDEVFS_URB_TYPE_CONTROL)
          {
            guint8 *setup = u->buffer->data;
            gsize n = 0;
            /* GET_DESCRIPTOR (string) is all a probe's host asks for */
            if (setup[0] == 0x80 && setup[1] == 0x06 && setup[3] == 0x03)
              n = string_descriptor (setup[2], setup + 8, (gsize) MIN (setup[6] | setup[7] << 8,
                                                                       urb->buffer_length - 8), d->not_dap);
            finish (d, u, n);
          }
        else if ((urb->endpoint & 0x80) == 0)
          {
            /* a command: the probe runs it at once */
            guint8 resp[1024];
            gsize n;
            d->commands++;
            if (!d->silent)
              {
                GByteArray *answer = g_byte_array_new ();
                n = tb_dap_emu_command (d->emu, u->buffer->data, (gsize) urb->buffer_length, resp);
                g_byte_array_append (answer, resp, (guint) n);
                g_queue_push_tail (&d->responses, answer);
              }
            finish (d, u, (gsize) urb->buffer_length);
          }
        else
          {
            g_queue_push_tail (&d->in_waiting, u);
            d->ins_outstanding++;
            d->max_ins_outstanding = MAX (d->max_ins_outstanding, d->ins_outstanding);
          }
        deliver (d);
        umockdev_ioctl_client_complete (client, 0, 0);
        return TRUE;
      }
    case USBDEVFS_DISCARDURB:
      for (GList *l = d->in_waiting.head; l != NULL; l = l->next)
        {
          Urb *u = l->data;
          /* DISCARDURB's argument is the URB's address itself */
          if (arg->data_len >= (gint) sizeof (gulong) && u->urb->client_addr == *(gulong *) arg->data)
            {
              struct usbdevfs_urb *urb = (struct usbdevfs_urb *) u->urb->data;
              g_queue_delete_link (&d->in_waiting, l);
              urb->status = -ENOENT;
              urb->actual_length = 0;
              g_queue_push_tail (&d->done, u);
              umockdev_ioctl_client_complete (client, 0, 0);
              return TRUE;
            }
        }
      umockdev_ioctl_client_complete (client, -1, EINVAL);
      return TRUE;
    case USBDEVFS_REAPURB:
    case USBDEVFS_REAPURBNDELAY:
      {
        Urb *u = g_queue_pop_head (&d->done);
        if (u == NULL)
          {
            umockdev_ioctl_client_complete (client, -1, EAGAIN);
            return TRUE;
          }
        if (((struct usbdevfs_urb *) u->urb->data)->type == USBDEVFS_URB_TYPE_BULK &&
            (((struct usbdevfs_urb *) u->urb->data)->endpoint & 0x80) != 0)
          d->ins_outstanding--;
        umockdev_ioctl_data_set_ptr (data, 0, u->urb);
        umockdev_ioctl_client_complete (client, 0, 0);
        urb_free (u);
        return TRUE;
      }
    default:
      umockdev_ioctl_client_complete (client, -1, ENOTTY);
      return TRUE;
    }
}

/* device descriptor + configuration: one vendor interface, bulk OUT 0x01 and IN 0x81 */
static const char descriptors[] =
  "1201000200000040280d0402000101020301" /* device */
  "090220000101008032" /* configuration */
  "0904000002ff000004" /* interface 0: vendor class, string 4 */
  "07050102400000" /* bulk OUT */
  "07058102400000"; /* bulk IN */

typedef struct {
  char *tmp;
  UMockdevTestbed *testbed;
  UMockdevIoctlBase *handler;
  Device device;
  TbVirtualBoard *board;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  const char *hex = descriptors;
  g_autofree char *text = NULL;

  if (!in_umockdev ())
    return;
  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "board", NULL);
  f->board = tb_virtual_board_create (dir, NULL, 256 * 1024, 1024, "0dab05b1", &error);
  g_assert_no_error (error);
  tb_virtual_board_reset (f->board);
  f->device.emu = tb_dap_emu_new (f->board, 64, 4, SERIAL);
  g_queue_init (&f->device.done);
  g_queue_init (&f->device.in_waiting);
  g_queue_init (&f->device.responses);
  f->testbed = umockdev_testbed_new ();
  text = g_strdup_printf ("P: /devices/pci0000:00/0000:00:14.0/usb1/1-1\n"
                          "N: bus/usb/001/011\n"
                          "E: SUBSYSTEM=usb\n"
                          "E: DEVTYPE=usb_device\n"
                          "E: DEVNAME=" DEVNODE "\n"
                          "E: BUSNUM=001\n"
                          "E: DEVNUM=011\n"
                          "A: busnum=1\n"
                          "A: devnum=11\n"
                          "A: speed=480\n"
                          "A: bConfigurationValue=1\n"
                          "A: bNumConfigurations=1\n"
                          "A: idVendor=0d28\n"
                          "A: idProduct=0204\n"
                          "H: descriptors=%s\n", hex);
  g_assert_true (umockdev_testbed_add_from_string (f->testbed, text, &error));
  g_assert_no_error (error);
  f->handler = umockdev_ioctl_base_new ();
  g_signal_connect (f->handler, "handle-ioctl", G_CALLBACK (handle_ioctl), &f->device);
  g_assert_true (umockdev_testbed_attach_ioctl (f->testbed, DEVNODE, f->handler, &error));
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  if (f->testbed == NULL)
    return;
  g_clear_object (&f->handler);
  g_clear_object (&f->testbed);
  g_queue_clear_full (&f->device.done, (GDestroyNotify) urb_free);
  g_queue_clear_full (&f->device.in_waiting, (GDestroyNotify) urb_free);
  g_queue_clear_full (&f->device.responses, (GDestroyNotify) g_byte_array_unref);
  tb_dap_emu_free (f->device.emu);
  g_clear_object (&f->board);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
}

static gboolean
skip_outside_umockdev (void)
{
  if (in_umockdev ())
    return FALSE;
  g_test_skip ("needs umockdev-wrapper");
  return TRUE;
}

static void
test_list_and_memory (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(TbProbe) probe = NULL;
  guint8 out[2000], in[2000];

  if (skip_outside_umockdev ())
    return;
  list = tb_cmsis_dap_usb_list (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 1);
  g_assert_cmpstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->uri, ==, "cmsis-dap:" SERIAL);
  g_assert_cmpstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->description, ==, "Trustbench Emulated DAPLink");
  g_assert_cmpstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->vendor, ==, "Trustbench");
  g_assert_cmpstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->product, ==, "Emulated DAPLink");
  g_assert_cmpstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->firmware, ==, "1.00");

  probe = tb_probe_open ("cmsis-dap:" SERIAL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (probe);
  g_assert_cmphex (tb_cmsis_dap_probe_get_idcode (TB_CMSIS_DAP_PROBE (probe)), ==, 0x2ba01477);
  /* what the Devices page shows of it */
  {
    g_autofree char *details = tb_cmsis_dap_probe_describe (TB_CMSIS_DAP_PROBE (probe));
    g_autofree char *clock = g_strdup_printf ("SWD %.1f MHz", tb_cmsis_dap_probe_get_clock (TB_CMSIS_DAP_PROBE (probe)) / 1e6);
    g_assert_nonnull (strstr (details, "firmware 0.1.0-emu"));
    g_assert_nonnull (strstr (details, "4 packets of 64 bytes"));
    g_assert_nonnull (strstr (details, clock));
    g_assert_cmpuint (tb_cmsis_dap_probe_get_clock (TB_CMSIS_DAP_PROBE (probe)), >, 0);
    g_assert_nonnull (strstr (details, "Cortex-M4 (DP 0x2ba01477)"));
  }
  for (guint i = 0; i < sizeof out; i++)
    out[i] = (guint8) (i * 5 + 1);
  g_assert_true (tb_probe_write_memory (probe, TB_BOARD_RAM_BASE + 0x3001, out, sizeof out, NULL, &error));
  g_assert_true (tb_probe_read_memory (probe, TB_BOARD_RAM_BASE + 0x3001, in, sizeof in, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpmem (in, sizeof in, out, sizeof out);
  g_assert_cmpuint (f->device.commands, >, 20);
  /* block transfers kept the probe's packet count of commands in flight */
  g_assert_cmpuint (tb_dap_get_max_in_flight (tb_cmsis_dap_probe_get_dap (TB_CMSIS_DAP_PROBE (probe))), ==, 4);
  /* ... as asynchronous libusb transfers: the bulk INs of all four were
   * queued in usbfs at once */
  g_assert_cmpuint (f->device.max_ins_outstanding, ==, 4);
  /* the only probe */
  g_clear_object (&probe);
  probe = tb_probe_open ("cmsis-dap", &error);
  g_assert_no_error (error);
  g_clear_object (&probe);
  probe = tb_probe_open ("cmsis-dap:OTHER", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
}

/* The board behind the USB probe, provisioned and programmed through it,
 * ends with flash identical byte for byte to a copy of the same board
 * provisioned through the in-process virtual probe. */
static void
test_provision_byte_for_byte (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *ctx_dir = NULL, *bin = NULL, *upk = NULL, *image = NULL, *board_dir = NULL, *copy = NULL;
  g_autofree char *uri = NULL;
  g_autoptr(TbContext) ctx = NULL;
  const char *products[] = { "widget", NULL };
  TbProvisionOptions options = { NULL, NULL, NULL, FALSE };

  if (skip_outside_umockdev ())
    return;
  ctx_dir = g_build_filename (f->tmp, "ctx", NULL);
  bin = g_build_filename (f->tmp, "app.bin", NULL);
  upk = g_build_filename (f->tmp, "app.tbupk", NULL);
  image = g_build_filename (f->tmp, "app.tbimg", NULL);
  board_dir = g_strdup (tb_virtual_board_get_path (f->board));
  copy = g_build_filename (f->tmp, "copy", NULL);
  ctx = tb_context_create (ctx_dir, "USB OEM", &error);
  g_assert_true (tb_hierarchy_create (ctx, products, NULL, "usb passphrase", NULL, &error));
  g_assert_no_error (error);
  {
    guint8 bytes[9000];
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) u = NULL;
    TbMasterOptions mo = { "widget", NULL, NULL, "2.3.4", 1, 0 };
    for (gsize i = 0; i < sizeof bytes; i++)
      bytes[i] = (guint8) (i * 11);
    g_assert_true (g_file_set_contents (bin, (const char *) bytes, sizeof bytes, NULL));
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE + 0x8000, &error);
    u = tb_master_image (ctx, fw, &mo, "usb passphrase", image, upk, NULL, &error);
    g_assert_no_error (error);
  }
  options.upk_path = upk;
  options.image_path = image;
  tb_test_copy_dir (board_dir, copy);
  {
    g_autoptr(TbProbe) probe = tb_probe_open ("cmsis-dap:" SERIAL, &error);
    TbProvisionResult result = { 0 };
    g_assert_no_error (error);
    g_assert_true (tb_provision_device (ctx, probe, &options, "usb passphrase", &result, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (result.app_version, ==, "2.3.4");
    g_assert_cmpstr (result.lifecycle, ==, "locked");
    tb_provision_result_clear (&result);
  }
  uri = g_strconcat ("virtual:", copy, NULL);
  {
    g_autoptr(TbProbe) probe = tb_probe_open (uri, &error);
    TbProvisionResult result = { 0 };
    g_assert_no_error (error);
    g_assert_true (tb_provision_device (ctx, probe, &options, "usb passphrase", &result, NULL, &error));
    g_assert_no_error (error);
    tb_provision_result_clear (&result);
  }
  tb_test_assert_same_flash (board_dir, copy);
  /* the CLI's device commands reach the provisioned board through the probe */
  if (g_getenv ("TB_TOOL") != NULL)
    {
      g_autofree char *info = NULL, *reset = NULL;
      g_setenv ("TRUSTBENCH_CONTEXT", ctx_dir, TRUE);
      g_assert_cmpint (tb_test_run_tool (g_getenv ("TB_TOOL"), &info, "device", "info", "--probe", "cmsis-dap:" SERIAL, NULL),
                       ==, 0);
      g_assert_nonnull (strstr (info, "\"lifecycle\" : \"locked\""));
      g_assert_nonnull (strstr (info, "\"attestation_valid\" : true"));
      g_assert_nonnull (strstr (info, "\"version\" : \"2.3.4\""));
      g_assert_cmpint (tb_test_run_tool (g_getenv ("TB_TOOL"), &reset, "device", "reset", "--probe", "cmsis-dap", NULL), ==, 0);
      g_assert_nonnull (strstr (reset, "\"boot\" : \"ok\""));
      g_unsetenv ("TRUSTBENCH_CONTEXT");
    }
}

/* A USB device with a vendor bulk interface that is not a CMSIS-DAP one is
 * neither listed nor opened. */
static void
test_not_a_probe (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autoptr(TbProbe) probe = NULL;

  if (skip_outside_umockdev ())
    return;
  f->device.not_dap = TRUE;
  list = tb_cmsis_dap_usb_list (&error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  probe = tb_probe_open ("cmsis-dap", &error);
  g_assert_null (probe);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
}

/* A probe another program holds is reported busy, by name. */
static void
test_busy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;

  if (skip_outside_umockdev ())
    return;
  f->device.busy = TRUE;
  probe = tb_probe_open ("cmsis-dap:" SERIAL, &error);
  g_assert_null (probe);
  g_assert_error (error, TB_ERROR, TB_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "another program"));
  g_assert_nonnull (strstr (error->message, "busy"));
}

static void
make_readable (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  /* 0777: umockdev binds the udev monitor's socket in the testbed */
  g_assert_cmpint (chmod (path, 0777), ==, 0);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);
      if (g_file_test (child, G_FILE_TEST_IS_DIR) && !g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        make_readable (child);
      else if (!g_file_test (child, G_FILE_TEST_IS_SYMLINK))
        {
          struct stat st;
          /* umockdev's uevent and ioctl sockets stay open to all */
          g_assert_cmpint (stat (child, &st), ==, 0);
          g_assert_cmpint (chmod (child, S_ISSOCK (st.st_mode) ? 0666 : 0644), ==, 0);
        }
    }
}

/* A probe the user may not open: the error says so and prints the udev rule
 * for its vendor and product. Runs in a subprocess that gives up root, since
 * root opens any device node. */
static void
test_permission_denied (Fixture *f, gconstpointer data)
{
  if (skip_outside_umockdev ())
    return;
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbProbe) probe = NULL;
      g_autoptr(GPtrArray) list = NULL;
      const char *root = umockdev_testbed_get_root_dir (f->testbed);
      g_autofree char *node = g_build_filename (root, DEVNODE, NULL);
      gboolean was_root = geteuid () == 0;

      make_readable (root);
      g_assert_cmpint (chmod (node, 0), ==, 0);
      /* nobody, for now: root comes back to tidy up the testbed */
      if (was_root)
        {
          g_assert_cmpint (setegid (65534), ==, 0);
          g_assert_cmpint (seteuid (65534), ==, 0);
        }
      list = tb_cmsis_dap_usb_list (&error);
      g_assert_no_error (error);
      g_assert_cmpuint (list->len, ==, 1);
      g_assert_nonnull (strstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->description, "permission denied"));
      probe = tb_probe_open ("cmsis-dap", &error);
      g_assert_null (probe);
      g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
      g_assert_nonnull (strstr (error->message, "udev rule"));
      g_assert_nonnull (strstr (error->message, "ATTR{idVendor}==\"0d28\", ATTR{idProduct}==\"0204\""));
      if (was_root)
        {
          g_assert_cmpint (seteuid (0), ==, 0);
          g_assert_cmpint (setegid (0), ==, 0);
        }
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

/* trustbench-tool drives the probe too (the preload carries over to it):
 * probe list, info, write, read and reset of ../shared/CLI.md */
static void
test_tool (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL, *listed = NULL, *written = NULL, *read_back = NULL, *reset = NULL;
  g_autofree char *in_path = NULL, *out_path = NULL, *got = NULL;
  g_autofree char *address = g_strdup_printf ("0x%x", TB_BOARD_RAM_BASE + 0x1002);
  const char *tool = g_getenv ("TB_TOOL");
  guint8 pattern[3000];
  gsize got_len = 0;

  if (skip_outside_umockdev ())
    return;
  if (tool == NULL)
    {
      g_test_skip ("TB_TOOL is not set");
      return;
    }
  g_assert_cmpint (tb_test_run_tool (tool, &out, "probe", "info", "--probe", "cmsis-dap:" SERIAL, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"kind\" : \"cmsis-dap\""));
  g_assert_nonnull (strstr (out, "\"packet_size\" : 64"));
  g_assert_nonnull (strstr (out, "\"firmware\" : \"0.1.0-emu\""));
  g_assert_nonnull (strstr (out, "\"dp_idcode\" : \"0x2ba01477\""));
  g_assert_nonnull (strstr (out, "\"core\" : \"Cortex-M4\""));

  g_assert_cmpint (tb_test_run_tool (tool, &listed, "probe", "list", NULL), ==, 0);
  g_assert_nonnull (strstr (listed, "\"uri\" : \"cmsis-dap:" SERIAL "\""));
  g_assert_nonnull (strstr (listed, "\"product\" : \"Emulated DAPLink\""));

  for (guint i = 0; i < sizeof pattern; i++)
    pattern[i] = (guint8) (i * 7 + 3);
  in_path = g_build_filename (f->tmp, "pattern.bin", NULL);
  out_path = g_build_filename (f->tmp, "read.bin", NULL);
  g_assert_true (g_file_set_contents (in_path, (const char *) pattern, sizeof pattern, &error));
  /* "the only one" needs no serial */
  g_assert_cmpint (tb_test_run_tool (tool, &written, "probe", "write", "--probe", "cmsis-dap", address, in_path, NULL), ==, 0);
  g_assert_cmpint (tb_test_run_tool (tool, &read_back, "probe", "read", "--probe", "cmsis-dap:" SERIAL, address, "3000", "-o",
                             out_path, NULL), ==, 0);
  g_assert_true (g_file_get_contents (out_path, &got, &got_len, &error));
  g_assert_cmpmem (got, got_len, pattern, sizeof pattern);
  g_assert_nonnull (strstr (read_back, "\"length\" : 3000"));

  g_assert_cmpint (tb_test_run_tool (tool, &reset, "probe", "reset", "--probe", "cmsis-dap:" SERIAL, "--halt", NULL), ==, 0);
  g_assert_nonnull (strstr (reset, "\"halted\" : true"));
}

/* A probe that never answers is an error within the timeout, not a hang. */
static void
test_silent (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  gint64 start;

  if (skip_outside_umockdev ())
    return;
  f->device.silent = TRUE;
  start = g_get_monotonic_time ();
  probe = tb_probe_open ("cmsis-dap:" SERIAL, &error);
  g_assert_null (probe);
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_cmpint (g_get_monotonic_time () - start, <, 10 * G_USEC_PER_SEC);
}

static void
count_change (gpointer data)
{
  (*(guint *) data)++;
}

static gboolean
wait_for_changes (guint *changes, guint want)
{
  gint64 deadline = g_get_monotonic_time () + 5 * G_USEC_PER_SEC;

  while (*changes < want && g_get_monotonic_time () < deadline)
    g_main_context_iteration (NULL, FALSE), g_usleep (10 * 1000);
  return *changes >= want;
}

/* libusb hotplug through umockdev's uevents: a second probe plugged in and
 * pulled out again is noticed each time, in the caller's main context. */
static void
test_hotplug (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUsbWatch) watch = NULL;
  g_autofree char *syspath = NULL;
  guint changes = 0;

  if (skip_outside_umockdev ())
    return;
  watch = tb_usb_watch_new (count_change, &changes, &error);
  if (watch == NULL && g_error_matches (error, TB_ERROR, TB_ERROR_UNSUPPORTED))
    {
      g_test_skip (error->message);
      return;
    }
  g_assert_no_error (error);
  {
    g_autofree char *text = g_strdup_printf ("P: /devices/pci0000:00/0000:00:14.0/usb1/1-2\n"
                                             "N: bus/usb/001/012\n"
                                             "E: SUBSYSTEM=usb\n"
                                             "E: DEVTYPE=usb_device\n"
                                             "E: DEVNAME=/dev/bus/usb/001/012\n"
                                             "E: BUSNUM=001\n"
                                             "E: DEVNUM=012\n"
                                             "A: busnum=1\n"
                                             "A: devnum=12\n"
                                             "A: speed=480\n"
                                             "A: bConfigurationValue=1\n"
                                             "A: idVendor=2e8a\n"
                                             "A: idProduct=000c\n"
                                             "H: descriptors=%s\n", descriptors);
    g_assert_true (umockdev_testbed_add_from_string (f->testbed, text, &error));
    g_assert_no_error (error);
    syspath = g_strdup ("/sys/devices/pci0000:00/0000:00:14.0/usb1/1-2");
  }
  g_assert_nonnull (syspath);
  g_assert_true (wait_for_changes (&changes, 1));
  /* the uevent a kernel sends as the device goes (removing it from the testbed alone does not reach libusb) */
  umockdev_testbed_uevent (f->testbed, syspath, "remove");
  umockdev_testbed_remove_device (f->testbed, syspath);
  g_assert_true (wait_for_changes (&changes, 2));
  g_assert_cmpuint (changes, ==, 2);
  /* freed with events still queued: nothing is called after */
  g_clear_pointer (&watch, tb_usb_watch_free);
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (changes, ==, 2);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/cmsis-dap-usb/list-and-memory", Fixture, NULL, setup, test_list_and_memory, teardown);
  g_test_add ("/cmsis-dap-usb/silent", Fixture, NULL, setup, test_silent, teardown);
  g_test_add ("/cmsis-dap-usb/tool", Fixture, NULL, setup, test_tool, teardown);
  g_test_add ("/cmsis-dap-usb/hotplug", Fixture, NULL, setup, test_hotplug, teardown);
  g_test_add ("/cmsis-dap-usb/busy", Fixture, NULL, setup, test_busy, teardown);
  g_test_add ("/cmsis-dap-usb/permission-denied", Fixture, NULL, setup, test_permission_denied, teardown);
  g_test_add ("/cmsis-dap-usb/not-a-probe", Fixture, NULL, setup, test_not_a_probe, teardown);
  g_test_add ("/cmsis-dap-usb/provision-byte-for-byte", Fixture, NULL, setup, test_provision_byte_for_byte,
              teardown);
  return g_test_run ();
}
