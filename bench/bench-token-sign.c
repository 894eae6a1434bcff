/* SPDX-License-Identifier: GPL-3.0-or-later */

/* What a token costs: ECDSA P-256 signatures per second through SoftHSM 2
 * (PKCS#11 C_Sign, through the built-in provider, exactly as certificate
 * issuance and mastering sign) and in-process with OpenSSL, side by side
 * in the same run.
 *
 *   bench-token-sign [SECONDS]     (default 2 per side)
 */

#include "config.h"

#include <glib/gstdio.h>
#include <stdio.h>
#include <stdlib.h>

#include "tb-key-private.h"
#include "trustbench.h"

static const char *
softhsm_module (void)
{
  static const char *const paths[] = { "/usr/lib/softhsm/libsofthsm2.so",
                                       "/usr/lib/x86_64-linux-gnu/softhsm/libsofthsm2.so", NULL };
  for (guint i = 0; paths[i] != NULL; i++)
    if (g_file_test (paths[i], G_FILE_TEST_EXISTS))
      return paths[i];
  return NULL;
}

/* Signs a 64-byte message with SHA-256 until @seconds pass. */
static double
signatures_per_second (TbKey *key, double seconds, guint *count)
{
  EVP_PKEY *pkey = tb_key_get_private_pkey (key);
  guint8 msg[64] = { 1, 2, 3 };
  guint8 sig[128];
  gint64 start = g_get_monotonic_time ();
  gint64 end = start + (gint64) (seconds * G_USEC_PER_SEC);
  guint n = 0;

  while (g_get_monotonic_time () < end)
    {
      EVP_MD_CTX *md = EVP_MD_CTX_new ();
      size_t len = sizeof sig;
      if (EVP_DigestSignInit_ex (md, NULL, "SHA256", NULL, NULL, pkey, NULL) != 1 ||
          EVP_DigestSign (md, sig, &len, msg, sizeof msg) != 1)
        {
          fprintf (stderr, "signing failed\n");
          exit (1);
        }
      EVP_MD_CTX_free (md);
      msg[0]++;
      n++;
    }
  *count = n;
  return n / ((double) (g_get_monotonic_time () - start) / G_USEC_PER_SEC);
}

int
main (int argc, char **argv)
{
  double seconds = argc > 1 ? g_ascii_strtod (argv[1], NULL) : 2.0;
  g_autoptr(GError) error = NULL;
  g_autofree char *tmp = g_dir_make_tmp ("tb-bench-token-XXXXXX", &error);
  g_autofree char *tokens = g_build_filename (tmp, "tokens", NULL);
  g_autofree char *conf = g_build_filename (tmp, "softhsm2.conf", NULL);
  g_autofree char *text = g_strdup_printf ("directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n",
                                           tokens);
  g_autofree char *uri = NULL;
  g_autoptr(TbKey) token_key = NULL;
  g_autoptr(TbKey) file_key = NULL;
  g_autofree char *out = NULL, *err = NULL;
  int status = 0;
  guint n_token = 0, n_soft = 0;
  double token_rate, soft_rate;

  if (softhsm_module () == NULL)
    {
      fprintf (stderr, "bench-token-sign: SoftHSM 2 is not installed (apt install softhsm2)\n");
      return 77;
    }
  g_mkdir (tokens, 0700);
  g_file_set_contents (conf, text, -1, NULL);
  g_setenv ("SOFTHSM2_CONF", conf, TRUE);
  if (!g_spawn_command_line_sync ("softhsm2-util --init-token --free --label bench --pin 1234 --so-pin 12345678", &out,
                                  &err, &status, &error) ||
      !g_spawn_check_wait_status (status, &error))
    g_error ("softhsm2-util: %s", error->message);
  uri = g_strdup_printf ("pkcs11:token=bench?module-path=%s", softhsm_module ());
  tb_pkcs11_set_pin ("1234");
  token_key = tb_key_generate_on_token (uri, "bench", "ec-p256", TB_KEY_USAGE_MASTERING, &error);
  file_key = tb_key_generate ("ec-p256", &error);
  if (token_key == NULL || file_key == NULL)
    g_error ("keys: %s", error->message);

  token_rate = signatures_per_second (token_key, seconds, &n_token);
  soft_rate = signatures_per_second (file_key, seconds, &n_soft);
  printf ("ECDSA P-256 + SHA-256, 64-byte messages, one thread, %.1f s each\n", seconds);
  printf ("SoftHSM 2 token (PKCS#11 C_Sign):  %8.0f signatures/s (%u)\n", token_rate, n_token);
  printf ("in-process OpenSSL:                %8.0f signatures/s (%u)\n", soft_rate, n_soft);
  printf ("a token signature costs %.1fx an in-process one (%.3f ms vs %.3f ms)\n", soft_rate / token_rate,
          1e3 / token_rate, 1e3 / soft_rate);
  tb_file_remove_tree (tmp, NULL);
  return 0;
}
