/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * TbLifecycle:
 *
 * A device's lifecycle, as its SBM keeps it (OTP) and reports it in an
 * attestation (docs/mailbox.md). It only moves forward.
 */
typedef enum {
  TB_LIFECYCLE_BLANK,
  TB_LIFECYCLE_SBM_INSTALLED,
  TB_LIFECYCLE_PROVISIONED,
  TB_LIFECYCLE_LOCKED,
} TbLifecycle;

const char *tb_lifecycle_to_string   (TbLifecycle  lifecycle);
gboolean    tb_lifecycle_from_string (const char  *name,
                                      TbLifecycle *lifecycle);

G_END_DECLS
