/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for device receipts (docs/mailbox.md, TBRECEIPT1 and
 * TBRECEIPT2), checked against a fixed device key.
 *
 * The first input byte picks a mode: bit 0 clear, the rest of the input is
 * the receipt as it comes from a device or a records file; bit 0 set, the
 * rest is the signed part and the harness appends a valid signature by
 * the device key (a P-256 key made at setup) (over the TBRECEIPT2 label when bit 1 is set, else
 * TBRECEIPT1), so the fuzzer also reaches what is read after the
 * signature check. */

#include "config.h"

#include <string.h>

#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>

#include "trustbench.h"
#include "tb-fuzz.h"
#include "tb-key-private.h" /* the OpenSSL autoptrs */

#define MAX_SIGNED 1024

/* made once: building a key from a scalar for each input would cost more
 * than everything the harness exercises */
static EVP_PKEY *device_key;
static guint8 device_public_key[65];

void
tb_fuzz_setup (void)
{
  size_t len = 0;

  device_key = EVP_EC_gen ("P-256");
  g_assert (device_key != NULL);
  g_assert (EVP_PKEY_get_octet_string_param (device_key, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, device_public_key,
                                             sizeof device_public_key, &len) == 1 && len == 65);
}

static gsize
sign (const char *label, const guint8 *data, gsize len, guint8 *sig, gsize cap)
{
  g_autoptr(EVP_MD_CTX) md = EVP_MD_CTX_new ();
  g_autoptr(EVP_PKEY_CTX) ctx = EVP_PKEY_CTX_new (device_key, NULL);
  guint8 digest[32];
  unsigned int n = 0;
  size_t sig_len = cap;

  g_assert (EVP_DigestInit_ex (md, EVP_sha256 (), NULL) == 1 && EVP_DigestUpdate (md, label, strlen (label)) == 1 &&
            EVP_DigestUpdate (md, data, len) == 1 && EVP_DigestFinal_ex (md, digest, &n) == 1);
  g_assert (EVP_PKEY_sign_init (ctx) == 1 && EVP_PKEY_sign (ctx, sig, &sig_len, digest, 32) == 1);
  return sig_len;
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbReceipt) r = NULL;
  guint8 buf[MAX_SIGNED + 2 + 80];
  gsize len;

  if (size < 1)
    return 0;
  if (data[0] & 1)
    {
      gsize sig_len;

      len = MIN (size - 1, MAX_SIGNED);
      memcpy (buf, data + 1, len);
      sig_len = sign (data[0] & 2 ? "TBRECEIPT2" : "TBRECEIPT1", buf, len, buf + len + 2, 80);
      buf[len] = (guint8) (sig_len >> 8);
      buf[len + 1] = (guint8) sig_len;
      r = tb_receipt_parse (buf, len + 2 + sig_len, device_public_key, &error);
    }
  else
    r = tb_receipt_parse (data + 1, size - 1, device_public_key, &error);
  g_assert ((r == NULL) == (error != NULL));
  if (r != NULL)
    {
      g_assert (r->uid != NULL && r->version != NULL);
      tb_receipt_kind_to_string (r->kind);
    }
  return 0;
}
