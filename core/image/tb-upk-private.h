/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the pieces of TbUpk share (tb-upk.c: the object, key wrapping,
 * signing, accessors; tb-upk-parse.c: parsing and verifying the
 * signature): its fields and the header's length. */

#include "tb-upk.h"

G_BEGIN_DECLS

#define HEADER_LEN 12

struct _TbUpk {
  GObject parent_instance;

  char *origin;
  char *product;
  GPtrArray *device_types;
  GPtrArray *device_uids;
  char *version;
  guint32 security_counter;
  guint64 load_address;
  guint64 image_size;
  gboolean has_entry;
  guint64 entry;
  guint8 plaintext_sha256[32];
  guint8 header_sha256[32];
  guint8 image_id[TB_UPK_IMAGE_ID_LEN];
  guint64 created;
  GArray *recipients;             /* TbUpkRecipient */
  TbCert *signer;
  TbUpkSignatureAlgorithm sig_alg;
  GBytes *signed_bytes;           /* parsed: the bytes the signature covers */
  GBytes *signature;
};

G_END_DECLS
