/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the UPK reader (docs/formats/upk.md): structure, then
 * the signature check (the signer certificate and the signature come from
 * the input), then every getter and a recipient lookup. */

#include "config.h"

#include "trustbench.h"
#include "tb-fuzz.h"

void
tb_fuzz_setup (void)
{
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbUpk) upk = tb_upk_parse (data, size, "fuzz.tbupk", &error);
  guint64 entry = 0;

  g_assert ((upk == NULL) == (error != NULL));
  if (upk == NULL)
    return 0;
  if (!tb_upk_verify_signature (upk, &error))
    g_assert (error != NULL);
  tb_upk_signature_algorithm_to_string (tb_upk_get_signature_algorithm (upk));
  tb_upk_get_product (upk);
  tb_upk_get_version (upk);
  tb_upk_get_device_types (upk);
  tb_upk_get_device_uids (upk);
  tb_upk_get_security_counter (upk);
  tb_upk_get_load_address (upk);
  tb_upk_get_image_size (upk);
  tb_upk_get_entry_point (upk, &entry);
  tb_upk_get_plaintext_sha256 (upk);
  tb_upk_get_image_header_sha256 (upk);
  tb_upk_get_image_id (upk);
  tb_upk_get_created (upk);
  for (guint i = 0; i < tb_upk_get_n_recipients (upk); i++)
    g_assert (tb_upk_get_recipient (upk, i) != NULL);
  tb_upk_find_recipient (upk, "0000000000000000000000000000000000000000000000000000000000000000");
  return 0;
}
