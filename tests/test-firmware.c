/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Firmware readers: real files built by others (../shared/firmware-corpus,
 * skipped when absent), the same image in four formats made by objcopy,
 * and a corpus of broken inputs. */

#include "config.h"

#include <glib/gstdio.h>

#include "tb-test-util.h"
#include "trustbench.h"

static char *tmp;

static TbFirmware *
parse_text (const char *text, TbFirmwareFormat format, GError **error)
{
  return tb_firmware_parse ((const guint8 *) text, strlen (text), format, "input", error);
}

static void
assert_refused_bytes (const char *data, gsize len, TbFirmwareFormat format, const char *expect)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = tb_firmware_parse ((const guint8 *) data, len, format, "input", &error);

  g_assert_null (fw);
  g_assert_nonnull (error);
  if (strstr (error->message, expect) == NULL)
    g_error ("“%s” does not contain “%s”", error->message, expect);
  g_assert_true (g_str_has_prefix (error->message, "input"));
}

static void
assert_refused (const char *text, TbFirmwareFormat format, const char *expect)
{
  assert_refused_bytes (text, strlen (text), format, expect);
}

/* a literal with its NUL bytes, without the terminating one */
#define assert_refused_literal(lit, format, expect) assert_refused_bytes (lit, sizeof (lit) - 1, format, expect)

static void
test_corpus (void)
{
  const char *dir = g_getenv ("TB_FIRMWARE_CORPUS");
  g_autofree char *tsv = NULL;
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  guint checked = 0;

  if (dir == NULL || !g_file_test (dir, G_FILE_TEST_IS_DIR))
    {
      g_test_skip ("../shared/firmware-corpus is not present");
      return;
    }
  tsv = g_build_filename (dir, "expected.tsv", NULL);
  contents = tb_test_read_file (tsv, NULL);
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 1; lines[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit (lines[i], "\t", -1);
      g_autofree char *path = NULL;
      g_autoptr(GError) error = NULL;
      g_autoptr(TbFirmware) fw = NULL;
      g_autofree char *sha = NULL;
      guint64 load_address;
      TbFirmwareFormat format;

      if (g_strv_length (f) < 5)
        continue;
      path = g_build_filename (dir, f[0], NULL);
      load_address = g_ascii_strtoull (f[2], NULL, 16);
      g_assert_true (tb_firmware_format_from_string (f[1], &format, NULL));
      /* detection from the name and contents must agree with the table */
      fw = tb_firmware_load_file (path, TB_FIRMWARE_FORMAT_AUTO,
                                  format == TB_FIRMWARE_FORMAT_BIN ? load_address : TB_FIRMWARE_NO_ADDRESS, &error);
      if (fw == NULL)
        g_error ("%s: %s", f[0], error->message);
      g_assert_cmpint (tb_firmware_get_format (fw), ==, format);
      sha = tb_firmware_compute_sha256 (fw, NULL, &error);
      g_assert_no_error (error);
      if (tb_firmware_get_base_address (fw) != load_address ||
          tb_firmware_get_size (fw) != g_ascii_strtoull (f[3], NULL, 10) || g_strcmp0 (sha, f[4]) != 0)
        g_error ("%s: got 0x%" G_GINT64_MODIFIER "x %" G_GUINT64_FORMAT " %s, expected %s %s %s", f[0],
                 tb_firmware_get_base_address (fw), tb_firmware_get_size (fw), sha, f[2], f[3], f[4]);
      checked++;
    }
  g_assert_cmpuint (checked, ==, 11);
}

static void
run (const char *cmd)
{
  g_autofree char *err = NULL;
  int status = 0;
  g_autoptr(GError) error = NULL;

  g_spawn_command_line_sync (cmd, NULL, &err, &status, &error);
  g_assert_no_error (error);
  if (!g_spawn_check_wait_status (status, NULL))
    g_error ("%s failed: %s", cmd, err);
}

/* One firmware with a gap, linked into an ELF and converted by objcopy
 * to HEX, SREC and a flat binary: all four read to the same image. */
