/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Provisioning and programming a virtual board through its probe, with
 * the reference SBM enforcing every rule: each test checks the board's
 * state (flash, lifecycle, what boots). */

#include "config.h"

#include <fcntl.h>
#include <glib/gstdio.h>
#include <unistd.h>

#include "sbm/tb-sbm.h"
#include "tb-context-private.h"
#include "tb-test-chain.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

#define PASS TB_TEST_PASS

typedef struct {
  char *tmp;
  TbContext *ctx;
  char *board_dir;
  char *uri;
  char *upk[3];
  char *image[3];
} Fixture;

static void
master_version (Fixture *f, TbContext *ctx, guint i, const char *version, guint32 counter, const char *const *uids,
                const char *product)
{
  g_autofree char *name = g_strdup_printf ("app-%u", i);

  /* slot @i is mastered again on purpose: replacing is asked for */
  tb_test_chain_master (ctx, f->tmp, name, TB_BOARD_FLASH_BASE + 0x8000, 10000 + i * 777, i + 3, version, counter,
                        uids, product, &f->upk[i], &f->image[i]);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autoptr(TbVirtualBoard) board = NULL;
  const char *products[] = { "sensor", "gateway", NULL };

  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (dir, "Provision Test", &error);
  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
  f->board_dir = g_build_filename (f->tmp, "board", NULL);
  board = tb_virtual_board_create (f->board_dir, NULL, 256 * 1024, 1024, "0badcafe", &error);
  g_assert_no_error (error);
  f->uri = g_strconcat ("virtual:", f->board_dir, NULL);
  master_version (f, f->ctx, 0, "1.0.0", 1, NULL, "sensor");
  master_version (f, f->ctx, 1, "1.1.0", 2, NULL, "sensor");
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  for (guint i = 0; i < G_N_ELEMENTS (f->upk); i++)
    {
      g_free (f->upk[i]);
      g_free (f->image[i]);
    }
  g_free (f->tmp);
  g_free (f->board_dir);
  g_free (f->uri);
}

static TbAttestation *
attest (TbProbe *probe)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbTarget) target = tb_target_new (probe);
  TbAttestation *att = tb_target_attest (target, &error);

  g_assert_no_error (error);
  return att;
}

