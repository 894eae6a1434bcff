/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The mastered images of a context, as the workbench lists them (from the
 * audit log), and the MCUboot export of one of them. */

#include "config.h"

#include <glib/gstdio.h>
#include <string.h>

#include "tb-test-util.h"
#include "trustbench.h"

#define PASS "mastered image test pass"

typedef struct {
  char *tmp;
  TbContext *ctx;
  TbFirmware *fw;
} Fixture;

static void
fixture_setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *bin = NULL;
  const char *products[] = { "sensor", NULL };
  guint8 plain[3000];

  f->tmp = tb_test_make_tmpdir ();
  dir = g_build_filename (f->tmp, "ctx", NULL);
  f->ctx = tb_context_create (dir, "Mastered Image Test", &error);
  g_assert_no_error (error);
  g_assert_true (tb_hierarchy_create (f->ctx, products, NULL, PASS, NULL, &error));
  g_assert_no_error (error);
  for (gsize i = 0; i < sizeof plain; i++)
    plain[i] = (guint8) (i * 31);
  bin = g_build_filename (f->tmp, "app.bin", NULL);
  g_assert_true (g_file_set_contents (bin, (const char *) plain, sizeof plain, NULL));
  f->fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, 0x08008000, &error);
  g_assert_no_error (error);
}

static void
fixture_teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->fw);
  g_clear_object (&f->ctx);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
}

static void
master (Fixture *f, const char *version, guint32 counter, const char *image, const char *upk_path)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = NULL;
  /* the same files are mastered again on purpose: replacing is asked for */
  TbMasterOptions options = { "sensor", NULL, NULL, version, counter, 0, .replace = TRUE };

  upk = tb_master_image (f->ctx, f->fw, &options, PASS, image, upk_path, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (upk);
}

static void
test_list (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) list = NULL;
  g_autofree char *cwd = g_get_current_dir ();
  g_autofree char *abs_upk = g_build_filename (f->tmp, "app-1.0.0.tbupk", NULL);
  g_autofree char *abs_img = g_build_filename (f->tmp, "app-1.0.0.tbimg", NULL);
  g_autofree char *two_upk = g_build_filename (f->tmp, "app-2.0.0.tbupk", NULL);
  g_autofree char *two_img = g_build_filename (f->tmp, "app-2.0.0.tbimg", NULL);
  TbMasteredImage *newest, *oldest;

  list = tb_mastered_image_list (f->ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 0);
  g_clear_pointer (&list, g_ptr_array_unref);

  /* relative output paths are recorded absolute: the list is read from
   * anywhere later */
  g_assert_cmpint (g_chdir (f->tmp), ==, 0);
  master (f, "1.0.0", 1, "app-1.0.0.tbimg", "app-1.0.0.tbupk");
  g_assert_cmpint (g_chdir (cwd), ==, 0);
  /* mastered again into the same files: listed once, as the latest */
  master (f, "1.0.0", 2, abs_img, abs_upk);
  master (f, "2.0.0", 3, two_img, two_upk);

  list = tb_mastered_image_list (f->ctx, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (list->len, ==, 2);
  newest = g_ptr_array_index (list, 0);
  oldest = g_ptr_array_index (list, 1);
  g_assert_cmpstr (newest->version, ==, "2.0.0");
  g_assert_cmpuint (newest->security_counter, ==, 3);
  g_assert_cmpstr (newest->product, ==, "sensor");
  g_assert_cmpstr (newest->upk_path, ==, two_upk);
  g_assert_cmpstr (newest->image_path, ==, two_img);
  g_assert_true (newest->files_present);
  g_assert_nonnull (newest->signer);
  g_assert_nonnull (strstr (newest->signer, "Mastering"));
  g_assert_nonnull (newest->created);
  g_assert_cmpuint (strlen (newest->image_id), ==, 32);
  g_assert_cmpuint (strlen (newest->plaintext_sha256), ==, 64);
  g_assert_cmpstr (oldest->version, ==, "1.0.0");
  g_assert_cmpuint (oldest->security_counter, ==, 2);
  g_assert_cmpstr (oldest->upk_path, ==, abs_upk);
  {
    g_autofree char *title = tb_mastered_image_dup_title (oldest);
    g_assert_cmpstr (title, ==, "sensor 1.0.0");
  }
  g_clear_pointer (&list, g_ptr_array_unref);

  /* files moved away are still listed, and said to be gone */
  g_assert_cmpint (g_unlink (two_img), ==, 0);
  list = tb_mastered_image_list (f->ctx, &error);
  g_assert_no_error (error);
  g_assert_false (((TbMasteredImage *) g_ptr_array_index (list, 0))->files_present);
  g_assert_true (((TbMasteredImage *) g_ptr_array_index (list, 1))->files_present);
}

