/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What making (tb-job-create.c) and importing (tb-job.c) a job share, and
 * the signed manifest as JSON for the offline receipt checks, the fuzzer
 * and the tests. */

#include <json-glib/json-glib.h>

#include "tb-cert.h"
#include "tb-context.h"
#include "tb-job.h"

G_BEGIN_DECLS

/* The hex SHA-256 of @bytes. */
char       *tb_job_sha256_bytes     (GBytes     *bytes);
/* @t in ISO 8601, UTC, to the second; %NULL for %NULL. */
char       *tb_job_format_time      (GDateTime  *t);

/* The signed manifest verified against @root, then parsed. */
gboolean    tb_job_verify_manifest  (const char     *manifest_b64,
                                     const char     *signature_b64,
                                     const char     *signer_pem,
                                     TbCert         *root,
                                     JsonObject    **manifest,
                                     GError        **error);
/* A loaded package's manifest, as signed. */
JsonObject *tb_job_package_get_manifest (TbJobPackage *package);

G_END_DECLS