static void
provision (Fixture *f, TbProbe *probe, gboolean with_image, gboolean lock)
{
  g_autoptr(GError) error = NULL;
  TbProvisionOptions options = { "sensor", with_image ? f->upk[0] : NULL, with_image ? f->image[0] : NULL, !lock };
  TbProvisionResult result = { 0 };

  g_assert_true (tb_provision_device (f->ctx, probe, &options, PASS, &result, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (result.uid, ==, "0badcafe");
  g_assert_cmpstr (result.lifecycle, ==, lock ? "locked" : "provisioned");
  /* recorded: a device record, and the audit log's newest entry */
  {
    g_autofree char *record_id = tb_provision_record (f->ctx, &result, &error);
    g_autoptr(GPtrArray) log = NULL;
    g_assert_no_error (error);
    g_assert_nonnull (record_id);
    log = tb_audit_read (f->ctx, &error);
    TbAuditEntry *last = g_ptr_array_index (log, log->len - 1);
    g_assert_cmpstr (tb_audit_entry_get_event (last), ==, "device.provision");
    g_assert_cmpstr (tb_audit_entry_get_subject (last), ==, "0badcafe");
  }
  if (with_image)
    {
      g_assert_cmpstr (result.app_version, ==, "1.0.0");
      g_assert_nonnull (result.receipt);
    }
  /* the device certificate chains to the context's root */
  {
    g_autoptr(TbCert) cert = tb_cert_new_from_data (result.device_certificate, strlen (result.device_certificate),
                                                    "device", &error);
    g_assert_no_error (error);
    g_assert_true (tb_cert_verify (f->ctx, cert, NULL, &error));
    g_assert_no_error (error);
  }
  tb_provision_result_clear (&result);
}

/* A probe in front of a virtual board whose core takes a while to boot
 * after a reset, as a real one does: for the next @boot_reads reads of
 * the mailbox it still shows the RAM as the reset found it, and what the
 * host writes there is lost (the SBM clears its mailbox as it starts). */
#define TEST_TYPE_SLOW_BOOT_PROBE (test_slow_boot_probe_get_type ())
G_DECLARE_FINAL_TYPE (TestSlowBootProbe, test_slow_boot_probe, TEST, SLOW_BOOT_PROBE, TbProbe)

struct _TestSlowBootProbe {
  TbProbe parent_instance;
  TbProbe *board;
  guint boot_reads;
  guint booting;
  guint resets;
  guint8 ram_at_reset[TB_MB_SIZE];
};

G_DEFINE_TYPE (TestSlowBootProbe, test_slow_boot_probe, TB_TYPE_PROBE)

static gboolean
in_mailbox (guint32 address, gsize len)
{
  return address < TB_MB_ADDRESS + TB_MB_SIZE && address + len > TB_MB_ADDRESS;
}

static gboolean
slow_boot_read (TbProbe *probe, guint32 address, guint8 *buf, gsize len, GError **error)
{
  TestSlowBootProbe *self = TEST_SLOW_BOOT_PROBE (probe);

  if (!tb_probe_read_memory (self->board, address, buf, len, NULL, error))
    return FALSE;
  if (self->booting > 0 && in_mailbox (address, len))
    {
      self->booting--;
      for (gsize i = 0; i < len; i++)
        if (in_mailbox (address + (guint32) i, 1))
          buf[i] = self->ram_at_reset[address + i - TB_MB_ADDRESS];
    }
  return TRUE;
}

static gboolean
slow_boot_write (TbProbe *probe, guint32 address, const guint8 *data, gsize len, GError **error)
{
  TestSlowBootProbe *self = TEST_SLOW_BOOT_PROBE (probe);

  if (self->booting > 0 && in_mailbox (address, len))
    return TRUE;
  return tb_probe_write_memory (self->board, address, data, len, NULL, error);
}

static gboolean
slow_boot_reset (TbProbe *probe, gboolean halt, GError **error)
{
  TestSlowBootProbe *self = TEST_SLOW_BOOT_PROBE (probe);

  if (!tb_probe_read_memory (self->board, TB_MB_ADDRESS, self->ram_at_reset, TB_MB_SIZE, NULL, error))
    return FALSE;
  self->resets++;
  self->booting = self->boot_reads;
  return tb_probe_reset (self->board, halt, error);
}

static void
test_slow_boot_probe_finalize (GObject *object)
{
  g_clear_object (&TEST_SLOW_BOOT_PROBE (object)->board);
  G_OBJECT_CLASS (test_slow_boot_probe_parent_class)->finalize (object);
}

static void
test_slow_boot_probe_class_init (TestSlowBootProbeClass *klass)
{
  TbProbeClass *probe_class = TB_PROBE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_slow_boot_probe_finalize;
  probe_class->read_memory = slow_boot_read;
  probe_class->write_memory = slow_boot_write;
  probe_class->reset = slow_boot_reset;
}

static void
test_slow_boot_probe_init (TestSlowBootProbe *self)
{
}

static TestSlowBootProbe *
slow_boot_probe_new (const char *uri, guint boot_reads)
{
  g_autoptr(GError) error = NULL;
  TestSlowBootProbe *self = g_object_new (TEST_TYPE_SLOW_BOOT_PROBE, "uri", uri, "kind", "test", NULL);

  self->board = tb_probe_open (uri, &error);
  g_assert_no_error (error);
  self->boot_reads = boot_reads;
  return self;
}

/* Provisioning a blank device installs the SBM and waits for it to come
 * up: whether the core's RAM is still empty after the reset, or still
 * holds an earlier SBM's mailbox (a board erased and provisioned again
 * without a power cycle), nothing is sent before the new SBM answers. */
static void
test_blank_device_slow_boot (Fixture *f, gconstpointer data)
{
  for (guint stale = 0; stale < 2; stale++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TestSlowBootProbe) probe = NULL;
      TbProvisionOptions options = { "sensor", NULL, NULL, TRUE };
      TbProvisionResult result = { 0 };
      gboolean ok;

      if (stale)
        {
          /* a blank board again, its RAM holding an idle SBM's mailbox */
          g_autoptr(TbVirtualBoard) board = NULL;
          guint8 head[TB_MB_HEADER] = { 0 };

          tb_test_rm_rf (f->board_dir);
          board = tb_virtual_board_create (f->board_dir, NULL, 256 * 1024, 1024, "0badcafe", &error);
          g_assert_no_error (error);
          g_clear_object (&board);
          for (guint i = 0; i < 4; i++)
            head[TB_MB_OFF_MAGIC + i] = (guint8) (TB_MB_MAGIC >> (8 * i));
          probe = slow_boot_probe_new (f->uri, 6);
          g_assert_true (tb_probe_write_memory (probe->board, TB_MB_ADDRESS, head, sizeof head, NULL, &error));
          g_assert_no_error (error);
        }
      else
        probe = slow_boot_probe_new (f->uri, 6);
      ok = tb_provision_device (f->ctx, TB_PROBE (probe), &options, PASS, &result, NULL, &error);
      g_assert_no_error (error);
      g_assert_true (ok);
      g_assert_cmpstr (result.uid, ==, "0badcafe");
      g_assert_cmpstr (result.lifecycle, ==, "provisioned");
      /* the install's reset and the final check's */
      g_assert_cmpuint (probe->resets, ==, 2);
      tb_provision_result_clear (&result);
    }
}

static void
test_provision_and_boot (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autoptr(TbAttestation) att = NULL;
  g_autoptr(TbProbe) again = NULL;
  g_autofree char *version = NULL;

  g_assert_no_error (error);
  provision (f, probe, TRUE, TRUE);
  att = attest (probe);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");
  g_clear_pointer (&att, tb_attestation_free);

  /* the board outlives the process: reopen it, it boots the same */
  g_clear_object (&probe);
  again = tb_probe_open (f->uri, &error);
  g_assert_no_error (error);
  att = attest (again);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");
  g_assert_cmpuint (att->boot, ==, 0);

  /* an update */
  g_assert_true (tb_program_device (again, f->upk[1], f->image[1], &version, NULL, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (version, ==, "1.1.0");

  /* a second provisioning is refused */
  {
    TbProvisionOptions options = { "sensor", NULL, NULL, FALSE };
    TbProvisionResult result = { 0 };
    g_assert_false (tb_provision_device (f->ctx, again, &options, PASS, &result, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    tb_provision_result_clear (&result);
  }
}

/* Reads the signature table and the application slot, to check that a
 * refusal left them untouched (the staging slot may hold the chunks that
 * authenticated before the refusal). */
static GBytes *
snapshot (TbProbe *probe, gpointer user_data)
{
  TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
  TbSbmPlatform p = { .flash_size = tb_virtual_board_get_flash_size (board),
                      .page_size = tb_virtual_board_get_page_size (board) };
  gsize size = tb_sbm_app_offset (&p) + tb_sbm_slot_size (&p) - TB_SBM_REGION_SIZE;
  guint8 *buf = g_malloc (size);

  g_assert_true (tb_virtual_board_flash_read (board, TB_SBM_REGION_SIZE, buf, size, NULL));
  return g_bytes_new_take (buf, size);
}

static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);

  provision (f, probe, TRUE, TRUE);
  /* tampered chunk, another OEM, another product, another device, rollback */
  tb_test_chain_assert_refusals (f->ctx, f->tmp, TB_BOARD_FLASH_BASE + 0x8000, probe, "1.0.0", snapshot, NULL);
  /* linked for another address than the application slot */
  {
    gsize len = 0;
    g_autofree char *bytes = NULL;
    g_autofree char *bin = g_strdup_printf ("%s/elsewhere.bin", f->tmp);
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) upk = NULL;
    TbMasterOptions options = { "sensor", NULL, NULL, "3.0.0", 7, 0 };

    bytes = tb_test_read_file (f->image[0], &len);
    g_assert_true (g_file_set_contents (bin, bytes, 4096, NULL));
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, TB_BOARD_FLASH_BASE, &error);
    g_free (f->upk[2]);
    g_free (f->image[2]);
    f->upk[2] = g_strdup_printf ("%s/elsewhere.tbupk", f->tmp);
    f->image[2] = g_strdup_printf ("%s/elsewhere.tbimg", f->tmp);
    upk = tb_master_image (f->ctx, fw, &options, PASS, f->image[2], f->upk[2], NULL, &error);
    g_assert_no_error (error);
    tb_test_chain_assert_refused (probe, f->upk[2], f->image[2], "linked for another address", "1.0.0", snapshot,
                                  NULL);
  }
}

/* Masters @size bytes for "sensor" at @address; returns the error. */
static GError *
master_at (Fixture *f, const char *name, guint64 address, gsize size, const char *const *types, gboolean allow,
           TbProgress *progress)
{
  GError *error = NULL;
  g_autofree char *bin = g_strdup_printf ("%s/%s.bin", f->tmp, name);
  g_autofree guint8 *data = g_malloc (size);
  g_autofree char *upk_path = g_strdup_printf ("%s/%s.tbupk", f->tmp, name);
  g_autofree char *image_path = g_strdup_printf ("%s/%s.tbimg", f->tmp, name);
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  TbMasterOptions options = { "sensor", types, NULL, "1.0.0", 1, 0 };

  options.allow_outside_slot = allow;
  for (gsize k = 0; k < size; k++)
    data[k] = (guint8) (k * 13);
  g_assert_true (g_file_set_contents (bin, (const char *) data, (gssize) size, NULL));
  fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, address, &error);
  g_assert_no_error (error);
  upk = tb_master_image (f->ctx, fw, &options, PASS, image_path, upk_path, progress, &error);
  g_assert_true ((upk != NULL) == (error == NULL));
  return error;
}

static void
collect_log (TbProgress *progress, const char *line, GString *log)
{
  g_string_append_printf (log, "%s\n", line);
}

