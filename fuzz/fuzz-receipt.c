/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for device receipts (docs/mailbox.md, TBRECEIPT1 and
 * TBRECEIPT2), checked against a fixed device key.
 *
 * The first input byte picks a mode: bit 0 clear, the rest of the input is
 * the receipt as it comes from a device or a records file; bit 0 set, the
 * rest is the signed part and the harness appends a valid signature by
 * the device key (over the TBRECEIPT2 label when bit 1 is set, else
 * TBRECEIPT1), so the fuzzer also reaches what is read after the
 * signature check. */

#include "config.h"

#include <string.h>

#include "trustbench.h"
#include "tb-fuzz.h"
#include "tb-sbm-crypto-openssl.h"

#define MAX_SIGNED 1024

static const guint8 device_private_key[32] = {
  0x51, 0x9b, 0x42, 0x3d, 0x71, 0x5f, 0x8b, 0x58, 0x1f, 0x4f, 0xa8, 0xee, 0x59, 0xf4, 0x77, 0x1a,
  0x5b, 0x44, 0xc8, 0x13, 0x0b, 0x4e, 0x3e, 0xac, 0xca, 0x54, 0xa5, 0x6d, 0xda, 0x72, 0xb4, 0x64,
};
static guint8 device_public_key[65];

void
tb_fuzz_setup (void)
{
  g_assert (tb_sbm_crypto_openssl ()->p256_public_key (device_private_key, device_public_key) == 0);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  const TbSbmCrypto *c = tb_sbm_crypto_openssl ();
  g_autoptr(GError) error = NULL;
  g_autoptr(TbReceipt) r = NULL;
  guint8 buf[MAX_SIGNED + 2 + 80];
  gsize len;

  if (size < 1)
    return 0;
  if (data[0] & 1)
    {
      const char *label = data[0] & 2 ? "TBRECEIPT2" : "TBRECEIPT1";
      TbSbmSha256 s;
      guint8 digest[32];
      size_t sig_len = 80;

      len = MIN (size - 1, MAX_SIGNED);
      memcpy (buf, data + 1, len);
      c->sha256_init (&s);
      c->sha256_update (&s, (const guint8 *) label, strlen (label));
      c->sha256_update (&s, buf, len);
      c->sha256_final (&s, digest);
      g_assert (c->ecdsa_p256_sign (device_private_key, digest, buf + len + 2, &sig_len) == 0);
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
