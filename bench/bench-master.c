/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Masters a 64 MiB image (file I/O included) and compares, in the same run:
 *  - `openssl speed -evp aes-256-ctr` and `openssl speed sha256` (16 KiB
 *    blocks, one core): target >= 1/3 of the slower of the two;
 *  - the OpenSSL command-line pipeline on the same file with the context's
 *    own encrypted mastering key (enc + dgst + pkeyutl -sign, so both pay
 *    for the key decryption): target >= 2.5x its speed;
 *  - peak RSS: target < 32 MiB;
 * and prints the fixed cost of mastering a 4 KiB file and, for the record,
 * the time with `--sync` (the image flushed to disk, which the pipeline
 * does not do; docs/formats/tbimg.md).
 *
 *   bench-master [MiB]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trustbench.h"

extern char **environ;

#define PASS "bench passphrase"
/* every timing is the best of this many runs, ours and the pipeline's alike */
#define RUNS 5

static const char *
openssl (void)
{
  return g_getenv ("TB_OPENSSL") ?: "openssl";
}

/* The 16384-byte column of `openssl speed`, in MB/s (1e6 bytes/s). */
static double
speed_mb_s (const char *args, const char *row)
{
  g_autofree char *cmd = g_strdup_printf ("%s speed -seconds 2 -bytes 16384 %s", openssl (), args);
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;

  if (!g_spawn_command_line_sync (cmd, &out, NULL, &status, NULL) || !g_spawn_check_wait_status (status, NULL))
    return 0.0;
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (g_str_has_prefix (lines[i], row))
      {
        /* "AES-256-CTR  1234567.89k" — thousands of bytes per second */
        const char *p = strrchr (g_strstrip (lines[i]), ' ');
        if (p != NULL)
          return g_ascii_strtod (p + 1, NULL) * 1000.0 / 1e6;
      }
  return 0.0;
}

static double
now_s (void)
{
  return g_get_monotonic_time () / 1e6;
}

static double
master_once (TbContext *ctx, const char *input, const char *out_dir, const char *name, gboolean sync, double *mb_s)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbFirmware) fw = NULL;
  g_autofree char *image = g_strdup_printf ("%s/%s.tbimg", out_dir, name);
  g_autofree char *upk_path = g_strdup_printf ("%s/%s.tbupk", out_dir, name);
  TbMasterOptions options = { "bench", NULL, NULL, "1.0.0", 1, 0, sync, .replace = TRUE }; /* again and again */
  g_autoptr(TbUpk) upk = NULL;
  double t0 = now_s ();
  double dt;

  fw = tb_firmware_load_file (input, TB_FIRMWARE_FORMAT_BIN, 0x08000000, &error);
  if (fw != NULL)
    upk = tb_master_image (ctx, fw, &options, PASS, image, upk_path, NULL, &error);
  if (upk == NULL)
    {
      fprintf (stderr, "bench: %s\n", error->message);
      exit (1);
    }
  dt = now_s () - t0;
  if (mb_s != NULL)
    *mb_s = tb_firmware_get_size (fw) / dt / 1e6;
  return dt;
}