/* Mastering knows the application slot of the device types it knows. */
static void
test_master_app_slot (Fixture *f, gconstpointer data)
{
  const char *const m4[] = { "tb-vmcu-m4", NULL };
  const char *const other[] = { "acme-board", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProgress) progress = tb_progress_new (NULL);
  g_autoptr(GString) log = g_string_new (NULL);
  g_autoptr(TbVirtualBoard) board = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;
  TbAppSlot slot, reported;

  /* the catalogue's slot is the one a default virtual board's SBM reports */
  g_assert_false (tb_app_slot_for_device_type ("acme-board", &slot));
  g_assert_true (tb_app_slot_for_device_type ("tb-vmcu-m4", &slot));
  {
    g_autofree char *dir = g_build_filename (f->tmp, "default-board", NULL);
    g_autofree char *uri = g_strconcat ("virtual:", dir, NULL);
    board = tb_virtual_board_create (dir, NULL, 0, 0, NULL, &error);
    g_assert_no_error (error);
    g_clear_object (&board);
    probe = tb_probe_open (uri, &error);
    g_assert_no_error (error);
    target = tb_target_new (probe);
    att = tb_provision_identify (target, NULL, &error); /* installs the SBM */
    g_assert_no_error (error);
    g_assert_true (tb_target_get_app_slot (target, &reported, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (reported.address, ==, slot.address);
    g_assert_cmpuint (reported.size_bytes, ==, slot.size_bytes);
    g_assert_cmpuint (slot.address, ==, 0x08008000);
  }

  /* linked at the flash base: refused, naming both ranges */
  error = master_at (f, "base", TB_BOARD_FLASH_BASE, 5000, m4, FALSE, NULL);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "0x08000000–0x08001387"));
  g_assert_nonnull (strstr (error->message, "0x08008000–0x08059fff"));
  g_assert_nonnull (strstr (error->message, "tb-vmcu-m4"));
  g_clear_error (&error);
  /* larger than the slot */
  error = master_at (f, "huge", 0x08008000, slot.size_bytes + 1, m4, FALSE, NULL);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "larger than the application slot"));
  g_clear_error (&error);
  /* asked for: a warning only */
  g_signal_connect (progress, "log", G_CALLBACK (collect_log), log);
  error = master_at (f, "base", TB_BOARD_FLASH_BASE, 5000, m4, TRUE, progress);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (log->str, "Warning"));
  g_assert_nonnull (strstr (log->str, "0x08008000"));
  /* in the slot, or for a device type whose memory map is unknown: fine */
  error = master_at (f, "fits", 0x08008000, slot.size_bytes, m4, FALSE, NULL);
  g_assert_no_error (error);
  error = master_at (f, "acme", TB_BOARD_FLASH_BASE, 5000, other, FALSE, NULL);
  g_assert_no_error (error);
  /* the product's device types, when none are given */
  {
    JsonObject *entry = tb_context_find_entry (f->ctx, TB_INVENTORY_PRODUCTS, "sensor");
    JsonArray *types = json_array_new ();
    json_array_add_string_element (types, "tb-vmcu-m4");
    json_object_set_array_member (entry, "device_types", types);
    error = master_at (f, "by-product", TB_BOARD_FLASH_BASE, 5000, NULL, FALSE, NULL);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
  }
}

/* Provisioning with an image: the product comes from the UPK, and the
 * image is checked against the device before anything is issued or the
 * device locked; a refused device stays as it was. */
static void
test_image_checked_before_lock (Fixture *f, gconstpointer data)
{
  const char *const m33[] = { "tb-vmcu-m33", NULL };
  struct {
    const char *name;
    guint64 address;
    gsize size;
    const char *const *types;
    int code;
    const char *message;
  } cases[] = {
    { "base", TB_BOARD_FLASH_BASE, 5000, NULL, TB_ERROR_INVALID_DATA, "0x08008000–0x0801a7ff" },
    /* the board's flash is 256 KiB: its slot is smaller than the type's */
    { "big", 0x08008000, 80000, NULL, TB_ERROR_INVALID_DATA, "larger than the application slot" },
    { "m33", 0x08008000, 5000, m33, TB_ERROR_VERIFY_FAILED, "tb-vmcu-m33" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = master_at (f, cases[i].name, cases[i].address, cases[i].size, cases[i].types, FALSE,
                                           NULL);
      g_autofree char *u = g_strdup_printf ("%s/%s.tbupk", f->tmp, cases[i].name);
      g_autofree char *img = g_strdup_printf ("%s/%s.tbimg", f->tmp, cases[i].name);
      TbProvisionOptions options = { NULL, u, img, FALSE };
      TbProvisionResult result = { 0 };
      g_autoptr(TbProbe) probe = NULL;
      g_autoptr(TbAttestation) att = NULL;
      g_autoptr(GPtrArray) log = NULL;

      g_assert_no_error (error);
      probe = tb_probe_open (f->uri, &error);
      g_assert_no_error (error);
      g_assert_false (tb_provision_device (f->ctx, probe, &options, PASS, &result, NULL, &error));
      g_assert_error (error, TB_ERROR, cases[i].code);
      if (strstr (error->message, cases[i].message) == NULL)
        g_error ("“%s” does not name “%s”", error->message, cases[i].message);
      g_clear_error (&error);
      g_assert_null (result.device_certificate);
      tb_provision_result_clear (&result);
      /* unchanged: not provisioned, not locked, no certificate issued */
      att = attest (probe);
      g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_SBM_INSTALLED);
      log = tb_audit_read (f->ctx, &error);
      g_assert_no_error (error);
      for (guint k = 0; k < log->len; k++)
        g_assert_cmpstr (tb_audit_entry_get_event (g_ptr_array_index (log, k)), !=, "device.provision");
    }

  /* the image's product decides in a context of two products; another
   * product given is refused before the device is touched */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    TbProvisionOptions options = { "gateway", f->upk[0], f->image[0], FALSE };
    TbProvisionResult result = { 0 };
    g_autoptr(TbAttestation) att = NULL;

    g_assert_false (tb_provision_device (f->ctx, probe, &options, PASS, &result, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "“sensor”"));
    g_assert_nonnull (strstr (error->message, "“gateway”"));
    g_clear_error (&error);
    att = attest (probe);
    g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_SBM_INSTALLED);

    options.product = NULL;
    g_assert_true (tb_provision_device (f->ctx, probe, &options, PASS, &result, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpstr (result.product, ==, "sensor");
    g_assert_cmpstr (result.lifecycle, ==, "locked");
    g_assert_cmpstr (result.app_version, ==, "1.0.0");
    tb_provision_result_clear (&result);
  }
}

/* One board, one user: while a probe has the board, a second one (another
 * thread here, another process in test-cli) is refused as busy, and gets
 * to it once the first is done. */
static gpointer
open_probe_thread (gpointer uri)
{
  GError *error = NULL;
  TbProbe *probe = tb_probe_open (uri, &error);

  g_assert_null (probe);
  return error;
}