static void
test_four_formats (void)
{
  g_autofree char *a_bin = g_build_filename (tmp, "a.bin", NULL);
  g_autofree char *b_bin = g_build_filename (tmp, "b.bin", NULL);
  g_autofree char *script = g_build_filename (tmp, "fw.ld", NULL);
  g_autofree char *elf = g_build_filename (tmp, "fw.elf", NULL);
  g_autofree char *hex = g_build_filename (tmp, "fw.hex", NULL);
  g_autofree char *srec = g_build_filename (tmp, "fw.srec", NULL);
  g_autofree char *s19 = g_build_filename (tmp, "fw.s19", NULL);
  g_autofree char *bin = g_build_filename (tmp, "fw.bin", NULL);
  g_autofree char *cmd = NULL;
  g_autofree char *reference = NULL;
  g_autofree guint8 *a = g_malloc (3001);
  g_autofree guint8 *b = g_malloc (700);
  const char *files[] = { elf, hex, srec, s19, bin };
  const char *objcopy = g_getenv ("TB_OBJCOPY");
  const char *ld = g_getenv ("TB_LD");

  if (objcopy == NULL || ld == NULL)
    {
      g_test_skip ("binutils (objcopy, ld) not found");
      return;
    }
  for (guint i = 0; i < 3001; i++)
    a[i] = (guint8) g_test_rand_int ();
  for (guint i = 0; i < 700; i++)
    b[i] = (guint8) g_test_rand_int ();
  g_assert_true (g_file_set_contents (a_bin, (const char *) a, 3001, NULL));
  g_assert_true (g_file_set_contents (b_bin, (const char *) b, 700, NULL));
  tb_test_write_file (script, "SECTIONS {\n"
                              "  .text 0x08000000 : { a.o(.data) }\n"
                              "  .rodata 0x08001000 : { b.o(.data) }\n"
                              "  /DISCARD/ : { *(*) }\n"
                              "}\n");
  cmd = g_strdup_printf ("sh -c 'cd %s && %s -I binary -O elf64-x86-64 -B i386:x86-64 a.bin a.o && "
                         "%s -I binary -O elf64-x86-64 -B i386:x86-64 b.bin b.o && "
                         "%s -T fw.ld -o fw.elf a.o b.o && "
                         "%s -O ihex fw.elf fw.hex && %s -O srec fw.elf fw.srec && "
                         "%s -O srec --srec-forceS3 --srec-len 200 fw.elf fw.s19 && "
                         "%s -O binary --gap-fill 0xff fw.elf fw.bin'",
                         tmp, objcopy, objcopy, ld, objcopy, objcopy, objcopy, objcopy);
  run (cmd);

  for (guint i = 0; i < G_N_ELEMENTS (files); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbFirmware) fw = tb_firmware_load_file (files[i], TB_FIRMWARE_FORMAT_AUTO, 0x08000000, &error);
      g_autofree char *sha = NULL;
      guint8 gap[4];

      if (fw == NULL)
        g_error ("%s: %s", files[i], error->message);
      g_assert_cmpuint (tb_firmware_get_base_address (fw), ==, 0x08000000);
      g_assert_cmpuint (tb_firmware_get_size (fw), ==, 0x1000 + 700);
      sha = tb_firmware_compute_sha256 (fw, NULL, &error);
      g_assert_no_error (error);
      if (reference == NULL)
        reference = g_strdup (sha);
      g_assert_cmpstr (sha, ==, reference);
      /* the gap reads as erased flash */
      g_assert_true (tb_firmware_read (fw, 3001, gap, sizeof gap, &error));
      g_assert_cmpmem (gap, 4, "\xff\xff\xff\xff", 4);
      g_assert_true (tb_firmware_read (fw, 0, gap, 1, &error));
      g_assert_cmpint (gap[0], ==, a[0]);
      g_assert_true (tb_firmware_read (fw, 0x1000, gap, 1, &error));
      g_assert_cmpint (gap[0], ==, b[0]);
      if (i < 4)
        g_assert_cmpuint (tb_firmware_get_n_segments (fw), ==, 2);
    }

  /* an ELF object is not a linked image */
  {
    g_autofree char *obj = g_build_filename (tmp, "a.o", NULL);
    g_autoptr(GError) error = NULL;
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (obj, TB_FIRMWARE_FORMAT_ELF, 0, &error);
    g_assert_null (fw);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "relocatable"));
  }
  /* a truncated ELF */
  {
    g_autofree char *data = NULL;
    gsize len = 0;
    g_autoptr(GError) error = NULL;
    g_autoptr(TbFirmware) fw = NULL;

    data = tb_test_read_file (elf, &len);
    fw = tb_firmware_parse ((const guint8 *) data, 0x1000 + 1500, TB_FIRMWARE_FORMAT_ELF, "cut.elf", &error);
    g_assert_null (fw);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_clear_error (&error);
    fw = tb_firmware_parse ((const guint8 *) data, 40, TB_FIRMWARE_FORMAT_ELF, "cut.elf", &error);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_nonnull (strstr (error->message, "cut.elf"));
  }
}

