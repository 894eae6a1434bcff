/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The reference SBM cross-built for a Cortex-M4 (firmware/) on mbedTLS,
 * running in QEMU (mps2-an386), reached only through the gdb: probe and
 * QEMU's gdbstub: the checks the virtual board passes in test-provision.c
 * — provision, program, the refusals with flash unchanged, reset and boot
 * check — on a real instruction set. Each test starts QEMU on a board
 * directory of its own with tools/run-qemu-sbm and stops it; the board's
 * flash and OTP (a file QEMU maps) outlive QEMU. Skips without
 * qemu-system-arm or without the firmware (meson -Dsbm_firmware). */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-test-chain.h"
#include "tb-test-util.h"
#include "trustbench.h"

#define FLASH_BASE 0x21000000u
#define FLASH_SIZE (1024u * 1024u)
#define PAGE_SIZE 4096u
#define APP_ADDRESS (FLASH_BASE + TB_SBM_APP_MIN_OFFSET)
#define UID "5eed0a386c0ffee1"

typedef struct {
  char *tmp;
  char *board_dir;
  char *socket_path;
  char *uri;
  GSubprocess *qemu;
  TbContext *ctx;
  char *upk[2];
  char *image[2];
  const char *skip;
} Fixture;

static void
start_qemu (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GSubprocessLauncher) launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                                       G_SUBPROCESS_FLAGS_STDERR_SILENCE);
  g_autofree char *gdb = g_strconcat ("unix:", f->socket_path, NULL);

  g_subprocess_launcher_setenv (launcher, "TB_SBM_FIRMWARE", g_getenv ("TB_SBM_FIRMWARE"), TRUE);
  f->qemu = g_subprocess_launcher_spawn (launcher, &error, g_getenv ("TB_RUN_QEMU_SBM"), "--die-with-parent", "--gdb",
                                         gdb, "--uid", UID, f->board_dir, NULL);
  g_assert_no_error (error);
  /* QEMU listens on the socket once it is ready */
  g_assert_true (tb_test_wait_for_listener (f->socket_path, 10000));
  /* and the SBM answers once it has booted (the first boot makes the
   * device key) */
  {
    g_autoptr(TbProbe) probe = tb_probe_open (f->uri, &error);
    g_autoptr(TbTarget) target = NULL;

    g_assert_no_error (error);
    target = tb_target_new (probe);
    g_assert_true (tb_target_wait_ready (target, &error));
    g_assert_no_error (error);
  }
}

static void
stop_qemu (Fixture *f)
{
  if (f->qemu == NULL)
    return;
  g_subprocess_force_exit (f->qemu);
  g_subprocess_wait (f->qemu, NULL, NULL);
  g_clear_object (&f->qemu);
  g_remove (f->socket_path);
}

static void
setup (Fixture *f, gconstpointer data)
{
  g_autofree char *qemu = g_find_program_in_path ("qemu-system-arm");
  const char *firmware = g_getenv ("TB_SBM_FIRMWARE");
  const char *const products[] = { "sensor", "gateway", NULL };
  g_autofree char *dir = NULL;

  if (qemu == NULL)
    {
      f->skip = "qemu-system-arm is not installed (tools/install-deps installs it)";
      return;
    }
  if (firmware == NULL || !g_file_test (firmware, G_FILE_TEST_IS_REGULAR))
    {
      f->skip = "the SBM firmware was not built (it needs gcc-arm-none-eabi, libnewlib-arm-none-eabi and the "
                "mbedTLS source: tools/install-deps, then meson setup -Dsbm_firmware=enabled)";
      return;
    }
  f->tmp = tb_test_make_tmpdir ();
  f->board_dir = g_build_filename (f->tmp, "board", NULL);
  f->socket_path = g_build_filename (f->tmp, "gdb.sock", NULL);
  f->uri = g_strconcat ("gdb:unix:", f->socket_path, NULL);
  dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_test_chain_context (dir, "QEMU Test", products);
  tb_test_chain_master (f->ctx, f->tmp, "app-0", APP_ADDRESS, 10000, 3, "1.0.0", 1, NULL, "sensor", &f->upk[0],
                        &f->image[0]);
  tb_test_chain_master (f->ctx, f->tmp, "app-1", APP_ADDRESS, 10777, 4, "1.1.0", 2, NULL, "sensor", &f->upk[1],
                        &f->image[1]);
  start_qemu (f);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  stop_qemu (f);
  g_clear_object (&f->ctx);
  if (f->tmp != NULL)
    tb_test_rm_rf (f->tmp);
  for (guint i = 0; i < G_N_ELEMENTS (f->upk); i++)
    {
      g_free (f->upk[i]);
      g_free (f->image[i]);
    }
  g_free (f->tmp);
  g_free (f->board_dir);
  g_free (f->socket_path);
  g_free (f->uri);
}