static void
test_board_busy (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) first = tb_probe_open (f->uri, &error);
  g_autoptr(TbProbe) again = NULL;
  GThread *thread;

  g_assert_no_error (error);
  thread = g_thread_new ("second", open_probe_thread, f->uri);
  error = g_thread_join (thread);
  g_assert_error (error, TB_ERROR, TB_ERROR_BUSY);
  g_assert_nonnull (strstr (error->message, "busy"));
  g_assert_nonnull (strstr (error->message, f->board_dir));
  g_clear_error (&error);
  provision (f, first, FALSE, TRUE);
  g_clear_object (&first);
  again = tb_probe_open (f->uri, &error);
  g_assert_no_error (error);
}

static void
test_modified_flash_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autoptr(TbAttestation) att = NULL;
  TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
  TbSbmPlatform p = { .flash_size = tb_virtual_board_get_flash_size (board),
                      .page_size = tb_virtual_board_get_page_size (board) };
  guint32 app = tb_sbm_app_offset (&p);
  guint8 b = 0;

  provision (f, probe, TRUE, FALSE);
  /* one byte of the application changed behind the SBM's back */
  g_assert_true (tb_virtual_board_flash_read (board, app + 100, &b, 1, NULL));
  g_assert_true (tb_virtual_board_flash_erase_page (board, app + 100, NULL));
  b = (guint8) ~b;
  g_assert_true (tb_virtual_board_flash_program (board, app + 100, &b, 1, NULL));
  g_assert_true (tb_probe_reset (probe, FALSE, &error));
  att = attest (probe);
  g_assert_cmpuint (att->boot, ==, 2);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");
}

