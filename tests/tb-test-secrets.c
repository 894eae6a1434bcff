/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-test-secrets.h"

#include <glib/gstdio.h>
#include <openssl/core_names.h>
#include <string.h>
#include <sys/stat.h>

#include "tb-key-private.h"

/* Raw private key material of @key, to search the disk for. */
GBytes *
tb_test_private_material (TbKey *key)
{
  EVP_PKEY *pkey = tb_key_get_private_pkey (key);
  BIGNUM *bn = NULL;
  guint8 buf[1024];
  size_t len = 0;

  if (EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &bn) ||
      EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_RSA_D, &bn))
    {
      int n = BN_bn2bin (bn, buf);
      BN_clear_free (bn);
      return g_bytes_new (buf, (gsize) n);
    }
  g_assert_true (EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, buf, sizeof buf, &len));
  return g_bytes_new (buf, len);
}

/* No file below @dir holds a private key in clear: no unencrypted PEM
 * private key block and none of the raw secrets. */
void
tb_test_assert_no_secret_on_disk (const char *dir, GPtrArray *secrets)
{
  g_autoptr(GDir) d = g_dir_open (dir, 0, NULL);
  const char *name;

  g_assert_nonnull (d);
  while ((name = g_dir_read_name (d)) != NULL)
    {
      g_autofree char *path = g_build_filename (dir, name, NULL);
      g_autofree char *data = NULL;
      gsize len = 0;

      if (g_file_test (path, G_FILE_TEST_IS_DIR))
        {
          tb_test_assert_no_secret_on_disk (path, secrets);
          continue;
        }
      g_assert_true (g_file_get_contents (path, &data, &len, NULL));
      for (const char *const *m = (const char *const[]){ "BEGIN PRIVATE KEY", "BEGIN EC PRIVATE KEY",
                                                         "BEGIN RSA PRIVATE KEY", NULL }; *m != NULL; m++)
        if (g_strstr_len (data, (gssize) len, *m) != NULL)
          g_error ("%s holds a private key in clear (%s)", path, *m);
      for (guint i = 0; i < secrets->len; i++)
        {
          gsize slen = 0;
          const guint8 *s = g_bytes_get_data (g_ptr_array_index (secrets, i), &slen);
          for (gsize off = 0; slen > 0 && off + slen <= len; off++)
            if (memcmp (data + off, s, slen) == 0)
              g_error ("%s holds raw private key material", path);
        }
      if (g_str_has_suffix (name, ".key"))
        {
          GStatBuf st;
          g_assert_cmpint (g_stat (path, &st), ==, 0);
          g_assert_cmpint (st.st_mode & 0777, ==, 0600);
        }
    }
}