static gboolean
skipped (Fixture *f)
{
  if (f->skip == NULL)
    return FALSE;
  g_test_skip (f->skip);
  return TRUE;
}

static TbProbe *
open_probe (Fixture *f)
{
  g_autoptr(GError) error = NULL;
  TbProbe *probe = tb_probe_open (f->uri, &error);

  g_assert_no_error (error);
  return probe;
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
provision (Fixture *f, TbProbe *probe, gboolean lock)
{
  g_autoptr(GError) error = NULL;
  TbProvisionOptions options = { "sensor", f->upk[0], f->image[0], !lock };
  TbProvisionResult result = { 0 };
  g_autoptr(TbCert) cert = NULL;

  gboolean ok = tb_provision_device (f->ctx, probe, &options, TB_TEST_PASS, &result, NULL, &error);

  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (result.uid, ==, UID);
  g_assert_cmpstr (result.device_type, ==, "tb-qemu-an386");
  g_assert_cmpstr (result.lifecycle, ==, lock ? "locked" : "provisioned");
  g_assert_cmpstr (result.app_version, ==, "1.0.0");
  g_assert_nonnull (result.receipt);
  /* the device certificate, for the key the device made itself, chains
   * to the context's root */
  cert = tb_cert_new_from_data (result.device_certificate, strlen (result.device_certificate), "device", &error);
  g_assert_no_error (error);
  g_assert_true (tb_cert_verify (f->ctx, cert, NULL, &error));
  g_assert_no_error (error);
  tb_provision_result_clear (&result);
}

/* The signature table and the application slot, read through the probe. */
static GBytes *
snapshot (TbProbe *probe, gpointer user_data)
{
  g_autoptr(GError) error = NULL;
  TbSbmPlatform p = { .flash_size = FLASH_SIZE, .page_size = PAGE_SIZE };
  gsize size = tb_sbm_app_offset (&p) + tb_sbm_slot_size (&p) - TB_SBM_REGION_SIZE;
  guint8 *buf = g_malloc (size);

  g_assert_true (tb_probe_read_memory (probe, FLASH_BASE + TB_SBM_REGION_SIZE, buf, size, NULL, &error));
  g_assert_no_error (error);
  return g_bytes_new_take (buf, size);
}

/* Provision with an image, lock, boot it; update it; the board outlives
 * QEMU; a second provisioning is refused. */
static void
test_provision_and_boot (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbAttestation) att = NULL;
  g_autofree char *version = NULL;
  gboolean ok;

  if (skipped (f))
    return;
  probe = open_probe (f);
  att = attest (probe);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_SBM_INSTALLED);
  g_assert_cmpuint (att->boot, ==, 1);
  g_clear_pointer (&att, tb_attestation_free);
  /* the application slot the SBM reports is the one mastering knows for
   * its device type */
  {
    g_autoptr(TbTarget) target = tb_target_new (probe);
    TbAppSlot reported, known;
    g_assert_true (tb_target_get_app_slot (target, &reported, &error));
    g_assert_no_error (error);
    g_assert_true (tb_app_slot_for_device_type ("tb-qemu-an386", &known));
    g_assert_cmphex (reported.address, ==, APP_ADDRESS);
    g_assert_cmphex (reported.address, ==, known.address);
    g_assert_cmpuint (reported.size_bytes, ==, known.size_bytes);
    g_assert_cmpuint (reported.size_bytes, ==, 328 * 1024);
  }

  provision (f, probe, TRUE);
  att = attest (probe);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");
  g_clear_pointer (&att, tb_attestation_free);

  ok = tb_program_device (probe, f->upk[1], f->image[1], &version, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (ok);
  g_assert_cmpstr (version, ==, "1.1.0");

  /* power off, power on: the flash and the OTP are where they were */
  g_clear_object (&probe);
  stop_qemu (f);
  start_qemu (f);
  probe = open_probe (f);
  att = attest (probe);
  g_assert_cmpstr (att->uid, ==, UID);
  g_assert_cmpuint (att->lifecycle, ==, TB_LIFECYCLE_LOCKED);
  g_assert_cmpuint (att->boot, ==, 0);
  g_assert_cmpstr (att->app_version, ==, "1.1.0");

  {
    TbProvisionOptions options = { "sensor", NULL, NULL, FALSE };
    TbProvisionResult result = { 0 };
    g_assert_false (tb_provision_device (f->ctx, probe, &options, TB_TEST_PASS, &result, NULL, &error));
    g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
    tb_provision_result_clear (&result);
  }
}

