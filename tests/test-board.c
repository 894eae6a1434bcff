/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The virtual board: flash semantics, persistence, power loss, lock rules,
 * broken board directories, and the probe in front of it. */

#include "config.h"

#include <glib/gstdio.h>
#include <openssl/rand.h>
#include <sys/stat.h>

#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-virtual-board.h"

typedef struct {
  char *tmp;
  char *dir;
  TbVirtualBoard *board;
} Fixture;

static void
setup (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = tb_test_make_tmpdir ();
  f->dir = g_build_filename (f->tmp, "board", NULL);
  f->board = tb_virtual_board_create (f->dir, NULL, 64 * 1024, 1024, "00112233445566778899aabbccddeeff", &error);
  g_assert_no_error (error);
}

static void
teardown (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->board);
  tb_test_rm_rf (f->tmp);
  g_free (f->tmp);
  g_free (f->dir);
}

static void
test_create (Fixture *f, gconstpointer data)
{
  g_autofree char *json = g_build_filename (f->dir, "board.json", NULL);
  g_autofree char *flash = g_build_filename (f->dir, "flash.bin", NULL);
  g_autofree guint8 *buf = g_malloc (64 * 1024);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) random_uid = NULL;
  g_autofree char *other = g_build_filename (f->tmp, "other", NULL);
  GStatBuf st;

  g_assert_cmpstr (tb_virtual_board_get_uid (f->board), ==, "00112233445566778899aabbccddeeff");
  g_assert_cmpstr (tb_virtual_board_get_device_type (f->board), ==, TB_BOARD_DEFAULT_DEVICE_TYPE);
  g_assert_cmpint (tb_virtual_board_get_lifecycle (f->board), ==, TB_LIFECYCLE_BLANK);
  g_assert_cmpuint (strlen (tb_virtual_board_get_public_key (f->board)), ==, 130);
  g_assert_true (g_str_has_prefix (tb_virtual_board_get_public_key (f->board), "04"));
  g_assert_cmpint (g_stat (json, &st), ==, 0);
  g_assert_cmpint (st.st_mode & 0777, ==, 0600);
  g_assert_cmpint (g_stat (flash, &st), ==, 0);
  g_assert_cmpint (st.st_size, ==, 64 * 1024);
  g_assert_true (tb_virtual_board_flash_read (f->board, 0, buf, 64 * 1024, &error));
  for (guint i = 0; i < 64 * 1024; i++)
    g_assert_cmpint (buf[i], ==, 0xff);

  random_uid = tb_virtual_board_create (other, "sensor-v2", 0, 0, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (tb_virtual_board_get_uid (random_uid)), ==, 32);
  g_assert_cmpstr (tb_virtual_board_get_uid (random_uid), !=, tb_virtual_board_get_uid (f->board));
  g_assert_cmpstr (tb_virtual_board_get_public_key (random_uid), !=, tb_virtual_board_get_public_key (f->board));
  g_assert_cmpuint (tb_virtual_board_get_flash_size (random_uid), ==, TB_BOARD_DEFAULT_FLASH_SIZE);
}