static void
test_locked_debug (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  guint8 buf[16] = { 0 };

  provision (f, probe, TRUE, TRUE);
  g_assert_false (tb_probe_write_memory (probe, TB_BOARD_FLASH_BASE + 0x8000, buf, 16, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_assert_false (tb_probe_read_memory (probe, TB_BOARD_FLASH_BASE, buf, 16, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  /* nor can it stop the core */
  g_assert_false (tb_probe_halt (probe, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_assert_false (tb_probe_reset (probe, TRUE, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  {
    g_autoptr(TbAttestation) att = attest (probe);
    g_assert_cmpuint (att->boot, ==, 0);
  }
}

/* Halt, resume and reset-and-halt on an unlocked board: a halted core
 * answers no mailbox command (a clear timeout, not a hang). */
static void
test_halt_resume (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;
  TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
  guint8 buf[16];

  g_assert_no_error (error);
  provision (f, probe, TRUE, FALSE);
  target = tb_target_new (probe);
  tb_target_set_timeout (target, 200);

  g_assert_true (tb_probe_halt (probe, &error));
  g_assert_no_error (error);
  g_assert_true (tb_virtual_board_is_halted (board));
  att = tb_target_attest (target, &error);
  g_assert_null (att);
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_assert_nonnull (strstr (error->message, "did not answer"));
  g_clear_error (&error);
  g_assert_true (tb_probe_resume (probe, &error));
  g_assert_false (tb_virtual_board_is_halted (board));
  att = tb_target_attest (target, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");
  g_clear_pointer (&att, tb_attestation_free);

  /* halted at the reset vector: nothing ran, the debugger reads the flash */
  g_assert_true (tb_probe_reset (probe, TRUE, &error));
  g_assert_no_error (error);
  g_assert_false (tb_virtual_board_is_sbm_running (board));
  g_assert_cmpint (tb_virtual_board_get_boot_result (board, NULL), ==, -1);
  g_assert_true (tb_probe_read_memory (probe, TB_BOARD_FLASH_BASE, buf, sizeof buf, NULL, &error));
  g_assert_no_error (error);
  g_assert_null (tb_target_attest (target, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  /* resumed, it boots as after any reset */
  g_assert_true (tb_probe_resume (probe, &error));
  att = tb_target_attest (target, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");

  /* a resume with no command rung while halted leaves the mailbox alone: a
   * debugger that stops the core around each access (GDB servers) must not
   * see the request length it just wrote reset to 0 */
  {
    const guint8 length[4] = { 0x20, 0, 0, 0 };
    guint8 back[4] = { 0 };
    g_assert_true (tb_probe_halt (probe, &error));
    g_assert_true (tb_probe_write_memory (probe, TB_BOARD_RAM_BASE + TB_MB_OFF_LENGTH, length, 4, NULL, &error));
    g_assert_true (tb_probe_resume (probe, &error));
    g_assert_true (tb_probe_read_memory (probe, TB_BOARD_RAM_BASE + TB_MB_OFF_LENGTH, back, 4, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpmem (back, 4, length, 4);
  }
}

/* Cuts the power at each flash operation of programming UPK/IMAGE on a copy
 * of the board as it is now, resets, and checks that the board boots
 * @old (or nothing when @old is NULL) or @new, never anything else. */
static void
power_cut_sweep (Fixture *f, guint which, const char *old, const char *new_version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  guint64 ops_before, ops_total;
  guint old_count = 0, new_count = 0;

  {
    g_autofree char *cmd = g_strdup_printf ("sh -c 'rm -rf %s && cp -a %s %s'", pristine, f->board_dir, pristine);
    g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
  }
  ops_before = tb_virtual_board_get_flash_ops (board);
  g_assert_true (tb_program_device (probe, f->upk[which], f->image[which], NULL, NULL, NULL, &error));
  g_assert_no_error (error);
  ops_total = tb_virtual_board_get_flash_ops (board) - ops_before;
  g_assert_cmpuint (ops_total, >, 20);
  g_clear_object (&probe);

  for (guint64 cut = 0; cut < ops_total; cut++)
    {
      g_autofree char *cmd = g_strdup_printf ("sh -c 'rm -rf %s && cp -a %s %s'", f->board_dir, pristine,
                                              f->board_dir);
      g_autoptr(TbProbe) p = NULL;
      g_autoptr(TbAttestation) att = NULL;
      g_autoptr(GError) cut_error = NULL;
      gboolean is_old, is_new;

      g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
      p = tb_probe_open (f->uri, &error);
      g_assert_no_error (error);
      tb_virtual_board_set_power_loss_after (tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (p)), (gint64) cut);
      g_assert_false (tb_program_device (p, f->upk[which], f->image[which], NULL, NULL, NULL, &cut_error));
      g_assert_true (tb_probe_reset (p, FALSE, &error));
      att = attest (p);
      is_old = old == NULL ? att->boot == 1 : att->boot == 0 && g_strcmp0 (att->app_version, old) == 0;
      is_new = att->boot == 0 && g_strcmp0 (att->app_version, new_version) == 0;
      if (!is_old && !is_new)
        g_error ("power cut after %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " flash operations: boot %u, “%s”",
                 cut, ops_total, att->boot, att->app_version);
      old_count += is_old;
      new_count += is_new;
    }
  g_test_message ("power cut at each of %" G_GUINT64_FORMAT " flash operations: %u boot %s, %u boot %s", ops_total,
                  old_count, old != NULL ? old : "nothing", new_count, new_version);
  g_assert_cmpuint (old_count, >, 0);
  g_assert_cmpuint (new_count, >, 0);

  /* leave the board as a whole install leaves it */
  {
    g_autofree char *cmd = g_strdup_printf ("sh -c 'rm -rf %s && cp -a %s %s'", f->board_dir, pristine, f->board_dir);
    g_autoptr(TbProbe) p = NULL;
    g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
    p = tb_probe_open (f->uri, &error);
    g_assert_true (tb_program_device (p, f->upk[which], f->image[which], NULL, NULL, NULL, &error));
    g_assert_no_error (error);
  }
}

/* Power lost at every flash operation of a first install, then of an update. */
static void
test_power_cut_sweep (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    provision (f, probe, FALSE, FALSE);
  }
  power_cut_sweep (f, 0, NULL, "1.0.0");
  power_cut_sweep (f, 1, "1.0.0", "1.1.0");
}

static void
test_hostile_mailbox (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autoptr(TbTarget) target = tb_target_new (probe);
  guint8 junk[3000];

  provision (f, probe, FALSE, FALSE);
  for (guint i = 0; i < sizeof junk; i++)
    junk[i] = (guint8) g_test_rand_int ();
  for (guint32 cmd = 0; cmd <= 9; cmd++)
    for (gsize len = 0; len < sizeof junk; len += 397)
      {
        g_autoptr(GError) e = NULL;
        gboolean ok = tb_target_command (target, cmd, junk, len, NULL, &e);
        /* only an attestation, or the layout (which takes no request) */
        g_assert_false (ok && cmd != TB_MB_CMD_ATTEST && !(cmd == TB_MB_CMD_LAYOUT && len == 0));
        if (!ok)
          g_assert_true (e->domain == TB_ERROR);
      }
  /* a length beyond the mailbox, written by hand, is refused, not followed */
  {
    guint8 head[12] = { 0 };
    guint8 status[4];
    head[0] = 0xff; head[1] = 0xff; head[2] = 0xff; head[3] = 0x7f; /* length */
    g_assert_true (tb_probe_write_memory (probe, TB_BOARD_RAM_BASE + TB_MB_OFF_LENGTH, head, 4, NULL, &error));
    head[0] = TB_MB_CMD_INSTALL_CHUNK;
    g_assert_true (tb_probe_write_memory (probe, TB_BOARD_RAM_BASE + TB_MB_OFF_COMMAND, head, 4, NULL, &error));
    g_assert_true (tb_probe_read_memory (probe, TB_BOARD_RAM_BASE + TB_MB_OFF_STATUS, status, 4, NULL, &error));
    g_assert_cmpuint (status[0], ==, TB_MB_ERR_BAD_REQUEST);
  }
}

/* The application writes UPK/IMAGE into the update region, as it would
 * after downloading them by its own means. */
static void
stage (TbProbe *probe, const char *upk, const char *image)
{
  g_autoptr(GError) error = NULL;
  gsize upk_len = 0, image_len = 0;
  g_autofree char *upk_bytes = tb_test_read_file (upk, &upk_len);
  g_autofree char *image_bytes = tb_test_read_file (image, &image_len);
  TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));

  tb_virtual_board_stage_update (board, (guint8 *) upk_bytes, upk_len, (guint8 *) image_bytes, image_len, &error);
  g_assert_no_error (error);
}

/* Resets and checks what boots and that the staged update was consumed. */
static void
reset_expect (TbProbe *probe, guint boot, const char *version)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbAttestation) att = NULL;
  TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
  TbSbmPlatform p = { .flash_size = tb_virtual_board_get_flash_size (board),
                      .page_size = tb_virtual_board_get_page_size (board) };
  guint8 head[TB_SBM_UPDATE_HEADER];

  g_assert_true (tb_probe_reset (probe, FALSE, &error));
  g_assert_no_error (error);
  att = attest (probe);
  g_assert_cmpuint (att->boot, ==, boot);
  g_assert_cmpstr (att->app_version, ==, version);
  g_assert_true (tb_virtual_board_flash_read (board, tb_sbm_update_offset (&p), head, sizeof head, NULL));
  for (guint i = 0; i < sizeof head; i++)
    g_assert_cmpuint (head[i], ==, 0xff);
}

static void
test_staged_update (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
  g_autofree char *tampered = g_build_filename (f->tmp, "tampered.tbimg", NULL);
  g_autoptr(GBytes) before = NULL;
  g_autoptr(GBytes) after = NULL;

  g_assert_no_error (error);
  provision (f, probe, TRUE, TRUE);
  /* a staged update installs at the next reset, debug port locked */
  stage (probe, f->upk[1], f->image[1]);
  reset_expect (probe, 0, "1.1.0");
  reset_expect (probe, 0, "1.1.0");

  /* the same update again is a rollback: refused and consumed */
  before = snapshot (probe, NULL);
  stage (probe, f->upk[1], f->image[1]);
  reset_expect (probe, 0, "1.1.0");
  after = snapshot (probe, NULL);
  g_assert_true (g_bytes_equal (before, after));
  g_clear_pointer (&after, g_bytes_unref);

  /* a tampered image is refused before a byte of it reaches the application */
  master_version (f, f->ctx, 2, "1.2.0", 3, NULL, "sensor");
  {
    gsize len = 0;
    g_autofree char *bytes = tb_test_read_file (f->image[2], &len);
    bytes[len - 20] ^= 0x40;
    g_assert_true (g_file_set_contents (tampered, bytes, (gssize) len, NULL));
  }
  stage (probe, f->upk[2], tampered);
  reset_expect (probe, 0, "1.1.0");
  after = snapshot (probe, NULL);
  g_assert_true (g_bytes_equal (before, after));

  /* an update too large for the region is refused by the board */
  {
    g_autofree guint8 *big = g_malloc0 (200 * 1024);
    TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
    g_assert_false (tb_virtual_board_stage_update (board, big, 100, big, 200 * 1024, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  }

  /* the untampered one installs */
  stage (probe, f->upk[2], f->image[2]);
  reset_expect (probe, 0, "1.2.0");
}

/* Power lost at each flash operation of the boot that installs a staged
 * update — before it (every operation), after it and in the middle of it
 * (every tenth by default, every one in `slow`) — : the board boots the
 * old or the new application, never neither, and the staged update is
 * gone once a boot completes. */
static void stage_pristine (Fixture *f, const char *pristine, guint64 *ops_total);
static guint sweep_stride (void);

static void
test_staged_update_power_cut (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  static const TbPowerCut kinds[] = { TB_POWER_CUT_BEFORE, TB_POWER_CUT_AFTER, TB_POWER_CUT_TORN };
  static const char *const names[] = { "before", "after", "torn" };
  guint64 ops_total;

  stage_pristine (f, pristine, &ops_total);
  for (guint k = 0; k < G_N_ELEMENTS (kinds); k++)
    {
      guint old_count = 0, new_count = 0, runs = 0;
      guint stride = kinds[k] == TB_POWER_CUT_BEFORE ? 1 : sweep_stride ();

      for (guint64 cut = 0; cut < ops_total; cut += stride)
        {
          g_autofree char *cmd = g_strdup_printf ("sh -c 'rm -rf %s && cp -a %s %s'", f->board_dir, pristine,
                                                  f->board_dir);
          g_autoptr(TbProbe) p = NULL;
          g_autoptr(TbAttestation) att = NULL;
          gboolean is_old, is_new;

          g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
          {
            g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (f->board_dir, &error);
            g_assert_no_error (error);
            tb_virtual_board_set_power_cut (board, (gint64) cut, kinds[k], (guint32) cut);
            tb_virtual_board_reset (board);
            g_assert_false (tb_virtual_board_is_powered (board));
            g_assert_false (tb_virtual_board_is_sbm_running (board));
          }
          /* power comes back: the boot runs again */
          p = tb_probe_open (f->uri, &error);
          g_assert_no_error (error);
          att = attest (p);
          is_old = att->boot == 0 && g_strcmp0 (att->app_version, "1.0.0") == 0;
          is_new = att->boot == 0 && g_strcmp0 (att->app_version, "1.1.0") == 0;
          if (!is_old && !is_new)
            g_error ("power cut %s flash operation %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT ": boot %u, “%s”",
                     names[k], cut, ops_total, att->boot, att->app_version);
          old_count += is_old;
          new_count += is_new;
          runs++;
          /* whatever the cut did, the staged update is consumed for good */
          reset_expect (p, 0, is_new ? "1.1.0" : "1.0.0");
        }
      g_test_message ("cut %s: %u of %" G_GUINT64_FORMAT " flash operations of a boot-time install: %u boot 1.0.0, "
                      "%u boot 1.1.0", names[k], runs, ops_total, old_count, new_count);
      g_assert_cmpuint (new_count, >, 0);
    }
}

/* ---- power sweeps beyond a cut before each operation (docs/reliability.md) ---- */

/* Each cut is replayed on a copy of the board as it was before. */
static void
copy_board (const char *from, const char *to)
{
  g_autofree char *cmd = g_strdup_printf ("sh -c 'rm -rf %s && cp -a %s %s'", to, from, to);
  g_assert_true (g_spawn_command_line_sync (cmd, NULL, NULL, NULL, NULL));
}

/* Every point in a `slow` run (-m slow: the provision-power-sweeps tests),
 * every tenth in the default one. */
static guint
sweep_stride (void)
{
  return g_test_slow () ? 1 : 10;
}

typedef struct {
  guint runs;
  guint old;
  guint new_version;
  guint refused;
} SweepCounts;

/* The invariant: the board boots @old (nothing when it is NULL) or
 * @new_version; with @refusal_ok it may also boot nothing when the SBM
 * says why (refused: the table does not match the application). Never
 * another version, never a mix. */
static void
check_old_or_new (TbProbe *probe, const char *old, const char *new_version, gboolean refusal_ok, SweepCounts *counts,
                  const char *what)
{
  g_autoptr(TbAttestation) att = attest (probe);
  gboolean is_old = old == NULL ? att->boot == 1 : att->boot == 0 && g_strcmp0 (att->app_version, old) == 0;
  gboolean is_new = att->boot == 0 && g_strcmp0 (att->app_version, new_version) == 0;
  gboolean is_refused = refusal_ok && att->boot == 2;

  if (!is_old && !is_new && !is_refused)
    g_error ("%s: boot %u, “%s”", what, att->boot, att->app_version);
  counts->runs++;
  counts->old += is_old;
  counts->new_version += is_new;
  counts->refused += is_refused;
}

static const char *const cut_names[] = { "before", "after", "torn" };

/* Programs UPK/IMAGE @which from the board as it is now, with the power cut
 * (@kind, seed = the operation's index) at each of its flash operations. */
static void
sweep_cut_kind (Fixture *f, guint which, const char *old, const char *new_version, TbPowerCut kind)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  guint64 ops_total;
  SweepCounts counts = { 0 };

  copy_board (f->board_dir, pristine);
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
    guint64 ops_before = tb_virtual_board_get_flash_ops (board);
    g_assert_true (tb_program_device (probe, f->upk[which], f->image[which], NULL, NULL, NULL, &error));
    ops_total = tb_virtual_board_get_flash_ops (board) - ops_before;
  }
  for (guint64 cut = 0; cut < ops_total; cut += sweep_stride ())
    {
      g_autoptr(TbProbe) p = NULL;
      g_autofree char *what = NULL;

      copy_board (pristine, f->board_dir);
      p = tb_probe_open (f->uri, &error);
      g_assert_no_error (error);
      tb_virtual_board_set_power_cut (tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (p)), (gint64) cut, kind,
                                      (guint32) cut);
      g_assert_false (tb_program_device (p, f->upk[which], f->image[which], NULL, NULL, NULL, NULL));
      g_assert_true (tb_probe_reset (p, FALSE, &error));
      what = g_strdup_printf ("power cut %s flash operation %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT,
                              cut_names[kind], cut, ops_total);
      check_old_or_new (p, old, new_version, FALSE, &counts, what);
    }
  g_test_message ("cut %s: %u of %" G_GUINT64_FORMAT " operations of %s: %u boot %s, %u boot %s", cut_names[kind],
                  counts.runs, ops_total, new_version, counts.old, old != NULL ? old : "nothing", counts.new_version,
                  new_version);
  g_assert_cmpuint (counts.new_version, >, 0);
  copy_board (pristine, f->board_dir);
}

/* A cut after each flash operation and one in the middle of each (torn
 * writes, half-erased pages), for a first install and an update. */
static void
test_power_cut_kinds (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    provision (f, probe, FALSE, FALSE);
  }
  sweep_cut_kind (f, 0, NULL, "1.0.0", TB_POWER_CUT_AFTER);
  sweep_cut_kind (f, 0, NULL, "1.0.0", TB_POWER_CUT_TORN);
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    g_assert_true (tb_program_device (probe, f->upk[0], f->image[0], NULL, NULL, NULL, &error));
  }
  sweep_cut_kind (f, 1, "1.0.0", "1.1.0", TB_POWER_CUT_AFTER);
  sweep_cut_kind (f, 1, "1.0.0", "1.1.0", TB_POWER_CUT_TORN);
}

/* Two cuts: one at each flash operation of programming UPK/IMAGE @which
 * from the board as it is now (before it, or torn in `slow`), and, when
 * the boot that follows has to finish the install (the commit window), a
 * second one — before, then torn — at each operation of that recovery
 * boot. */
static void
two_cut_sweep (Fixture *f, guint which, const char *old, const char *new_version)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  g_autofree char *after_cut = g_build_filename (f->tmp, "after-cut", NULL);
  guint64 ops_total, recovery_total = 0;
  guint window = 0, firsts = 0;
  SweepCounts counts = { 0 };
  static const TbPowerCut kinds[] = { TB_POWER_CUT_BEFORE, TB_POWER_CUT_TORN };

  copy_board (f->board_dir, pristine);
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));
    guint64 ops_before = tb_virtual_board_get_flash_ops (board);
    g_assert_true (tb_program_device (probe, f->upk[which], f->image[which], NULL, NULL, NULL, &error));
    ops_total = tb_virtual_board_get_flash_ops (board) - ops_before;
  }
  for (guint64 first = 0; first < ops_total; first += g_test_slow () ? 1 : 6)
    for (guint k1 = 0; k1 < (g_test_slow () ? G_N_ELEMENTS (kinds) : 1); k1++)
      {
        guint64 recovery_ops;

        firsts++;
        /* the board as the first cut leaves it */
        copy_board (pristine, f->board_dir);
        {
          g_autoptr(TbProbe) p = tb_probe_open (f->uri, &error);
          TbVirtualBoard *board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (p));
          guint64 before;
          tb_virtual_board_set_power_cut (board, (gint64) first, kinds[k1], (guint32) first);
          g_assert_false (tb_program_device (p, f->upk[which], f->image[which], NULL, NULL, NULL, NULL));
          g_clear_object (&p);
          copy_board (f->board_dir, after_cut);
          /* how many flash operations the recovery boot makes */
          board = tb_virtual_board_open (f->board_dir, &error);
          g_assert_no_error (error);
          before = tb_virtual_board_get_flash_ops (board);
          tb_virtual_board_reset (board);
          recovery_ops = tb_virtual_board_get_flash_ops (board) - before;
          g_object_unref (board);
        }
        if (recovery_ops == 0)
          continue;
        window++;
        recovery_total += recovery_ops;
        for (guint64 second = first % sweep_stride (); second < recovery_ops; second += sweep_stride ())
          for (guint k2 = 0; k2 < G_N_ELEMENTS (kinds); k2++)
            {
              TbPowerCut kind = kinds[k2];
              g_autoptr(TbProbe) p = NULL;
              g_autofree char *what = NULL;

              copy_board (after_cut, f->board_dir);
              {
                g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (f->board_dir, &error);
                g_assert_no_error (error);
                tb_virtual_board_set_power_cut (board, (gint64) second, kind, (guint32) (first * 1000 + second));
                tb_virtual_board_reset (board);
                g_assert_false (tb_virtual_board_is_powered (board));
              }
              /* power comes back once more: this boot is not cut */
              p = tb_probe_open (f->uri, &error);
              g_assert_no_error (error);
              what = g_strdup_printf ("cut %s operation %" G_GUINT64_FORMAT " of %s, then %s recovery operation %"
                                      G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT, cut_names[kinds[k1]], first,
                                      new_version, cut_names[kind], second, recovery_ops);
              check_old_or_new (p, old, new_version, FALSE, &counts, what);
            }
      }
  g_test_message ("two cuts, installing %s: %u first cuts at %" G_GUINT64_FORMAT " operations, %u in the commit "
                  "window (%" G_GUINT64_FORMAT " recovery operations), %u second cuts: %u boot %s, %u boot %s",
                  new_version, firsts, ops_total, window, recovery_total, counts.runs, counts.old,
                  old != NULL ? old : "nothing", counts.new_version, new_version);
  g_assert_cmpuint (window, >, 0);
  g_assert_cmpuint (counts.runs, >, 0);
  copy_board (pristine, f->board_dir);
}