/* Tampered chunk, another OEM, another product, another device, rollback:
 * refused, the flash unchanged, the old image still boots. */
static void
test_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr(TbProbe) probe = NULL;

  if (skipped (f))
    return;
  probe = open_probe (f);
  provision (f, probe, TRUE);
  tb_test_chain_assert_refusals (f->ctx, f->tmp, APP_ADDRESS, probe, "1.0.0", snapshot, NULL);
}

/* A byte of the application changed behind the SBM's back (QEMU has no
 * debug lock: an unlocked board lets the probe write its flash): at the
 * next reset the SBM refuses to start it. */
static void
test_modified_app_refused (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(TbTarget) target = NULL;
  g_autoptr(TbAttestation) att = NULL;
  guint8 b = 0;

  if (skipped (f))
    return;
  probe = open_probe (f);
  target = tb_target_new (probe);
  provision (f, probe, FALSE);
  g_assert_true (tb_target_reset (target, &error));
  g_assert_no_error (error);
  att = attest (probe);
  g_assert_cmpuint (att->boot, ==, 0);
  g_clear_pointer (&att, tb_attestation_free);

  g_assert_true (tb_probe_read_memory (probe, APP_ADDRESS + 100, &b, 1, NULL, &error));
  b = (guint8) ~b;
  g_assert_true (tb_probe_write_memory (probe, APP_ADDRESS + 100, &b, 1, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tb_target_reset (target, &error));
  g_assert_no_error (error);
  att = attest (probe);
  g_assert_cmpuint (att->boot, ==, 2);
  g_assert_cmpstr (att->app_version, ==, "1.0.0");
}

/* The CLI, as a user drives the board tools/run-qemu-sbm started. */
static void
test_tool (Fixture *f, gconstpointer data)
{
  const char *tool = g_getenv ("TB_TOOL");
  g_autofree char *ctx_dir = NULL;
  g_autofree char *out = NULL;

  if (skipped (f))
    return;
  if (tool == NULL)
    {
      g_test_skip ("TB_TOOL is not set");
      return;
    }
  ctx_dir = g_build_filename (f->tmp, "ctx", NULL);
  g_clear_object (&f->ctx); /* the tool takes the context's lock */
  g_setenv ("TRUSTBENCH_PASSPHRASE", TB_TEST_PASS, TRUE);
  g_assert_cmpint (tb_test_run_tool (tool, &out, "device", "info", "--probe", f->uri, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"device_type\" : \"tb-qemu-an386\""));
  g_assert_nonnull (strstr (out, "\"lifecycle\" : \"sbm-installed\""));
  g_clear_pointer (&out, g_free);
  if (tb_test_run_tool (tool, &out, "-C", ctx_dir, "provision", "--probe", f->uri, "--image", f->upk[0], f->image[0],
                        NULL) != 0)
    g_error ("provision failed: %s", out);
  g_assert_nonnull (strstr (out, "\"uid\" : \"" UID "\""));
  g_assert_nonnull (strstr (out, "\"lifecycle\" : \"locked\""));
  g_clear_pointer (&out, g_free);
  g_assert_cmpint (tb_test_run_tool (tool, &out, "device", "reset", "--probe", f->uri, NULL), ==, 0);
  g_assert_nonnull (strstr (out, "\"boot\" : \"ok\""));
  g_assert_nonnull (strstr (out, "\"version\" : \"1.0.0\""));
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/qemu-sbm/provision-and-boot", Fixture, NULL, setup, test_provision_and_boot, teardown);
  g_test_add ("/qemu-sbm/refusals", Fixture, NULL, setup, test_refusals, teardown);
  g_test_add ("/qemu-sbm/modified-app-refused", Fixture, NULL, setup, test_modified_app_refused, teardown);
  g_test_add ("/qemu-sbm/tool", Fixture, NULL, setup, test_tool, teardown);
  return g_test_run ();
}
