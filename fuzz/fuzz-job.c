/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the job package reader (docs/formats/job.md): the input
 * is a .tbjob file, loaded and checked against the root it carries. Past
 * the manifest's signature only inputs that keep the signed manifest
 * intact go on (the fuzzer cannot forge the root's signature); the
 * package's other members (the UPK and image, their digests) stay open to
 * it. */

#include "config.h"

#include "trustbench.h"
#include "tb-job-private.h"
#include "tb-fuzz.h"

void
tb_fuzz_setup (void)
{
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *path = tb_fuzz_write_file ("fuzz.tbjob", data, size);
  g_autoptr(TbJobPackage) package = tb_job_package_load (path, &error);

  g_assert ((package == NULL) == (error != NULL));
  if (package != NULL)
    {
      g_assert (tb_job_package_get_job_id (package) != NULL);
      g_assert (tb_job_package_get_root_sha256 (package) != NULL);
      g_assert (tb_job_package_get_root (package) != NULL);
      g_assert (tb_job_package_get_manifest (package) != NULL);
    }
  return 0;
}