/* The two-cut sweep for a first install and for an update. */
static void
test_two_cut_sweep (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    provision (f, probe, FALSE, FALSE);
  }
  two_cut_sweep (f, 0, NULL, "1.0.0");
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    g_assert_true (tb_program_device (probe, f->upk[0], f->image[0], NULL, NULL, NULL, &error));
  }
  two_cut_sweep (f, 1, "1.0.0", "1.1.0");
}

/* Flips each bit of the signature table (both journal records) of a board
 * that was updated from 1.0.0 to 1.1.0: it boots one of the two, or
 * nothing and says so (refused); never a mix. */
static void
test_metadata_bit_flips (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  g_autofree char *flash_path = g_build_filename (f->board_dir, "flash.bin", NULL);
  const guint32 page_size = 1024; /* the fixture's board */
  const guint32 record_len = 128;
  SweepCounts counts = { 0 };

  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    provision (f, probe, TRUE, FALSE);
    g_assert_true (tb_program_device (probe, f->upk[1], f->image[1], NULL, NULL, NULL, &error));
  }
  copy_board (f->board_dir, pristine);
  for (guint record = 0; record < 2; record++)
    for (guint32 bit = record % sweep_stride (); bit < record_len * 8; bit += g_test_slow () ? 1 : 37)
      {
        guint32 offset = TB_SBM_REGION_SIZE + record * page_size + bit / 8;
        g_autofree char *what = NULL;
        g_autoptr(TbProbe) p = NULL;
        int fd;
        guint8 byte;

        copy_board (pristine, f->board_dir);
        fd = g_open (flash_path, O_RDWR, 0);
        g_assert_cmpint (fd, >=, 0);
        g_assert_cmpint (pread (fd, &byte, 1, offset), ==, 1);
        byte ^= (guint8) (1u << (bit % 8));
        g_assert_cmpint (pwrite (fd, &byte, 1, offset), ==, 1);
        g_close (fd, NULL);
        p = tb_probe_open (f->uri, &error);
        g_assert_no_error (error);
        what = g_strdup_printf ("bit %u of journal record %u flipped", bit, record);
        check_old_or_new (p, "1.0.0", "1.1.0", TRUE, &counts, what);
      }
  g_test_message ("bit flips in the signature table: %u: %u boot 1.0.0, %u boot 1.1.0, %u refused", counts.runs,
                  counts.old, counts.new_version, counts.refused);
  g_assert_cmpuint (counts.new_version, >, 0);
}

