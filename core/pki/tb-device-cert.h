/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-key.h"

G_BEGIN_DECLS

/* A device reports its public key as an uncompressed P-256 point. */
#define TB_DEVICE_POINT_LEN 65
#define TB_DEVICE_UID_MAX_LEN 64

typedef struct _TbDeviceCertIssuer TbDeviceCertIssuer;

TbDeviceCertIssuer *tb_device_cert_issuer_new   (TbCert              *issuer,
                                                 TbKey               *issuer_key,
                                                 const char          *organization,
                                                 guint                days,
                                                 GError             **error);
GBytes             *tb_device_cert_issuer_issue (TbDeviceCertIssuer  *self,
                                                 const guint8        *point,
                                                 gsize                point_len,
                                                 const char          *uid_hex,
                                                 GError             **error);
void                tb_device_cert_issuer_free  (TbDeviceCertIssuer  *self);

gboolean            tb_device_uid_is_valid      (const char          *uid_hex,
                                                 GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbDeviceCertIssuer, tb_device_cert_issuer_free)

G_END_DECLS
