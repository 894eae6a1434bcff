/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the encrypted image reader (docs/formats/tbimg.md):
 * the 64-byte header, then the chunk walk of tb_image_decrypt().
 *
 * The input is a whole .tbimg file. The UPK beside it is made here for
 * each input so that it matches the input's header (its digest, image id
 * and size): the checks that bind the two files pass, and the fuzzer
 * drives the chunk sizes, counts, truncation and tags, which a fixed UPK
 * would never let it reach. The image key is wrapped once, at setup, for
 * a product key generated then: the chunk tags fail (the fuzzer cannot
 * forge AES-GCM), which is the error path to exercise. */

#include "config.h"

#include <openssl/evp.h>

#include "trustbench.h"
#include "tb-fuzz.h"

static TbUpk *upk;
static TbKey *product_key;

void
tb_fuzz_setup (void)
{
  guint8 image_key[TB_UPK_IMAGE_KEY_LEN] = { 0 };
  g_autoptr(GError) error = NULL;

  product_key = tb_key_generate ("ec-p256", &error);
  g_assert_no_error (error);
  upk = tb_upk_new ();
  tb_upk_set_product (upk, "fuzz");
  tb_upk_set_version (upk, "1.0.0");
  g_assert (tb_upk_add_recipient (upk, TB_UPK_RECIPIENT_PRODUCT, "fuzz", product_key, image_key, &error));
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;
  TbImageHeader h;
  guint8 digest[32], out[TB_IMAGE_HEADER_LEN];
  unsigned int n = 0;

  if (size < TB_IMAGE_HEADER_LEN)
    return 0;
  if (!tb_image_header_decode (data, &h, "fuzz.tbimg", &error))
    {
      g_assert (error != NULL);
      return 0;
    }
  /* a decoded header encodes back to the same bytes */
  tb_image_header_encode (&h, out);
  g_assert (memcmp (out, data, TB_IMAGE_HEADER_LEN) == 0);
  tb_image_file_size (&h);

  g_assert (EVP_Digest (data, TB_IMAGE_HEADER_LEN, digest, &n, EVP_sha256 (), NULL) == 1);
  tb_upk_set_image_header_sha256 (upk, digest);
  tb_upk_set_image_id (upk, h.image_id);
  tb_upk_set_image_size (upk, h.plaintext_size);
  path = tb_fuzz_write_file ("fuzz.tbimg", data, size);
  g_assert (!tb_image_decrypt (upk, path, product_key, NULL, digest, NULL, &error));
  g_assert (error != NULL);
  return 0;
}
