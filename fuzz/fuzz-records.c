/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the records a station exports and the OEM verifies
 * (`receipts verify`, docs/production.md): the input is one records
 * export (JSON), verified against the OEM root its seeds were made under
 * (tests/data/fuzz-records.root.pem, see tools/make-fuzz-seeds). The job
 * summaries are signed by that root, so inputs that keep them intact
 * reach the per-record checks: device certificates, receipts, duplicate
 * and count checks. */

#include "config.h"

#include "trustbench.h"
#include "tb-fuzz.h"

static TbCert *root;

void
tb_fuzz_setup (void)
{
  g_autoptr(GError) error = NULL;

  root = tb_cert_new_from_file (TB_FUZZ_RECORDS_ROOT, &error);
  g_assert_no_error (error);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tb_fuzz_write_file ("records.json", data, size);
  const char *files[] = { path, NULL };
  TbReceiptsReport report;
  gboolean ok = tb_receipts_verify (root, files, &report, &error);

  g_assert (ok == (error == NULL));
  if (ok && report.valid)
    g_assert_cmpuint (report.bad->len, ==, 0);
  tb_receipts_report_clear (&report);
  return 0;
}
