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
 * TbJobRole:
 * @TB_JOB_ROLE_STATION: a station's slice, imported from a package
 * @TB_JOB_ROLE_OEM: the OEM's job, made by `job create`, with every slice
 */
typedef enum {
  TB_JOB_ROLE_STATION,
  TB_JOB_ROLE_OEM,
} TbJobRole;

const char *tb_job_role_to_string   (TbJobRole       role);

/**
 * TbJobInfo:
 * @job_id: the job's id
 * @role: whose job it is
 * @oem: (nullable): the OEM context's name (a station's job)
 * @product: (nullable): the product the image is for
 * @image_version: (nullable): the image's version
 * @device_types: (array zero-terminated=1): the allowed device types, empty
 *   for any the UPK allows
 * @slice: the slice this context holds, from 1 (1 for the OEM's job)
 * @slices: how many slices the job has
 * @first: the first slot of the slice
 * @count: the devices the slice may make (the OEM's job: the whole job)
 * @total_count: the devices the whole job may make
 * @not_after: (nullable): when the job expires (ISO 8601 UTC), %NULL: never
 * @root_sha256: (nullable): the OEM root it is signed by (a station's job)
 *
 * A production job as the context lists it, or as a package's signed
 * manifest describes it: read-only, made by the core.
 */
typedef struct {
  char *job_id;
  TbJobRole role;
  char *oem;
  char *product;
  char *image_version;
  GStrv device_types;
  guint slice;
  guint slices;
  guint64 first;
  guint64 count;
  guint64 total_count;
  char *not_after;
  char *root_sha256;
} TbJobInfo;

#define TB_TYPE_JOB_INFO (tb_job_info_get_type ())
GType       tb_job_info_get_type    (void) G_GNUC_CONST;
TbJobInfo  *tb_job_info_copy        (const TbJobInfo *info);
void        tb_job_info_free        (TbJobInfo       *info);
GPtrArray  *tb_job_list             (TbContext       *ctx);
TbJobInfo  *tb_job_lookup           (TbContext       *ctx,
                                     const char      *job_id,
                                     GError         **error);

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
const TbJobInfo *tb_job_package_get_info (TbJobPackage *package);

gboolean    tb_job_import           (TbContext      *ctx,
                                     TbJobPackage   *package,
                                     const char     *root_sha256,
                                     const char     *job_passphrase,
                                     const char     *passphrase,
                                     GError        **error);
TbCert     *tb_job_get_pinned_root  (TbContext      *ctx,
                                     GError        **error);

char       *tb_job_build_path       (TbContext      *ctx,
                                     const char     *job_id,
                                     const char     *file);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbJobInfo, tb_job_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbJobPackage, tb_job_package_free)

G_END_DECLS