/* A board running 1.0.0 (locked) with 1.1.0 staged by its application,
 * not yet reset, copied to @pristine; *@ops_total: the flash operations of
 * the boot that installs it. */
static void
stage_pristine (Fixture *f, const char *pristine, guint64 *ops_total)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) board = NULL;
  guint64 ops_before;

  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    g_assert_no_error (error);
    provision (f, probe, TRUE, TRUE);
    stage (probe, f->upk[1], f->image[1]);
  }
  copy_board (f->board_dir, pristine);
  /* the board as the application left it, not yet reset (opening a probe
   * would power it up) */
  board = tb_virtual_board_open (f->board_dir, &error);
  g_assert_no_error (error);
  ops_before = tb_virtual_board_get_flash_ops (board);
  tb_virtual_board_reset (board);
  *ops_total = tb_virtual_board_get_flash_ops (board) - ops_before;
  g_assert_cmpuint (*ops_total, >, 10);
}

/* Two cuts in a boot-time install: one at a flash operation of the boot
 * that installs a staged update (before it, or torn), and a second one
 * (before, or torn) at a flash operation of the boot that follows and
 * finishes or repeats it. Every first cut and every 7th second cut in
 * `slow`; fewer by default. */
static void
test_staged_two_cut_sweep (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  g_autofree char *after_cut = g_build_filename (f->tmp, "after-cut", NULL);
  static const TbPowerCut kinds[] = { TB_POWER_CUT_BEFORE, TB_POWER_CUT_TORN };
  guint first_stride = g_test_slow () ? 1 : 13, second_stride = g_test_slow () ? 7 : 20;
  guint64 ops_total, second_total = 0;
  guint firsts = 0;
  SweepCounts counts = { 0 };

  stage_pristine (f, pristine, &ops_total);
  for (guint64 first = 0; first < ops_total; first += first_stride)
    for (guint k1 = 0; k1 < G_N_ELEMENTS (kinds); k1++)
      {
        guint64 recovery_ops;

        if (!g_test_slow () && k1 > 0)
          continue;
        copy_board (pristine, f->board_dir);
        {
          g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (f->board_dir, &error);
          g_assert_no_error (error);
          tb_virtual_board_set_power_cut (board, (gint64) first, kinds[k1], (guint32) first);
          tb_virtual_board_reset (board);
          g_assert_false (tb_virtual_board_is_powered (board));
        }
        copy_board (f->board_dir, after_cut);
        {
          g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (f->board_dir, &error);
          guint64 before = tb_virtual_board_get_flash_ops (board);
          tb_virtual_board_reset (board);
          recovery_ops = tb_virtual_board_get_flash_ops (board) - before;
        }
        firsts++;
        second_total += recovery_ops;
        for (guint64 second = first % second_stride; second < recovery_ops; second += second_stride)
          for (guint k2 = 0; k2 < G_N_ELEMENTS (kinds); k2++)
            {
              g_autoptr(TbProbe) p = NULL;
              g_autofree char *what = NULL;

              copy_board (after_cut, f->board_dir);
              {
                g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (f->board_dir, &error);
                g_assert_no_error (error);
                tb_virtual_board_set_power_cut (board, (gint64) second, kinds[k2],
                                                (guint32) (first * 1000 + second));
                tb_virtual_board_reset (board);
                g_assert_false (tb_virtual_board_is_powered (board));
              }
              p = tb_probe_open (f->uri, &error);
              g_assert_no_error (error);
              what = g_strdup_printf ("cut %s staged-install operation %" G_GUINT64_FORMAT ", then %s operation %"
                                      G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " of the next boot",
                                      cut_names[kinds[k1]], first, cut_names[kinds[k2]], second, recovery_ops);
              {
                guint new_before = counts.new_version;
                check_old_or_new (p, "1.0.0", "1.1.0", FALSE, &counts, what);
                /* and the staged update is consumed for good */
                reset_expect (p, 0, counts.new_version > new_before ? "1.1.0" : "1.0.0");
              }
            }
      }
  g_test_message ("two cuts in a boot-time install: %u first cuts of %" G_GUINT64_FORMAT " operations, %"
                  G_GUINT64_FORMAT " operations in the boots after them, %u second cuts: %u boot 1.0.0, %u boot "
                  "1.1.0", firsts, ops_total, second_total, counts.runs, counts.old, counts.new_version);
  g_assert_cmpuint (counts.runs, >, 0);
  g_assert_cmpuint (counts.new_version, >, 0);
}

