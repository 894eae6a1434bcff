/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-context.h"
#include "tb-probe.h"
#include "tb-progress.h"
#include "tb-target.h"

G_BEGIN_DECLS

typedef struct {
  const char *product;          /* NULL: the context's only product */
  const char *upk_path;         /* NULL: provision without an image */
  const char *image_path;
  gboolean no_lock;             /* leave debug access open (lab use) */
} TbProvisionOptions;

typedef struct {
  char *uid;
  char *device_type;
  char *device_certificate;     /* PEM */
  char *device_certificate_serial;
  char *lifecycle;
  char *app_version;            /* NULL when no image was programmed */
  GBytes *receipt;
  char *product;                /* the product it was provisioned for */
} TbProvisionResult;

void     tb_provision_result_clear (TbProvisionResult      *result);
gboolean tb_provision_device       (TbContext              *ctx,
                                    TbProbe                *probe,
                                    const TbProvisionOptions *options,
                                    const char             *passphrase,
                                    TbProvisionResult      *result,
                                    TbProgress             *progress,
                                    GError                **error);
char    *tb_provision_record        (TbContext              *ctx,
                                    const TbProvisionResult *result,
                                    GError                **error);
gboolean tb_program_device         (TbProbe                *probe,
                                    const char             *upk_path,
                                    const char             *image_path,
                                    char                  **app_version,
                                    GBytes                **receipt,
                                    TbProgress             *progress,
                                    GError                **error);

G_END_DECLS
