/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-context.h"

G_BEGIN_DECLS

/* The job package (.tbjob), documented in docs/formats/job.md. */
#define TB_JOB_FORMAT "trustbench-job"
#define TB_JOB_MANIFEST_FORMAT "trustbench-job-manifest"
#define TB_JOB_FORMAT_VERSION 1        /* the manifest's */
/* The package's: 2 carries the root outside the manifest, so that the
 * signature is checked before the signed content is parsed, and requires
 * its job id and slice to be the manifest's (docs/formats/job.md). */
#define TB_JOB_PACKAGE_VERSION 2
#define TB_JOB_FILE_MAX_BYTES (48u * 1024u * 1024u)
#define TB_JOB_MAX_SLICES 64
#define TB_JOB_MAX_COUNT 100000000u
#define TB_CERT_NAME_OEM_ROOT "oem-root"

typedef struct {
  const char *job_id;                 /* NULL: generated */
  const char *upk_path;
  const char *image_path;
  guint64 count;
  const char *const *device_types;    /* NULL or empty: those the UPK allows (any when it names none) */
  GDateTime *not_after;               /* NULL: no end */
  guint slices;                       /* 0 or 1: one package */
  const char *output;                 /* FILE (required); with slices FILE-sI.tbjob (before the extension) */
} TbJobCreateOptions;

gboolean    tb_job_create           (TbContext                *ctx,
                                     const TbJobCreateOptions *options,
                                     const char               *passphrase,
                                     const char               *job_passphrase,
                                     char                    **job_id,
                                     GPtrArray               **files,
                                     GError                  **error);

/**
 * TbJobPackage:
 *
 * A job package read and checked against its own root (signature, chains,
 * the image pair it carries); what the root is worth is decided by
 * tb_job_import() against the station's pinned root.
 */
typedef struct _TbJobPackage TbJobPackage;

TbJobPackage *tb_job_package_load   (const char     *path,
                                     GError        **error);
void        tb_job_package_free     (TbJobPackage   *package);
const char *tb_job_package_get_job_id (TbJobPackage *package);
const char *tb_job_package_get_root_sha256 (TbJobPackage *package);
TbCert     *tb_job_package_get_root (TbJobPackage   *package);
JsonObject *tb_job_package_get_manifest (TbJobPackage *package);

gboolean    tb_job_import           (TbContext      *ctx,
                                     TbJobPackage   *package,
                                     const char     *root_sha256,
                                     const char     *job_passphrase,
                                     const char     *passphrase,
                                     GError        **error);
TbCert     *tb_job_get_pinned_root  (TbContext      *ctx,
                                     GError        **error);

gboolean    tb_job_verify_manifest  (const char     *manifest_b64,
                                     const char     *signature_b64,
                                     const char     *signer_pem,
                                     TbCert         *root,
                                     JsonObject    **manifest,
                                     GError        **error);

char       *tb_job_build_path       (TbContext      *ctx,
                                     const char     *job_id,
                                     const char     *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbJobPackage, tb_job_package_free)

G_END_DECLS
