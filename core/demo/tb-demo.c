/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The built-in demo: a security context (and, as they land, a key
 * hierarchy, a mastered image and a virtual board) that lets anyone run
 * the whole chain with no hardware. Used by `trustbench-tool demo` and by
 * the workbench's "Open demo" action. */

#include "config.h"

#include "tb-demo.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-cert.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-firmware.h"
#include "tb-hierarchy.h"
#include "tb-job.h"
#include "tb-master.h"
#include "tb-probe.h"
#include "tb-production.h"
#include "tb-provision.h"
#include "tb-target.h"
#include "tb-virtual-board.h"
#include "tb-policy.h"

/**
 * tb_demo_get_default_path:
 *
 * Returns: (transfer full): where the workbench keeps its demo context
 */
char *
tb_demo_get_default_path (void)
{
  return g_build_filename (g_get_user_data_dir (), "trustbench", "demo", "context", NULL);
}

/**
 * tb_demo_create_context:
 * @path: a new or empty directory
 *
 * Creates the demo context, locked for writing.
 */
TbContext *
tb_demo_create_context (const char *path, TbProgress *progress, GError **error)
{
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(JsonObject) product = json_object_new ();
  const char *products[] = { TB_DEMO_PRODUCT, NULL };
  g_autoptr(GPtrArray) keys = NULL;

  tb_progress_set_stage (progress, _("Creating the security context “%s” in %s"), TB_DEMO_CONTEXT_NAME, path);
  if (tb_progress_set_error_if_cancelled (progress, error))
    return NULL;
  ctx = tb_context_create (path, TB_DEMO_CONTEXT_NAME, error);
  if (ctx == NULL)
    return NULL;
  tb_context_set_demo (ctx, TRUE);
  json_object_set_string_member (product, "name", TB_DEMO_PRODUCT);
  json_object_set_string_member (product, "description", _("Demo temperature sensor"));
  if (!tb_context_add_entry (ctx, TB_INVENTORY_PRODUCTS, product, error) ||
      !tb_context_save (ctx, error))
    return NULL;
  tb_progress_log (progress, _("  context id %s, product “%s”"), tb_context_get_id (ctx), TB_DEMO_PRODUCT);

  if (!tb_hierarchy_create (ctx, products, NULL, TB_DEMO_PASSPHRASE, progress, error))
    return NULL;
  keys = tb_context_get_entries (ctx, TB_INVENTORY_KEYS);
  for (guint i = 0; i < keys->len; i++)
    {
      JsonObject *k = g_ptr_array_index (keys, i);
      tb_progress_log (progress, _("  key %-20s %-16s %s, encrypted in %s"),
                       json_object_get_string_member (k, "name"), json_object_get_string_member (k, "usage"),
                       json_object_get_string_member (k, "algorithm"), json_object_get_string_member (k, "file"));
    }
  return g_steal_pointer (&ctx);
}

/* The demo application: a Cortex-M vector table (initial stack pointer,
 * reset vector) followed by code-like bytes, 24 KiB linked for the virtual
 * board's application slot. */
#define DEMO_LOAD_ADDRESS (TB_BOARD_FLASH_BASE + TB_SBM_APP_MIN_OFFSET)

static gboolean
write_demo_firmware (const char *path, GError **error)
{
  const gsize size = 24 * 1024;
  g_autofree guint8 *image = g_malloc (size);
  guint32 words[2] = { GUINT32_TO_LE (0x20008000), GUINT32_TO_LE (DEMO_LOAD_ADDRESS + 0x101) };

  memcpy (image, words, sizeof words);
  for (gsize i = sizeof words; i < size; i++)
    image[i] = (guint8) ((i * 2654435761u) >> 24);
  return tb_file_write_atomic (path, image, size, 0644, error);
}

