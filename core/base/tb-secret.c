/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-secret.h"

#include <openssl/crypto.h>
#include <string.h>

void
tb_secret_wipe (void *data, gsize len)
{
  if (data != NULL && len > 0)
    OPENSSL_cleanse (data, len);
}

TbSecret *
tb_secret_new_len (const char *data, gsize len)
{
  TbSecret *secret = g_malloc (len + 1);

  memcpy (secret, data, len);
  secret[len] = '\0';
  return secret;
}

TbSecret *
tb_secret_new (const char *text)
{
  return tb_secret_new_len (text, strlen (text));
}

void
tb_secret_free (TbSecret *secret)
{
  if (secret == NULL)
    return;
  tb_secret_wipe (secret, strlen (secret));
  g_free (secret);
}