static void
test_export_mcuboot (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *upk = g_build_filename (f->tmp, "app.tbupk", NULL);
  g_autofree char *img = g_build_filename (f->tmp, "app.tbimg", NULL);
  g_autofree char *out = g_build_filename (f->tmp, "app-mcuboot.bin", NULL);
  g_autofree char *contents = NULL;
  gsize len = 0;
  guint32 magic;

  master (f, "1.2.3", 4, img, upk);

  /* the wrong passphrase: refused as such, nothing written */
  g_assert_false (tb_mcuboot_export_mastered (f->ctx, upk, img, "not the passphrase", out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_PERMISSION);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
  g_clear_error (&error);

  g_assert_true (tb_mcuboot_export_mastered (f->ctx, upk, img, PASS, out, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (g_file_get_contents (out, &contents, &len, NULL));
  g_assert_cmpuint (len, >, TB_MCUBOOT_DEFAULT_HEADER_SIZE + 3000);
  memcpy (&magic, contents, 4);
  g_assert_cmphex (GUINT32_FROM_LE (magic), ==, TB_MCUBOOT_IMAGE_MAGIC);
  /* the payload after the header is the plaintext, version 1.2.3 in the header */
  g_assert_cmpuint ((guint8) contents[20], ==, 1);
  g_assert_cmpuint ((guint8) contents[21], ==, 2);
  g_assert_cmpuint ((guint8) contents[TB_MCUBOOT_DEFAULT_HEADER_SIZE + 1], ==, 31);
  g_clear_pointer (&contents, g_free);
  g_assert_cmpint (g_unlink (out), ==, 0);

  /* a tampered image is not exported: it fails to authenticate */
  {
    g_autofree char *cipher = NULL;
    gsize clen = 0;
    g_assert_true (g_file_get_contents (img, &cipher, &clen, NULL));
    cipher[clen - 40] ^= 0x01;
    g_assert_true (g_file_set_contents (img, cipher, (gssize) clen, NULL));
  }
  g_assert_false (tb_mcuboot_export_mastered (f->ctx, upk, img, PASS, out, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_assert_false (g_file_test (out, G_FILE_TEST_EXISTS));
}

/* One naming rule for `master -o DIR` and the Images page. */
static void
test_build_paths (void)
{
  struct {
    const char *dir, *input, *version, *name, *image, *upk;
  } cases[] = {
    { "/out", "/src/app.hex", "1.2.0", NULL, "/out/app-1.2.0.tbimg", "/out/app-1.2.0.tbupk" },
    { "out", "build/zephyr.signed.elf", "2.0.1", NULL, "out/zephyr.signed-2.0.1.tbimg",
      "out/zephyr.signed-2.0.1.tbupk" },
    /* a leading dot is not an extension, no dot means no extension */
    { "/o", "/src/.hidden", "1.0.0", NULL, "/o/.hidden-1.0.0.tbimg", "/o/.hidden-1.0.0.tbupk" },
    { "/o", "firmware", "0.0.1", NULL, "/o/firmware-0.0.1.tbimg", "/o/firmware-0.0.1.tbupk" },
    /* `-o out/`: one slash */
    { "out/", "app.hex", "1.0.0", NULL, "out/app-1.0.0.tbimg", "out/app-1.0.0.tbupk" },
    /* a name given replaces the whole stem, version included */
    { "/o", "/src/app.bin", "3.1.4", "release", "/o/release.tbimg", "/o/release.tbupk" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *image = NULL;
      g_autofree char *upk = NULL;

      tb_mastered_image_build_paths (cases[i].dir, cases[i].input, cases[i].version, cases[i].name, &image, &upk);
      g_assert_cmpstr (image, ==, cases[i].image);
      g_assert_cmpstr (upk, ==, cases[i].upk);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/tb/mastered-image/build-paths", test_build_paths);
  g_test_add ("/tb/mastered-image/list", Fixture, NULL, fixture_setup, test_list, fixture_teardown);
  g_test_add ("/tb/mastered-image/export-mcuboot", Fixture, NULL, fixture_setup, test_export_mcuboot,
              fixture_teardown);
  return g_test_run ();
}
