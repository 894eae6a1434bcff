/* SPDX-License-Identifier: GPL-3.0-or-later */

/* OpenSSL's error queue as a GError, and its random generator
 * (tb-openssl-private.h). */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/rand.h>

#include "tb-error.h"
#include "tb-openssl-private.h"

void
tb_set_error_from_openssl (GError **error, int code, const char *format, ...)
{
  va_list args;
  g_autofree char *msg = NULL;
  unsigned long err;
  char buf[256] = "";

  va_start (args, format);
  msg = g_strdup_vprintf (format, args);
  va_end (args);
  /* the last (outermost) error is the most specific reason */
  while ((err = ERR_get_error ()) != 0)
    ERR_error_string_n (err, buf, sizeof buf);
  if (buf[0] != '\0')
    g_set_error (error, TB_ERROR, code, "%s (%s)", msg, buf);
  else
    g_set_error_literal (error, TB_ERROR, code, msg);
}

/**
 * tb_crypto_random_bytes: (skip)
 *
 * Fills @out from OpenSSL's DRBG. A failing generator (no entropy, a
 * broken provider) is an error, never a buffer left as it was.
 */
gboolean
tb_crypto_random_bytes (guint8 *out, gsize len, GError **error)
{
  if (len <= G_MAXINT && RAND_bytes (out, (int) len) == 1)
    return TRUE;
  tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("The random number generator failed"));
  return FALSE;
}