static gboolean
demo_master (TbContext *ctx, const char *dir, TbProgress *progress, GError **error)
{
  g_autofree char *fw_dir = g_build_filename (dir, "firmware", NULL);
  g_autofree char *fw_path = g_build_filename (fw_dir, "demo-app.bin", NULL);
  g_autofree char *image = g_build_filename (fw_dir, "demo-app-1.0.0.tbimg", NULL);
  g_autofree char *upk_path = g_build_filename (fw_dir, "demo-app-1.0.0.tbupk", NULL);
  g_autoptr(TbFirmware) fw = NULL;
  g_autoptr(TbUpk) upk = NULL;
  g_autoptr(GPtrArray) checks = NULL;
  TbMasterOptions options = { TB_DEMO_PRODUCT, NULL, NULL, "1.0.0", 1, 0 };
  g_autofree char *sha = NULL;

  tb_progress_set_range (progress, 0.85, 0.9);
  tb_progress_set_stage (progress, _("Mastering the demo application 1.0.0 for “%s”"), TB_DEMO_PRODUCT);
  if (g_mkdir_with_parents (fw_dir, 0700) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create %s"), fw_dir);
      return FALSE;
    }
  if (!write_demo_firmware (fw_path, error))
    return FALSE;
  fw = tb_firmware_load_file (fw_path, TB_FIRMWARE_FORMAT_BIN, DEMO_LOAD_ADDRESS, error);
  if (fw == NULL)
    return FALSE;
  upk = tb_master_image (ctx, fw, &options, TB_DEMO_PASSPHRASE, image, upk_path, NULL, error);
  if (upk == NULL)
    return FALSE;
  sha = tb_firmware_compute_sha256 (fw, NULL, error);
  tb_progress_log (progress, _("  %s + %s (%" G_GUINT64_FORMAT " bytes at 0x%08" G_GINT64_MODIFIER "x, SHA-256 %s)"),
                   image, upk_path, tb_upk_get_image_size (upk), tb_upk_get_load_address (upk), sha);

  tb_progress_set_range (progress, 0.9, 0.95);
  tb_progress_set_stage (progress, _("Verifying the mastered image as a device would"));
  if (!tb_image_verify (ctx, upk_path, image, TB_DEMO_PASSPHRASE, &checks, NULL, error))
    return FALSE;
  for (guint i = 0; i < checks->len; i++)
    {
      TbCheck *c = g_ptr_array_index (checks, i);
      tb_progress_log (progress, "  %-10s %s", c->name, c->message);
    }
  return TRUE;
}

/* Where the demo's board @name goes: in @boards_dir when the demo's boards
 * are to be listed with the user's (the workbench), under a name no other
 * board has; else in the demo folder. */
static char *
demo_board_path (const char *dir, const char *boards_dir, const char *name)
{
  if (boards_dir == NULL)
    return g_build_filename (dir, name, NULL);
  for (guint n = 1;; n++)
    {
      g_autofree char *base = n == 1 ? g_strdup_printf ("demo-%s", name) : g_strdup_printf ("demo-%s-%u", name, n);
      char *path = g_build_filename (boards_dir, base, NULL);

      if (!g_file_test (path, G_FILE_TEST_EXISTS))
        return path;
      g_free (path);
    }
}

/* A virtual board made, provisioned with the demo image, reset and booted. */
static gboolean
demo_board (TbContext *ctx, const char *dir, const char *boards_dir, TbProgress *progress, GError **error)
{
  g_autofree char *board_dir = demo_board_path (dir, boards_dir, "board");
  g_autofree char *uri = g_strconcat ("virtual:", board_dir, NULL);
  g_autofree char *upk = g_build_filename (dir, "firmware", "demo-app-1.0.0.tbupk", NULL);
  g_autofree char *image = g_build_filename (dir, "firmware", "demo-app-1.0.0.tbimg", NULL);
  g_autoptr(TbVirtualBoard) board = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;
  TbProvisionOptions options = { TB_DEMO_PRODUCT, upk, image, FALSE };
  TbProvisionResult result = { 0 };
  g_autofree char *record = NULL;
  gboolean ok;

  tb_progress_set_range (progress, 0.95, 0.955);
  tb_progress_set_stage (progress, _("Making a virtual board in %s"), board_dir);
  board = tb_virtual_board_create (board_dir, NULL, 0, 0, NULL, error);
  if (board == NULL)
    return FALSE;
  tb_progress_log (progress, _("  board %s (%s), born %s with its device key"), tb_virtual_board_get_uid (board),
                   tb_virtual_board_get_device_type (board),
                   tb_lifecycle_to_string (tb_virtual_board_get_lifecycle (board)));
  g_clear_object (&board);
  probe = tb_probe_open (uri, error);
  if (probe == NULL)
    return FALSE;

  tb_progress_set_range (progress, 0.955, 0.958);
  ok = tb_provision_device_and_record (ctx, probe, &options, TB_DEMO_PASSPHRASE, &result, &record, progress, error);
  if (ok)
    tb_progress_log (progress, _("  device %s provisioned and %s, certificate serial %s, record %s"), result.uid,
                     result.lifecycle, result.device_certificate_serial, record);
  tb_provision_result_clear (&result);
  if (!ok)
    return FALSE;

  tb_progress_set_range (progress, 0.958, 0.96);
  tb_progress_set_stage (progress, _("Resetting the board: the SBM checks the application before it starts it"));
  target = tb_target_new (probe);
  if (!tb_target_reset (target, error) || (att = tb_target_attest (target, error)) == NULL)
    return FALSE;
  if (att->boot != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The demo board did not boot its application"));
      return FALSE;
    }
  tb_progress_log (progress, _("  boot ok: the board runs %s %s (security counter %u)"), TB_DEMO_PRODUCT,
                   att->app_version, att->app_counter);
  return TRUE;
}