static void
test_create_refusals (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *other = g_build_filename (f->tmp, "x", NULL);
  g_autoptr(TbVirtualBoard) b = NULL;

  b = tb_virtual_board_create (f->dir, NULL, 0, 0, NULL, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_EXISTS);
  g_clear_error (&error);
  b = tb_virtual_board_create (other, NULL, 100000, 4096, NULL, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  b = tb_virtual_board_create (other, NULL, 0, 3000, NULL, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  b = tb_virtual_board_create (other, NULL, 0, 0, "xyz", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  b = tb_virtual_board_create (other, "a/b", 0, 0, NULL, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
}

static void
test_flash_semantics (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 buf[8];

  g_assert_true (tb_virtual_board_flash_program (f->board, 16, (const guint8 *) "\xf0\x0f\xaa\x55", 4, &error));
  g_assert_no_error (error);
  /* programming only clears bits */
  g_assert_true (tb_virtual_board_flash_program (f->board, 16, (const guint8 *) "\xf0\x0f\x00\x55", 4, &error));
  g_assert_false (tb_virtual_board_flash_program (f->board, 16, (const guint8 *) "\xff\x0f\x00\x55", 4, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "erase"));
  g_clear_error (&error);
  g_assert_true (tb_virtual_board_flash_read (f->board, 16, buf, 4, &error));
  g_assert_cmpmem (buf, 4, "\xf0\x0f\x00\x55", 4);
  /* a page boundary cannot be crossed, nor the end of flash */
  g_assert_false (tb_virtual_board_flash_program (f->board, 1020, (const guint8 *) "12345678", 8, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (tb_virtual_board_flash_read (f->board, 64 * 1024 - 2, buf, 4, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* erase works on the whole page */
  g_assert_true (tb_virtual_board_flash_erase_page (f->board, 17, &error));
  g_assert_true (tb_virtual_board_flash_read (f->board, 0, buf, 8, &error));
  g_assert_cmpmem (buf, 8, "\xff\xff\xff\xff\xff\xff\xff\xff", 8);
  g_assert_cmpuint (tb_virtual_board_get_flash_ops (f->board), ==, 3);
}

static void
test_persistence (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) again = NULL;
  guint8 buf[4];

  g_assert_true (tb_virtual_board_flash_program (f->board, 2048, (const guint8 *) "\x12\x34\x56\x78", 4, &error));
  g_assert_true (tb_virtual_board_set_lifecycle (f->board, TB_LIFECYCLE_PROVISIONED, &error));
  g_assert_false (tb_virtual_board_set_lifecycle (f->board, TB_LIFECYCLE_BLANK, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_clear_object (&f->board);

  again = tb_virtual_board_open (f->dir, &error);
  g_assert_no_error (error);
  g_assert_cmpint (tb_virtual_board_get_lifecycle (again), ==, TB_LIFECYCLE_PROVISIONED);
  g_assert_true (tb_virtual_board_flash_read (again, 2048, buf, 4, &error));
  g_assert_cmpmem (buf, 4, "\x12\x34\x56\x78", 4);
}

static void
test_power_loss (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) again = NULL;
  guint8 buf[5];

  tb_virtual_board_set_power_loss_after (f->board, 3);
  for (guint i = 0; i < 5; i++)
    {
      guint8 b = (guint8) i;
      gboolean ok = tb_virtual_board_flash_program (f->board, i, &b, 1, &error);
      g_assert_true (ok == (i < 3));
      if (!ok)
        {
          g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
          g_assert_nonnull (strstr (error->message, "power"));
          g_clear_error (&error);
        }
    }
  g_assert_false (tb_virtual_board_is_powered (f->board));
  g_assert_false (tb_virtual_board_flash_read (f->board, 0, buf, 5, &error));
  g_clear_error (&error);
  /* what was written before the cut survives a restart (once the board
   * is closed: one user at a time) */
  again = tb_virtual_board_open (f->dir, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_BUSY);
  g_clear_error (&error);
  g_clear_object (&f->board);
  again = tb_virtual_board_open (f->dir, &error);
  g_assert_no_error (error);
  g_assert_true (tb_virtual_board_flash_read (again, 0, buf, 5, &error));
  g_assert_cmpmem (buf, 5, "\x00\x01\x02\xff\xff", 5);
  tb_virtual_board_power_cycle (again);
  g_assert_true (tb_virtual_board_flash_program (again, 4, (const guint8 *) "\x04", 1, &error));
}

/* A cut after an operation keeps all of it; a torn one keeps a part, the
 * same part for the same seed, and survives a restart as it is. */
static void
test_power_cut_kinds (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  guint8 data64[64], buf[1024], first[64];
  guint kept = 0, erased = 0;

  memset (data64, 0x00, sizeof data64);
  /* after: the operation happens, then power goes */
  tb_virtual_board_set_power_cut (f->board, 0, TB_POWER_CUT_AFTER, 0);
  g_assert_false (tb_virtual_board_flash_program (f->board, 0, data64, 64, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
  g_clear_error (&error);
  g_assert_false (tb_virtual_board_is_powered (f->board));
  tb_virtual_board_power_cycle (f->board);
  g_assert_true (tb_virtual_board_flash_read (f->board, 0, buf, 64, &error));
  g_assert_cmpmem (buf, 64, data64, 64);

  /* torn program: a prefix written, the rest still erased but for one byte */
  for (guint32 round = 1; round <= 2; round++)
    {
      guint32 at = 1024 * round;
      guint zeros = 0;
      tb_virtual_board_set_power_cut (f->board, 0, TB_POWER_CUT_TORN, 7);
      g_assert_false (tb_virtual_board_flash_program (f->board, at, data64, 64, &error));
      g_clear_error (&error);
      g_assert_false (tb_virtual_board_is_powered (f->board));
      tb_virtual_board_power_cycle (f->board);
      g_assert_true (tb_virtual_board_flash_read (f->board, at, buf, 64, &error));
      while (zeros < 64 && buf[zeros] == 0)
        zeros++;
      g_assert_cmpuint (zeros, <, 64);
      for (guint i = zeros + 1; i < 64; i++)
        g_assert_cmpuint (buf[i], ==, 0xff);
      if (round == 1)
        memcpy (first, buf, 64);
      else
        g_assert_cmpmem (buf, 64, first, 64); /* same seed, same torn write */
    }

  /* torn erase: a part of the page erased, the rest as it was */
  memset (buf, 0x00, sizeof buf);
  for (guint32 o = 0; o < 1024; o += 256)
    g_assert_true (tb_virtual_board_flash_program (f->board, 3072 + o, buf, 256, &error));
  tb_virtual_board_set_power_cut (f->board, 0, TB_POWER_CUT_TORN, 3);
  g_assert_false (tb_virtual_board_flash_erase_page (f->board, 3072, &error));
  g_clear_error (&error);
  tb_virtual_board_power_cycle (f->board);
  g_clear_object (&f->board); /* a board is opened once at a time */
  {
    g_autoptr(TbVirtualBoard) again = tb_virtual_board_open (f->dir, &error);
    g_assert_no_error (error);
    g_assert_true (tb_virtual_board_flash_read (again, 3072, buf, 1024, &error));
  }
  for (guint i = 0; i < 1024; i++)
    {
      g_assert_true (buf[i] == 0x00 || buf[i] == 0xff);
      kept += buf[i] == 0x00;
      erased += buf[i] == 0xff;
    }
  g_assert_cmpuint (erased, >, 0);
  g_assert_cmpuint (kept, >, 0);
}

static void
test_probe_and_lock (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *uri = g_strconcat ("virtual:", f->dir, NULL);
  g_autoptr(TbProbe) probe = NULL;
  g_autofree guint8 *pattern = g_malloc (5000);
  g_autofree guint8 *back = g_malloc (5000);
  TbVirtualBoard *board;

  g_clear_object (&f->board);
  probe = tb_probe_open (uri, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (tb_probe_get_kind (probe), ==, "virtual");
  g_assert_cmpstr (tb_probe_get_serial (probe), ==, "00112233445566778899aabbccddeeff");
  board = tb_virtual_probe_get_board (TB_VIRTUAL_PROBE (probe));

  /* an unlocked board: flash written through the debugger's flash algorithm */
  for (guint i = 0; i < 5000; i++)
    pattern[i] = (guint8) (i * 13);
  g_assert_true (tb_probe_write_memory (probe, TB_BOARD_FLASH_BASE + 700, pattern, 5000, NULL, &error));
  g_assert_no_error (error);
  g_assert_true (tb_probe_read_memory (probe, TB_BOARD_FLASH_BASE + 700, back, 5000, NULL, &error));
  g_assert_cmpmem (back, 5000, pattern, 5000);
  g_assert_cmpuint (tb_probe_get_bytes_moved (probe), ==, 10000);
  g_assert_true (tb_probe_write_memory (probe, TB_BOARD_RAM_BASE + 100, pattern, 64, NULL, &error));
  g_assert_false (tb_probe_read_memory (probe, 0x40000000, back, 4, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  /* locked: only the mailbox answers */
  g_assert_true (tb_virtual_board_set_lifecycle (board, TB_LIFECYCLE_LOCKED, &error));
  g_assert_false (tb_probe_read_memory (probe, TB_BOARD_FLASH_BASE, back, 16, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_assert_false (tb_probe_write_memory (probe, TB_BOARD_FLASH_BASE, pattern, 16, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_assert_false (tb_probe_read_memory (probe, TB_BOARD_RAM_BASE + TB_BOARD_MAILBOX_SIZE, back, 4, NULL, &error));
  g_assert_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED);
  g_clear_error (&error);
  g_assert_true (tb_probe_read_memory (probe, TB_BOARD_RAM_BASE + 100, back, 64, NULL, &error));
  g_assert_cmpmem (back, 64, pattern, 64);
  /* the locked flash was not touched by the refused write */
  {
    guint8 first[16];
    g_assert_true (tb_virtual_board_flash_read (board, 0, first, 16, &error));
    g_assert_cmpmem (first, 16, "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff", 16);
  }
}

/* board.json with @from replaced by @to is refused, with @expected in the
 * message. */
static void
expect_refused (Fixture *f, const char *good, const char *from, const char *to, const char *expected)
{
  g_autofree char *json = g_build_filename (f->dir, "board.json", NULL);
  g_auto(GStrv) parts = g_strsplit (good, from, 2);
  g_autofree char *hacked = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) b = NULL;

  g_assert_nonnull (parts[1]);
  hacked = g_strconcat (parts[0], to, parts[1], NULL);
  tb_test_write_file (json, hacked);
  b = tb_virtual_board_open (f->dir, &error);
  g_assert_null (b);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, expected));
}

static void
test_broken (Fixture *f, gconstpointer data)
{
  g_autofree char *json = g_build_filename (f->dir, "board.json", NULL);
  g_autofree char *flash = g_build_filename (f->dir, "flash.bin", NULL);
  g_autofree char *good = tb_test_read_file (json, NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbVirtualBoard) b = NULL;
  const char *bad_json[] = { "{", "[]", "{\"schema_version\": 1}",
                             "{\"schema_version\": 2, \"uid\": \"00\"}" };

  g_clear_object (&f->board);
  for (guint i = 0; i < G_N_ELEMENTS (bad_json); i++)
    {
      tb_test_write_file (json, bad_json[i]);
      b = tb_virtual_board_open (f->dir, &error);
      g_assert_null (b);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, json));
      g_clear_error (&error);
    }
  {
    g_autofree char *hacked = g_strdup (good);
    char *p = strstr (hacked, "\"blank\"");
    g_assert_nonnull (p);
    memcpy (p, "\"broke\"", 7);
    tb_test_write_file (json, hacked);
    b = tb_virtual_board_open (f->dir, &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
  }
  /* a geometry the flash could not have */
  {
    const char *from[] = { "\"page_size\" : 1024", "\"page_size\" : 1024", "\"size\" : 65536", "\"size\" : 65536",
                           "\"size\" : 65536" };
    const char *to[] = { "\"page_size\" : 0", "\"page_size\" : 1000", "\"size\" : 4294967295",
                         "\"size\" : -65536", "\"size\" : 4295032832" /* 2^32 + 64 KiB */ };
    for (guint i = 0; i < G_N_ELEMENTS (from); i++)
      expect_refused (f, good, from[i], to[i], "geometry");
  }
  /* members of the wrong type (found by fuzz-board): an error, not a critical */
  {
    const char *from[] = { "\"flash\" : {", "\"uid\" : ", "\"lifecycle\" : \"blank\"", "\"otp\" : {",
                           "\"rom\" : {", "\"size\" : 65536" };
    const char *to[] = { "\"flash\" : 7, \"was\" : {", "\"uid\" : [], \"was\" : ", "\"lifecycle\" : {}",
                         "\"otp\" : { \"anchor\" : {}, ", "\"rom\" : [], \"was\" : {", "\"size\" : \"65536\"" };
    for (guint i = 0; i < G_N_ELEMENTS (from); i++)
      expect_refused (f, good, from[i], to[i], "wrong type");
  }
  tb_test_write_file (json, good);
  tb_test_write_file (flash, "short");
  b = tb_virtual_board_open (f->dir, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "exactly"));
  g_clear_error (&error);
  b = tb_virtual_board_open (f->tmp, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
}

static void
test_uris (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbProbe) probe = NULL;
  g_autoptr(GPtrArray) list = NULL;

  probe = tb_probe_open ("usb:1234", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  probe = tb_probe_open ("virtual:", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  /* no probe with that serial is connected to the test machine */
  probe = tb_probe_open ("cmsis-dap:no-such-serial-0001", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
  g_clear_error (&error);
  probe = tb_probe_open ("gdb:localhost", &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_setenv ("TRUSTBENCH_BOARDS", f->tmp, TRUE);
  /* listed without being opened: the board is in use (f->board) */
  list = tb_probe_list (&error);
  g_assert_no_error (error);
  /* the board (and any real CMSIS-DAP probe plugged into this machine) */
  g_assert_cmpuint (list->len, >=, 1);
  g_assert_cmpstr (((TbProbeInfo *) g_ptr_array_index (list, 0))->serial, ==, "00112233445566778899aabbccddeeff");
  g_assert_true (g_str_has_prefix (((TbProbeInfo *) g_ptr_array_index (list, 0))->uri, "virtual:"));
  g_unsetenv ("TRUSTBENCH_BOARDS");
}

/* A random UID needs the random number generator: when it fails, no board
 * is made (and nothing is left behind), rather than one whose UID is
 * whatever the stack held. Run in a fresh process: the generator is
 * broken before its first use by asking for a DRBG that does not exist. */
static void
test_create_without_randomness (void)
{
  if (g_test_subprocess ())
    {
      g_autoptr(GError) error = NULL;
      g_autofree char *tmp = tb_test_make_tmpdir ();
      g_autofree char *dir = g_build_filename (tmp, "board", NULL);
      g_autoptr(TbVirtualBoard) board = NULL;

      g_assert_cmpint (RAND_set_DRBG_type (NULL, "TB-TEST-NO-SUCH-DRBG", NULL, NULL, NULL), ==, 1);
      board = tb_virtual_board_create (dir, NULL, 64 * 1024, 1024, NULL, &error);
      g_assert_null (board);
      g_assert_error (error, TB_ERROR, TB_ERROR_FAILED);
      g_assert_nonnull (strstr (error->message, "random number generator"));
      g_assert_false (g_file_test (dir, G_FILE_TEST_EXISTS));
      tb_test_rm_rf (tmp);
      return;
    }
  g_test_trap_subprocess (NULL, 0, G_TEST_SUBPROCESS_DEFAULT);
  g_test_trap_assert_passed ();
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
#define ADD(path, fn) g_test_add (path, Fixture, NULL, setup, fn, teardown)
  ADD ("/tb/board/create", test_create);
  ADD ("/tb/board/create-refusals", test_create_refusals);
  ADD ("/tb/board/flash-semantics", test_flash_semantics);
  ADD ("/tb/board/persistence", test_persistence);
  ADD ("/tb/board/power-loss", test_power_loss);
  ADD ("/tb/board/power-cut-kinds", test_power_cut_kinds);
  ADD ("/tb/board/probe-and-lock", test_probe_and_lock);
  ADD ("/tb/board/broken", test_broken);
  ADD ("/tb/board/uris", test_uris);
#undef ADD
  g_test_add_func ("/tb/board/create-without-randomness", test_create_without_randomness);
  return g_test_run ();
}
