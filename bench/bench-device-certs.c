/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Issues N device certificates (default 10 000) from raw P-256 points, as
 * devices report them, and compares the rate with `openssl speed
 * ecdsap256` sign/s on one core measured in the same run. Target: at
 * least 40 % of the raw signing rate. Also prints the peak RSS and checks
 * a sample of the certificates with `openssl verify -x509_strict`.
 *
 *   bench-device-certs [N]
 */

#include "config.h"

#include <glib/gstdio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "trustbench.h"

#define TARGET_RATIO 0.40

static double
openssl_speed_ecdsap256_sign (void)
{
  const char *openssl = g_getenv ("TB_OPENSSL") ?: "openssl";
  g_autofree char *cmd = g_strdup_printf ("%s speed -seconds 3 ecdsap256", openssl);
  g_autofree char *out = NULL;
  g_auto(GStrv) lines = NULL;
  int status = 0;

  if (!g_spawn_command_line_sync (cmd, &out, NULL, &status, NULL) || !g_spawn_check_wait_status (status, NULL))
    return 0.0;
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    if (strstr (lines[i], "ecdsa (nistp256)") != NULL)
      {
        /* " 256 bits ecdsa (nistp256)   0.0000s   0.0001s  39870.3  12939.6" */
        g_auto(GStrv) fields = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
        g_autoptr(GPtrArray) nums = g_ptr_array_new ();
        for (guint j = 0; fields[j] != NULL; j++)
          if (fields[j][0] != '\0')
            g_ptr_array_add (nums, fields[j]);
        if (nums->len >= 2)
          return g_ascii_strtod (g_ptr_array_index (nums, nums->len - 2), NULL);
      }
  return 0.0;
}

int
main (int argc, char **argv)
{
  guint n = argc > 1 ? (guint) atoi (argv[1]) : 10000;
  g_autofree char *tmp = g_dir_make_tmp ("tb-bench-XXXXXX", NULL);
  g_autofree char *dir = g_build_filename (tmp, "ctx", NULL);
  g_autoptr(GError) error = NULL;
  g_autoptr(TbContext) ctx = NULL;
  g_autoptr(TbCert) issuer = NULL;
  g_autoptr(TbKey) issuer_key = NULL;
  g_autoptr(TbDeviceCertIssuer) dci = NULL;
  const char *products[] = { "bench", NULL };
  guint8 *points;
  char (*uids)[17];
  g_autoptr(GBytes) sample = NULL;
  g_autoptr(GBytes) last = NULL;
  gint64 start, elapsed;
  double certs_per_s, speed, ratio;
  struct rusage ru;
  gsize total_bytes = 0;

  if (n == 0)
    n = 1;
  ctx = tb_context_create (dir, "Bench OEM", &error);
  if (ctx == NULL || !tb_hierarchy_create (ctx, products, NULL, "bench passphrase", NULL, &error))
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }
  issuer = tb_cert_load (ctx, "provisioning-ca", &error);
  issuer_key = tb_key_load (ctx, "provisioning-ca", &error);
  if (issuer == NULL || issuer_key == NULL || !tb_key_unlock (issuer_key, ctx, "bench passphrase", &error))
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }

  /* the devices' public keys, as they report them (not timed) */
  fprintf (stderr, "Generating %u device key pairs…\n", n);
  points = g_malloc (n * TB_DEVICE_POINT_LEN);
  uids = g_malloc (n * sizeof *uids);
  for (guint i = 0; i < n; i++)
    {
      EVP_PKEY *pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
      size_t len = 0;
      EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, points + i * TB_DEVICE_POINT_LEN,
                                       TB_DEVICE_POINT_LEN, &len);
      EVP_PKEY_free (pkey);
      g_snprintf (uids[i], sizeof uids[i], "%016x", 0x5eed0000u + i);
    }

  fprintf (stderr, "Issuing %u device certificates…\n", n);
  start = g_get_monotonic_time ();
  dci = tb_device_cert_issuer_new (issuer, issuer_key, "Bench OEM", TB_CERT_DAYS_DEVICE, &error);
  if (dci == NULL)
    {
      fprintf (stderr, "bench: %s\n", error->message);
      return 1;
    }
  for (guint i = 0; i < n; i++)
    {
      GBytes *der = tb_device_cert_issuer_issue (dci, points + i * TB_DEVICE_POINT_LEN, TB_DEVICE_POINT_LEN, uids[i],
                                                 &error);
      if (der == NULL)
        {
          fprintf (stderr, "bench: %s\n", error->message);
          return 1;
        }
      total_bytes += g_bytes_get_size (der);
      if (i == 0)
        sample = g_bytes_ref (der);
      if (i == n - 1)
        last = g_bytes_ref (der);
      g_bytes_unref (der);
    }
  elapsed = g_get_monotonic_time () - start;
  certs_per_s = n / (elapsed / 1e6);

  fprintf (stderr, "Measuring openssl speed ecdsap256 (one core, 3 s)…\n");
  speed = openssl_speed_ecdsap256_sign ();
  ratio = speed > 0 ? certs_per_s / speed : 0.0;
  getrusage (RUSAGE_SELF, &ru);

  /* the external judge on the first and the last certificate */
  {
    g_autofree char *root = g_build_filename (dir, "certs", "root-ca.pem", NULL);
    g_autofree char *prov = g_build_filename (dir, "certs", "provisioning-ca.pem", NULL);
    GBytes *check[] = { sample, last };
    for (guint i = 0; i < G_N_ELEMENTS (check); i++)
      {
        g_autofree char *path = g_strdup_printf ("%s/device-%u.der", tmp, i);
        g_autofree char *pem = g_strdup_printf ("%s/device-%u.pem", tmp, i);
        g_autofree char *conv = g_strdup_printf ("%s x509 -inform DER -in %s -out %s", g_getenv ("TB_OPENSSL") ?: "openssl",
                                                 path, pem);
        g_autofree char *cmd = g_strdup_printf ("%s verify -x509_strict -CAfile %s -untrusted %s %s",
                                                g_getenv ("TB_OPENSSL") ?: "openssl", root, prov, pem);
        int status = 0;
        g_file_set_contents (path, g_bytes_get_data (check[i], NULL), (gssize) g_bytes_get_size (check[i]), NULL);
        if (!g_spawn_command_line_sync (conv, NULL, NULL, &status, NULL) ||
            !g_spawn_command_line_sync (cmd, NULL, NULL, &status, NULL) || !g_spawn_check_wait_status (status, NULL))
          {
            fprintf (stderr, "bench: openssl verify -x509_strict refused a device certificate\n");
            return 1;
          }
      }
  }

  printf ("device certificates issued:  %u (%.0f bytes each)\n", n, (double) total_bytes / n);
  printf ("time:                        %.3f s\n", elapsed / 1e6);
  printf ("certificates per second:     %.0f\n", certs_per_s);
  printf ("openssl speed ecdsap256:     %.0f sign/s (one core)\n", speed);
  printf ("ratio:                       %.1f %% (target >= %.0f %%): %s\n", ratio * 100, TARGET_RATIO * 100,
          ratio >= TARGET_RATIO ? "met" : "NOT MET");
  printf ("peak RSS:                    %.1f MiB\n", ru.ru_maxrss / 1024.0);
  printf ("openssl verify -x509_strict: first and last certificate OK\n");

  g_free (points);
  g_free (uids);
  g_clear_object (&ctx);
  tb_file_remove_tree (tmp, NULL);
  return ratio >= TARGET_RATIO ? 0 : 2;
}