/* A production job of TB_DEMO_JOB_COUNT devices made by the OEM context, a
 * station context that imports it, and two devices made under it. */
static gboolean
demo_production (TbContext *ctx, const char *dir, const char *boards_dir, TbProgress *progress, GError **error)
{
  g_autofree char *upk = g_build_filename (dir, "firmware", "demo-app-1.0.0.tbupk", NULL);
  g_autofree char *image = g_build_filename (dir, "firmware", "demo-app-1.0.0.tbimg", NULL);
  g_autofree char *package = g_build_filename (dir, "firmware", "demo-app-1.0.0.tbjob", NULL);
  g_autofree char *station_dir = g_build_filename (dir, TB_DEMO_STATION_DIR, NULL);
  g_autofree char *job_id = NULL;
  g_autoptr(GPtrArray) files = NULL;
  g_autoptr(TbCert) root = NULL;
  g_autoptr(TbJobPackage) p = NULL;
  g_autoptr(TbContext) station = NULL;
  TbJobCreateOptions options = { 0 };

  tb_progress_set_range (progress, 0.96, 0.97);
  tb_progress_set_stage (progress, _("Creating a production job of %u devices, signed by the OEM root"),
                         TB_DEMO_JOB_COUNT);
  options.upk_path = upk;
  options.image_path = image;
  options.count = TB_DEMO_JOB_COUNT;
  options.output = package;
  if (!tb_job_create (ctx, &options, TB_DEMO_PASSPHRASE, TB_DEMO_PASSPHRASE, &job_id, &files, error))
    return FALSE;
  root = tb_cert_load (ctx, TB_KEY_NAME_ROOT_CA, error);
  if (root == NULL)
    return FALSE;
  tb_progress_log (progress, _("  job %s: %s"), job_id, (const char *) g_ptr_array_index (files, 0));

  tb_progress_set_stage (progress, _("Importing the job into the station context “%s”"), TB_DEMO_STATION_NAME);
  station = tb_context_create (station_dir, TB_DEMO_STATION_NAME, error);
  if (station == NULL)
    return FALSE;
  tb_context_set_demo (station, TRUE);
  p = tb_job_package_load (g_ptr_array_index (files, 0), error);
  if (p == NULL || !tb_context_save (station, error) ||
      !tb_job_import (station, p, tb_cert_get_sha256 (root), TB_DEMO_PASSPHRASE, TB_DEMO_PASSPHRASE, error))
    return FALSE;
  tb_context_unlock (station);
  tb_progress_log (progress, _("  %s trusts the OEM root %s"), station_dir, tb_cert_get_sha256 (root));

  for (guint i = 1; i <= TB_DEMO_PRODUCED; i++)
    {
      g_autofree char *name = g_strdup_printf ("line-%u", i);
      g_autofree char *board_dir = demo_board_path (dir, boards_dir, name);
      g_autofree char *uri = g_strconcat ("virtual:", board_dir, NULL);
      g_autoptr(TbVirtualBoard) board = NULL;
      g_autoptr(TbProbe) probe = NULL;
      TbProduceOptions produce = { job_id, _("demo operator"), FALSE };
      TbProduceResult result = { 0 };
      gboolean ok;

      tb_progress_set_range (progress, 0.97 + 0.01 * (i - 1), 0.97 + 0.01 * i);
      tb_progress_set_stage (progress, _("Producing device %u of the job on a new virtual board"), i);
      board = tb_virtual_board_create (board_dir, NULL, 0, 0, NULL, error);
      if (board == NULL)
        return FALSE;
      g_clear_object (&board);
      probe = tb_probe_open (uri, error);
      if (probe == NULL)
        return FALSE;
      ok = tb_produce (station, probe, &produce, TB_DEMO_PASSPHRASE, &result, progress, error);
      if (ok)
        tb_progress_log (progress, _("  device %s made: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT), result.uid,
                         result.made, result.limit);
      tb_produce_result_clear (&result);
      if (!ok)
        return FALSE;
    }

  /* what the station hands back to the OEM, who checks every receipt */
  {
    g_autofree char *records = g_build_filename (dir, TB_DEMO_RECORDS_FILE, NULL);
    guint n = 0;

    if (!tb_records_export (station, job_id, TB_RECORDS_FORMAT_JSON, records, &n, error))
      return FALSE;
    tb_progress_log (progress, _("  %u records exported to %s"), n, records);
  }
  return TRUE;
}

/**
 * tb_demo_run:
 * @path: a new or empty directory for the demo context
 *
 * Runs every step of the chain this build implements on a fresh context,
 * one log line per step; the boards go into the demo folder.
 */
gboolean
tb_demo_run (const char *path, TbProgress *progress, GError **error)
{
  return tb_demo_run_full (path, NULL, progress, error);
}

/**
 * tb_demo_run_full:
 * @path: a new or empty directory for the demo context
 * @boards_dir: (nullable): where the demo's virtual boards go (named
 *   demo-…), or %NULL for the demo folder
 *
 * The whole chain on a fresh context: key hierarchy, a mastered image, a
 * board provisioned with it that boots, a production job and a station
 * context (@path/station) that made two devices under it.
 */
gboolean
tb_demo_run_full (const char *path, const char *boards_dir, TbProgress *progress, GError **error)
{
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(TbContext) reopened = NULL;

  tb_progress_set_range (progress, 0.0, 0.6);
  ctx = tb_demo_create_context (path, progress, error);
  if (ctx == NULL)
    return FALSE;

  tb_progress_set_range (progress, 0.6, 0.8);
  tb_progress_set_stage (progress, _("Reopening the context to check what was written"));
  tb_context_unlock (ctx);
  reopened = tb_context_open (path, TB_CONTEXT_OPEN_READ, error);
  if (reopened == NULL)
    return FALSE;
  if (g_strcmp0 (tb_context_get_id (reopened), tb_context_get_id (ctx)) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The context read back from %s is not the one written"), path);
      return FALSE;
    }

  tb_progress_set_range (progress, 0.7, 0.8);
  tb_progress_set_stage (progress, _("Verifying every certificate against the root CA"));
  {
    g_autoptr(GPtrArray) certs = tb_cert_load_all (reopened, error);
    if (certs == NULL)
      return FALSE;
    for (guint i = 0; i < certs->len; i++)
      {
        g_autoptr(GPtrArray) chain = NULL;
        TbCert *cert = g_ptr_array_index (certs, i);
        g_autofree char *subject = tb_cert_dup_subject (cert);
        if (!tb_cert_verify (reopened, cert, &chain, error))
          return FALSE;
        tb_progress_log (progress, _("  %-20s %s: valid (chain of %u)"), tb_cert_get_name (cert), subject, chain->len);
      }
  }

  tb_progress_set_range (progress, 0.8, 0.85);
  tb_progress_set_stage (progress, _("Checking the context against the policy"));
  findings = tb_policy_check_context (reopened);
  for (guint i = 0; i < findings->len; i++)
    {
      TbPolicyFinding *f = g_ptr_array_index (findings, i);
      tb_progress_log (progress, "  %s: %s", tb_severity_to_string (f->severity), f->message);
    }

  if (!demo_master (reopened, path, progress, error) || !demo_board (reopened, path, boards_dir, progress, error))
    return FALSE;
  /* the job is written into the context: it needs the write lock */
  g_clear_object (&reopened);
  reopened = tb_context_open (path, TB_CONTEXT_OPEN_WRITE, error);
  if (reopened == NULL || !demo_production (reopened, path, boards_dir, progress, error))
    return FALSE;
  tb_progress_finish (progress);
  return TRUE;
}