/* Flips each bit of the metadata an application-staged update carries —
 * the 16-byte update header and the 64-byte image header behind the UPK —
 * on a board running 1.0.0 with 1.1.0 staged, then resets it: it boots
 * 1.0.0 (the update refused or not seen) or 1.1.0, never anything else.
 * (A larger image length in the update header still installs 1.1.0: the
 * length only bounds the region; the image header and the UPK say what
 * is read.)
 * Every bit in `slow`, every 11th by default. */
static void
test_header_bit_flips (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pristine = g_build_filename (f->tmp, "pristine", NULL);
  g_autofree char *flash_path = g_build_filename (f->board_dir, "flash.bin", NULL);
  guint32 update_offset;
  GStatBuf upk_stat;
  gsize upk_len;
  SweepCounts counts = { 0 };
  struct {
    const char *name;
    guint32 offset;
    guint32 len;
  } regions[2];
  guint64 ignored;

  g_assert_cmpint (g_stat (f->upk[1], &upk_stat), ==, 0);
  upk_len = (gsize) upk_stat.st_size;
  stage_pristine (f, pristine, &ignored);
  {
    g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (pristine, &error);
    TbSbmPlatform p = { .flash_size = tb_virtual_board_get_flash_size (board),
                        .page_size = tb_virtual_board_get_page_size (board) };
    g_assert_no_error (error);
    update_offset = tb_sbm_update_offset (&p);
  }
  regions[0].name = "update header";
  regions[0].offset = update_offset;
  regions[0].len = TB_SBM_UPDATE_HEADER;
  regions[1].name = "image header";
  regions[1].offset = update_offset + TB_SBM_UPDATE_HEADER + (guint32) upk_len;
  regions[1].len = TB_IMAGE_HEADER_LEN;
  for (guint r = 0; r < G_N_ELEMENTS (regions); r++)
    for (guint32 bit = r; bit < regions[r].len * 8; bit += g_test_slow () ? 1 : 11)
      {
        guint32 offset = regions[r].offset + bit / 8;
        g_autofree char *what = NULL;
        g_autoptr(TbProbe) p = NULL;
        int fd;
        guint8 byte;

        copy_board (pristine, f->board_dir);
        fd = g_open (flash_path, O_RDWR, 0);
        g_assert_cmpint (fd, >=, 0);
        g_assert_cmpint (pread (fd, &byte, 1, offset), ==, 1);
        byte ^= (guint8) (1u << (bit % 8));
        g_assert_cmpint (pwrite (fd, &byte, 1, offset), ==, 1);
        g_close (fd, NULL);
        p = tb_probe_open (f->uri, &error);
        g_assert_no_error (error);
        what = g_strdup_printf ("bit %u of the staged update's %s flipped", bit, regions[r].name);
        check_old_or_new (p, "1.0.0", "1.1.0", FALSE, &counts, what);
      }
  g_test_message ("bit flips in the staged update's headers: %u: %u boot 1.0.0, %u boot 1.1.0", counts.runs,
                  counts.old, counts.new_version);
  g_assert_cmpuint (counts.old, >, 0);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/tb/provision/provision-and-boot", test_provision_and_boot);
  ADD ("/tb/provision/blank-device-slow-boot", test_blank_device_slow_boot);
  ADD ("/tb/provision/refusals", test_refusals);
  ADD ("/tb/provision/master-app-slot", test_master_app_slot);
  ADD ("/tb/provision/image-checked-before-lock", test_image_checked_before_lock);
  ADD ("/tb/provision/board-busy", test_board_busy);
  ADD ("/tb/provision/modified-flash-refused", test_modified_flash_refused);
  ADD ("/tb/provision/locked-debug", test_locked_debug);
  ADD ("/tb/provision/halt-resume", test_halt_resume);
  ADD ("/tb/provision/power-cut-sweep", test_power_cut_sweep);
  ADD ("/tb/provision/hostile-mailbox", test_hostile_mailbox);
  ADD ("/tb/provision/staged-update", test_staged_update);
  ADD ("/tb/provision/staged-update-power-cut", test_staged_update_power_cut);
  ADD ("/tb/provision/power-cut-kinds", test_power_cut_kinds);
  ADD ("/tb/provision/two-cut-sweep", test_two_cut_sweep);
  ADD ("/tb/provision/metadata-bit-flips", test_metadata_bit_flips);
  ADD ("/tb/provision/staged-two-cut-sweep", test_staged_two_cut_sweep);
  ADD ("/tb/provision/header-bit-flips", test_header_bit_flips);
#undef ADD
  return g_test_run ();
}