int
main (int argc, char **argv)
{
  guint mib = argc > 1 ? (guint) atoi (argv[1]) : 64;
  g_autofree char *tmp = g_dir_make_tmp ("tb-bench-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "ctx", NULL);
  g_autofree char *input = g_build_filename (tmp, "app.bin", NULL);
  g_autofree char *small = g_build_filename (tmp, "small.bin", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  double aes, sha, floor_speed, ours, t_ours, t_small, t_sync, t_pipe, best = 0.0;
  struct rusage ru;

  tb_memory_init ();

  /* the input, written in pieces (it is never held in memory whole) */
  {
    FILE *f = fopen (input, "wb");
    guint8 *buf = g_malloc (1 << 20);
    for (gsize i = 0; i < (1 << 20); i++)
      buf[i] = (guint8) (i * 2654435761u >> 13);
    for (guint i = 0; i < mib; i++)
      {
        buf[0] = (guint8) i;
        fwrite (buf, 1, 1 << 20, f);
      }
    fclose (f);
    g_free (buf);
    {
      g_autofree char *four_k = g_malloc0 (4096);
      g_file_set_contents (small, four_k, 4096, NULL);
    }
  }

  /* The context and the peak RSS of one real mastering of the file, both
   * through the CLI, first: a child's peak RSS counts its parent's pages
   * until the exec, so this process must still be small. */
  {
    const char *tool = g_getenv ("TB_TOOL");
    pid_t pid;
    int status = 0;

    memset (&ru, 0, sizeof ru);
    if (tool == NULL)
      {
        fprintf (stderr, "bench: set TB_TOOL to trustbench-tool to measure the peak RSS\n");
        return 1;
      }
    char *init_argv[] = { (char *) tool, (char *) "-q", (char *) "-C", dir, (char *) "init", (char *) "--name",
                          (char *) "Bench OEM", (char *) "--product", (char *) "bench", NULL };
    char *child_argv[] = { (char *) tool, (char *) "-q", (char *) "-C", dir, (char *) "master", input,
                           (char *) "--load-address", (char *) "0x08000000", (char *) "--product", (char *) "bench",
                           (char *) "--version", (char *) "1.0.1", (char *) "-o", tmp, NULL };
    /* posix_spawn, not fork: a forked child's peak RSS would count this
     * process's pages until the exec */
    g_setenv ("TRUSTBENCH_PASSPHRASE", PASS, TRUE);
    if (posix_spawn (&pid, tool, NULL, NULL, init_argv, environ) != 0 || waitpid (pid, &status, 0) != pid ||
        !WIFEXITED (status) || WEXITSTATUS (status) != 0)
      {
        fprintf (stderr, "bench: trustbench-tool init failed\n");
        return 1;
      }
    if (posix_spawn (&pid, tool, NULL, NULL, child_argv, environ) != 0 || wait4 (pid, &status, 0, &ru) != pid ||
        !WIFEXITED (status) || WEXITSTATUS (status) != 0)
      {
        fprintf (stderr, "bench: trustbench-tool master failed\n");
        return 1;
      }
  }

  ctx = tb_context_open (dir, TB_CONTEXT_OPEN_READ, &error);
  if (ctx == NULL)
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }

  fprintf (stderr, "Measuring openssl speed (aes-256-ctr, sha256)…\n");
  aes = speed_mb_s ("-evp aes-256-ctr", "AES-256-CTR");
  sha = speed_mb_s ("sha256", "sha256");
  floor_speed = MIN (aes, sha);

  fprintf (stderr, "Mastering %u MiB (best of %u)…\n", mib, RUNS);
  t_ours = G_MAXDOUBLE;
  for (guint i = 0; i < RUNS; i++)
    {
      double mb = 0, t = master_once (ctx, input, tmp, "big", FALSE, &mb);
      if (t < t_ours)
        t_ours = t, best = mb;
    }
  ours = best;
  t_small = G_MAXDOUBLE;
  for (guint i = 0; i < RUNS; i++)
    t_small = MIN (t_small, master_once (ctx, small, tmp, "small", FALSE, NULL));
  /* for the record: with the image flushed to disk before returning */
  t_sync = G_MAXDOUBLE;
  for (guint i = 0; i < RUNS; i++)
    t_sync = MIN (t_sync, master_once (ctx, input, tmp, "synced", TRUE, NULL));

  fprintf (stderr, "Timing the OpenSSL command-line pipeline on the same file (best of %u)…\n", RUNS);
  {
    g_autofree char *key = g_build_filename (dir, "keys", "mastering.key", NULL);
    g_autofree char *cmd = g_strdup_printf (
      "sh -c '%s enc -aes-256-ctr -K %s -iv 000102030405060708090a0b0c0d0e0f -in %s -out %s/pipe.enc && "
      "%s dgst -sha256 -binary -out %s/pipe.sha %s && "
      "%s pkeyutl -sign -inkey %s -passin pass:\"%s\" -in %s/pipe.sha -out %s/pipe.sig'",
      openssl (), "00112233445566778899aabbccddeeff00112233445566778899aabbccddeeff", input, tmp, openssl (), tmp, input,
      openssl (), key, PASS, tmp, tmp);
    t_pipe = G_MAXDOUBLE;
    for (guint i = 0; i < RUNS; i++)
      {
        int status = 0;
        double t0 = now_s ();
        if (!g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) || !g_spawn_check_wait_status (status, NULL))
          {
            fprintf (stderr, "bench: the openssl pipeline failed\n");
            return 1;
          }
        t_pipe = MIN (t_pipe, now_s () - t0);
      }
  }
  printf ("image:                           %u MiB, file to file\n", mib);
  printf ("trustbench master:               %.3f s, %.0f MB/s\n", t_ours, ours);
  printf ("openssl speed aes-256-ctr:       %.0f MB/s\n", aes);
  printf ("openssl speed sha256:            %.0f MB/s\n", sha);
  printf ("ratio to min(AES, SHA-256):      %.2f (target >= 0.33): %s\n", ours / floor_speed,
          ours / floor_speed >= 1.0 / 3 ? "met" : "NOT MET");
  printf ("openssl enc+dgst+pkeyutl:        %.3f s\n", t_pipe);
  printf ("ratio to the CLI pipeline:       %.2fx (target >= 2.5x): %s\n", t_pipe / t_ours,
          t_pipe / t_ours >= 2.5 ? "met" : "NOT MET");
  printf ("master --sync (image flushed):   %.3f s, %.2fx the pipeline (not a target: the pipeline flushes nothing)\n",
          t_sync, t_pipe / t_sync);
  printf ("fixed cost, 4 KiB image:         %.1f ms (mostly unlocking the mastering key)\n", t_small * 1000);
  printf ("peak RSS (trustbench-tool):      %.1f MiB (target < 32 MiB): %s\n", ru.ru_maxrss / 1024.0,
          ru.ru_maxrss < 32 * 1024 ? "met" : "NOT MET");

  g_clear_object (&ctx);
  tb_file_remove_tree (tmp, NULL);
  return ours / floor_speed >= 1.0 / 3 && t_pipe / t_ours >= 2.5 && ru.ru_maxrss < 32 * 1024 ? 0 : 2;
}