static void
test_ihex_features (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  guint8 buf[8];

  /* start record first, type 02 segment, CRLF, a small gap, two files */
  fw = parse_text (":0400000500001234B1\r\n"
                   ":020000021000EC\r\n"
                   ":0400000001020304F2\r\n"
                   ":00000001FF\r\n"
                   ":020000040001F9\r\n"
                   ":02000800AABB91\r\n"
                   ":00000001FF\r\n",
                   TB_FIRMWARE_FORMAT_IHEX, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tb_firmware_get_base_address (fw), ==, 0x10000);
  g_assert_cmpuint (tb_firmware_get_size (fw), ==, 10);
  g_assert_true (tb_firmware_has_entry_point (fw));
  g_assert_cmpuint (tb_firmware_get_entry_point (fw), ==, 0x1234);
  g_assert_true (tb_firmware_read (fw, 0, buf, 8, &error));
  g_assert_cmpmem (buf, 8, "\x01\x02\x03\x04\xff\xff\xff\xff", 8);
}

static void
test_srec_features (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  guint8 buf[4];

  fw = parse_text ("S00600004844521B\r\n"
                   "S1070100DEADBEEFBF\r\n"
                   "S5030001FB\r\n"
                   "S9030100FB\r\n",
                   TB_FIRMWARE_FORMAT_SREC, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tb_firmware_get_base_address (fw), ==, 0x100);
  g_assert_cmpuint (tb_firmware_get_entry_point (fw), ==, 0x100);
  g_assert_true (tb_firmware_read (fw, 0, buf, 4, &error));
  g_assert_cmpmem (buf, 4, "\xde\xad\xbe\xef", 4);
}

