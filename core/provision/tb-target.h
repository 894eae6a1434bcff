/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-app-slot.h"
#include "tb-lifecycle.h"
#include "tb-probe.h"
#include "tb-progress.h"

G_BEGIN_DECLS

typedef struct {
  char *uid;                    /* hex */
  char *device_type;
  guint lifecycle;              /* TbLifecycle */
  guint32 sbm_version;
  guint8 device_public_key[65];
  guint boot;                   /* 0 running, 1 no application, 2 refused */
  char *app_version;            /* "" when none */
  guint32 app_counter;
} TbAttestation;

void         tb_attestation_free  (TbAttestation *att);

typedef struct _TbTarget TbTarget;

TbTarget    *tb_target_new        (TbProbe       *probe);
void         tb_target_set_timeout (TbTarget      *self,
                                   guint          timeout_ms);
void         tb_target_free       (TbTarget      *self);
TbProbe     *tb_target_get_probe  (TbTarget      *self);
gboolean     tb_target_has_sbm    (TbTarget      *self,
                                   GError       **error);
gboolean     tb_target_command    (TbTarget      *self,
                                   guint32        command,
                                   const guint8  *request,
                                   gsize          len,
                                   GByteArray   **response,
                                   GError       **error);
TbAttestation *tb_target_attest   (TbTarget      *self,
                                   GError       **error);
gboolean     tb_target_reset      (TbTarget      *self,
                                   GError       **error);
gboolean     tb_target_wait_ready (TbTarget      *self,
                                   GError       **error);
gboolean     tb_target_install    (TbTarget      *self,
                                   const char    *upk_path,
                                   const char    *image_path,
                                   GBytes       **receipt,
                                   TbProgress    *progress,
                                   GError       **error);

gboolean     tb_target_get_app_slot (TbTarget      *self,
                                   TbAppSlot     *slot,
                                   GError       **error);
GBytes      *tb_target_get_receipt (TbTarget      *self,
                                   const guint8   nonce[32],
                                   GError       **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTarget, tb_target_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbAttestation, tb_attestation_free)

G_END_DECLS
