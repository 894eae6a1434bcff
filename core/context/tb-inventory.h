/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <json-glib/json-glib.h>

#include "tb-context.h"

G_BEGIN_DECLS

/* The name of a product's key when its entry names none (docs/context.md). */
#define TB_KEY_NAME_PRODUCT_PREFIX "product-"

/**
 * TbKeyInfo:
 * @name: the key's name in the context
 * @usage: what the key is for (`root-ca`, `provisioning-ca`, `mastering`,
 *   `product`, `job`); "" when the entry names none
 * @algorithm: `ec-p256`, `ec-p384`, `ed25519` or `rsa-3072`; "" when the
 *   entry names none
 * @storage: where the private half lives: `file` (encrypted PKCS#8 in the
 *   context; also when the entry names none) or the key's `pkcs11:` URI
 * @file: (nullable): the encrypted private key, relative to the context;
 *   %NULL for a key on a token
 * @public_file: (nullable): the public key (PEM), relative to the context
 * @public_key_sha256: the SHA-256 of the public key (hex); "" when the
 *   entry names none
 * @created: (nullable): when the key was stored, ISO 8601 UTC
 *
 * A key as the context lists it (`keys[]` of context.json): read-only,
 * made by the core, a copy that a later change of the context does not
 * change. The key itself is tb_key_load()'s.
 */
typedef struct {
  char *name;
  char *usage;
  char *algorithm;
  char *storage;
  char *file;
  char *public_file;
  char *public_key_sha256;
  char *created;
} TbKeyInfo;

/**
 * TbCertInfo:
 * @name: the certificate's name in the context
 * @key: (nullable): the context's key it certifies, if any
 * @file: (nullable): the PEM file, relative to the context
 * @subject: the subject DN; "" when the entry names none
 * @issuer: the issuer DN; "" when the entry names none
 * @serial: the serial number (hex); "" when the entry names none
 * @not_before: start of validity, ISO 8601 UTC; "" when the entry names none
 * @not_after: end of validity, ISO 8601 UTC; "" when the entry names none
 * @sha256: (nullable): the fingerprint of the DER certificate (hex)
 * @revoked: (nullable): when it was revoked, ISO 8601 UTC; %NULL while it
 *   is not
 * @revocation_reason: (nullable): why, when it was revoked with a reason
 *
 * A certificate as the context lists it (`certificates[]`): read-only,
 * like #TbKeyInfo. The certificate itself is tb_cert_load()'s.
 */
typedef struct {
  char *name;
  char *key;
  char *file;
  char *subject;
  char *issuer;
  char *serial;
  char *not_before;
  char *not_after;
  char *sha256;
  char *revoked;
  char *revocation_reason;
} TbCertInfo;

/**
 * TbProductInfo:
 * @name: the product's name in the context
 * @key: the name of the product's key: the entry's `key`, else
 *   `product-NAME`
 * @description: (nullable): what the product is, in words
 * @device_types: (array zero-terminated=1): the device types the product
 *   is built on; empty when the entry names none
 *
 * A product as the context lists it (`products[]`): read-only, like
 * #TbKeyInfo.
 */
typedef struct {
  char *name;
  char *key;
  char *description;
  GStrv device_types;
} TbProductInfo;

#define TB_TYPE_KEY_INFO (tb_key_info_get_type ())
#define TB_TYPE_CERT_INFO (tb_cert_info_get_type ())
#define TB_TYPE_PRODUCT_INFO (tb_product_info_get_type ())

GType          tb_key_info_get_type          (void) G_GNUC_CONST;
TbKeyInfo     *tb_key_info_copy              (const TbKeyInfo     *info);
void           tb_key_info_free              (TbKeyInfo           *info);
GType          tb_cert_info_get_type         (void) G_GNUC_CONST;
TbCertInfo    *tb_cert_info_copy             (const TbCertInfo    *info);
void           tb_cert_info_free             (TbCertInfo          *info);
GType          tb_product_info_get_type      (void) G_GNUC_CONST;
TbProductInfo *tb_product_info_copy          (const TbProductInfo *info);
void           tb_product_info_free          (TbProductInfo       *info);

GPtrArray     *tb_context_list_keys          (TbContext           *self);
GPtrArray     *tb_context_list_certificates  (TbContext           *self);
GPtrArray     *tb_context_list_products      (TbContext           *self);
TbKeyInfo     *tb_context_lookup_key         (TbContext           *self,
                                              const char          *name,
                                              GError             **error);
TbCertInfo    *tb_context_lookup_certificate (TbContext           *self,
                                              const char          *name,
                                              GError             **error);
TbProductInfo *tb_context_lookup_product     (TbContext           *self,
                                              const char          *name,
                                              GError             **error);
char          *tb_context_dup_product_key_name (TbContext         *self,
                                               const char        *product);
gboolean       tb_context_check_product      (TbContext           *self,
                                              const char          *name,
                                              GError             **error);

gboolean       tb_context_has_entry          (TbContext           *self,
                                              TbInventory          inventory,
                                              const char          *id);
GStrv          tb_context_dup_ids            (TbContext           *self,
                                              TbInventory          inventory);
gboolean       tb_context_add_product        (TbContext           *self,
                                              const char          *name,
                                              GError             **error);

/* For output formats that show an inventory as it is stored (the command
 * line's --json): every member, the ones this build does not know too.
 * Nothing reads entries from it. */
JsonNode      *tb_context_inventory_to_json  (TbContext           *self,
                                              TbInventory          inventory);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbKeyInfo, tb_key_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbCertInfo, tb_cert_info_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbProductInfo, tb_product_info_free)

G_END_DECLS