static void
test_malformed (void)
{
  /* a program for an operating system is not firmware (any hosted ELF
   * executable has an interpreter; /bin/true is one everywhere) */
  if (g_file_test ("/bin/true", G_FILE_TEST_IS_REGULAR))
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(TbFirmware) fw = tb_firmware_load_file ("/bin/true", TB_FIRMWARE_FORMAT_ELF, TB_FIRMWARE_NO_ADDRESS,
                                                        &error);
      g_assert_null (fw);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "program interpreter"));
    }
  /* a directory is named as such, not as an unknown format */
  {
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp ("tb-fw-XXXXXX", NULL);
    g_autoptr(TbFirmware) fw = tb_firmware_load_file (dir, TB_FIRMWARE_FORMAT_AUTO, TB_FIRMWARE_NO_ADDRESS, &error);
    g_assert_null (fw);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_nonnull (strstr (error->message, "is a directory"));
    g_rmdir (dir);
  }

  /* Intel HEX */
  assert_refused (":0400000001020304F3\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX,
                  "input:1: checksum incorrect, expected f2, got f3");
  assert_refused (":0400000001020304F2\n:00000001FF\n:0400000001020304G2\n", TB_FIRMWARE_FORMAT_IHEX,
                  "input:3: “G2”");
  assert_refused (":0400000001020304F\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX, "input:1: odd number");
  assert_refused (":0500000001020304F1\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX, "input:1: record length");
  assert_refused (":0400000601020304EC\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX, "unknown record type 06");
  assert_refused (":0400000001020304F2\n", TB_FIRMWARE_FORMAT_IHEX, "no end-of-file record");
  assert_refused (":00000001FF\n:0400000001020304F2\n", TB_FIRMWARE_FORMAT_IHEX, "no end-of-file record");
  assert_refused ("0400000001020304F2\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX, "input:1: an Intel HEX record");
  assert_refused (":0400000001020304F2\n:0400020005060708E0\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX,
                  "input:2: data at 0x00000002 overlaps data from line 1");
  assert_refused (":00000001FF\n", TB_FIRMWARE_FORMAT_IHEX, "holds no data");
  assert_refused (":03000002100000EB\n:00000001FF\n", TB_FIRMWARE_FORMAT_IHEX, "record type 02 cannot hold 3");
  assert_refused ("", TB_FIRMWARE_FORMAT_IHEX, "empty");
  /* flash plus a configuration block far away: refused, the gap named */
  assert_refused (":0400000001020304F2\n:020000041000EA\n:0410000001020304E2\n:00000001FF\n",
                  TB_FIRMWARE_FORMAT_IHEX, "0x00000000–0x00000003 and at 0x10001000–0x10001003 are 256.0");

  /* S-records */
  assert_refused ("S1070100DEADBEEFBE\nS9030100FB\n", TB_FIRMWARE_FORMAT_SREC,
                  "input:1: checksum incorrect, expected bf, got be");
  assert_refused ("S1070100DEADBEEFBF\n", TB_FIRMWARE_FORMAT_SREC, "no termination record");
  assert_refused ("S1070100DEADBEEFBF\nS5030002FA\nS9030100FB\n", TB_FIRMWARE_FORMAT_SREC,
                  "input:2: record count incorrect, expected 1, got 2");
  assert_refused ("S4070100DEADBEEFBF\nS9030100FB\n", TB_FIRMWARE_FORMAT_SREC, "unknown record type S4");
  assert_refused ("S1080100DEADBEEFBF\nS9030100FB\n", TB_FIRMWARE_FORMAT_SREC, "input:1: record length");
  assert_refused ("X1070100DEADBEEFBF\nS9030100FB\n", TB_FIRMWARE_FORMAT_SREC, "input:1: an S-record starts");
  assert_refused ("S1070100DEADBEEFBF\nS9030100FB\nS1070100DEADBEEFBF\n", TB_FIRMWARE_FORMAT_SREC,
                  "input:3: data after the termination record");
  assert_refused ("S1070100DEADBEEFBF\nS1070102DEADBEEFBD\nS9030100FB\n", TB_FIRMWARE_FORMAT_SREC,
                  "overlaps data from line 1");

  /* ELF */
  assert_refused ("\177ELF garbage", TB_FIRMWARE_FORMAT_ELF, "not a valid ELF file");
  /* libelf records no error for these: the reason is ours, never "no error" */
  assert_refused ("\177ELF garbage", TB_FIRMWARE_FORMAT_ELF, "it has 12 bytes, less than the 16");
  assert_refused ("\177ELF more garbage", TB_FIRMWARE_FORMAT_ELF, "byte 4 (the ELF class) is 0x20");
  assert_refused ("\177ELF", TB_FIRMWARE_FORMAT_ELF, "it has 4 bytes, less than the 16");
  assert_refused ("\177ELF\001\003", TB_FIRMWARE_FORMAT_ELF, "less than the 16");
  assert_refused_literal ("\177ELF\001\003\001\000\000\000\000\000\000\000\000\000", TB_FIRMWARE_FORMAT_ELF,
                  "byte 5 (the byte order) is 0x03");
  assert_refused_literal ("\177ELF\001\001\002\000\000\000\000\000\000\000\000\000", TB_FIRMWARE_FORMAT_ELF,
                  "byte 6 (the ELF version) is 0x02");
  assert_refused_literal ("\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\002\000", TB_FIRMWARE_FORMAT_ELF,
                  "less than the 52 of an ELF header");
  assert_refused ("MZ not an ELF", TB_FIRMWARE_FORMAT_ELF, "ELF magic");
  {
    /* a 32-bit header whose program header table lies past the end */
    guint8 h[52] = { 0x7f, 'E', 'L', 'F', 1, 1, 1 };
    g_autoptr(GError) error = NULL;
    g_autoptr(TbFirmware) fw = NULL;

    h[16] = 2;                   /* ET_EXEC */
    h[18] = 40;                  /* EM_ARM */
    h[20] = 1;                   /* EV_CURRENT */
    h[28] = 52;                  /* e_phoff */
    h[40] = 52;                  /* e_ehsize */
    h[42] = 32;                  /* e_phentsize */
    h[44] = 3;                   /* e_phnum */
    fw = tb_firmware_parse (h, sizeof h, TB_FIRMWARE_FORMAT_ELF, "input", &error);
    g_assert_null (fw);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
    g_assert_null (strstr (error->message, "no error"));
    g_assert_nonnull (strstr (error->message, "runs past the end of the file, 52 bytes"));
  }
  /* binary data is not HEX */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(TbFirmware) fw = tb_firmware_parse ((const guint8 *) ":\x00\x01", 3, TB_FIRMWARE_FORMAT_IHEX, "input",
                                                  &error);
    g_assert_null (fw);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  }
}

static void
test_bin (void)
{
  g_autofree char *path = g_build_filename (tmp, "raw.bin", NULL);
  g_autofree char *empty = g_build_filename (tmp, "empty.bin", NULL);
  g_autofree char *unknown = g_build_filename (tmp, "mystery.dat", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  guint8 buf[3];

  g_assert_true (g_file_set_contents (path, "\x00\xff\x01\x00", 4, NULL));
  tb_test_write_file (empty, "");
  tb_test_write_file (unknown, "hello");

  fw = tb_firmware_load_file (path, TB_FIRMWARE_FORMAT_AUTO, TB_FIRMWARE_NO_ADDRESS, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "load address"));
  g_clear_error (&error);
  fw = tb_firmware_load_file (path, TB_FIRMWARE_FORMAT_AUTO, 0x20000000, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tb_firmware_get_size (fw), ==, 4);
  g_assert_true (tb_firmware_read (fw, 1, buf, 3, &error));
  g_assert_cmpmem (buf, 3, "\xff\x01\x00", 3);
  g_clear_object (&fw);

  fw = tb_firmware_load_file (empty, TB_FIRMWARE_FORMAT_AUTO, 0, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_clear_error (&error);
  fw = tb_firmware_load_file (unknown, TB_FIRMWARE_FORMAT_AUTO, 0, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
  g_assert_nonnull (strstr (error->message, "cannot tell the firmware format"));
  g_clear_error (&error);
  fw = tb_firmware_load_file ("/nonexistent/fw.hex", TB_FIRMWARE_FORMAT_AUTO, 0, &error);
  g_assert_error (error, TB_ERROR, TB_ERROR_NOT_FOUND);
}

/* The devices are 32-bit: an image that runs past 0xffffffff is refused
 * (the reader's addresses are 64-bit), one that ends right there is not. */
static void
test_address_space (void)
{
  g_autofree char *path = g_build_filename (tmp, "top.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;

  g_assert_true (g_file_set_contents (path, "\x01\x02\x03\x04", 4, NULL));
  fw = tb_firmware_load_file (path, TB_FIRMWARE_FORMAT_BIN, 0xfffffffc, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (tb_firmware_get_base_address (fw), ==, 0xfffffffc);
  g_clear_object (&fw);
  for (guint64 address = 0xfffffffd; address <= G_GUINT64_CONSTANT (0x100000000); address += 3)
    {
      fw = tb_firmware_load_file (path, TB_FIRMWARE_FORMAT_BIN, address, &error);
      g_assert_null (fw);
      g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, "runs past 0xffffffff"));
      g_assert_nonnull (strstr (error->message, path));
      g_clear_error (&error);
    }
  /* an S3 record's 32-bit address plus its data wraps past the top */
  fw = parse_text ("S309FFFFFFFCDEADBEEFC5\r\nS705FFFFFFFC01\r\n", TB_FIRMWARE_FORMAT_SREC, &error);
  g_assert_no_error (error);
  g_clear_object (&fw);
  fw = parse_text ("S309FFFFFFFEDEADBEEFC3\r\nS705FFFFFFFC01\r\n", TB_FIRMWARE_FORMAT_SREC, &error);
  g_assert_null (fw);
  g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "0xfffffffe"));
}

int
main (int argc, char **argv)
{
  int rc;

  g_test_init (&argc, &argv, NULL);
  tmp = tb_test_make_tmpdir ();
  g_test_add_func ("/tb/firmware/corpus", test_corpus);
  g_test_add_func ("/tb/firmware/four-formats", test_four_formats);
  g_test_add_func ("/tb/firmware/ihex-features", test_ihex_features);
  g_test_add_func ("/tb/firmware/srec-features", test_srec_features);
  g_test_add_func ("/tb/firmware/malformed", test_malformed);
  g_test_add_func ("/tb/firmware/bin", test_bin);
  g_test_add_func ("/tb/firmware/address-space", test_address_space);
  rc = g_test_run ();
  tb_test_rm_rf (tmp);
  g_free (tmp);
  return rc;
}
