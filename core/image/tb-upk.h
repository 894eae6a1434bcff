/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cert.h"
#include "tb-key.h"

G_BEGIN_DECLS

/* The Update Protection Key (.tbupk), byte by byte in docs/formats/upk.md. */
#define TB_UPK_MAGIC "TBUPK\r\n\x1a"
#define TB_UPK_VERSION 1
#define TB_UPK_MAX_BYTES (1024u * 1024u)
#define TB_UPK_IMAGE_KEY_LEN 32
#define TB_UPK_WRAPPED_KEY_LEN 40
#define TB_UPK_KEY_ID_LEN 32
#define TB_UPK_EPHEMERAL_LEN 65
#define TB_UPK_IMAGE_ID_LEN 16

typedef enum {
  TB_UPK_TLV_PRODUCT = 0x0001,
  TB_UPK_TLV_DEVICE_TYPE = 0x0002,
  TB_UPK_TLV_DEVICE_UID = 0x0003,
  TB_UPK_TLV_VERSION = 0x0004,
  TB_UPK_TLV_SECURITY_COUNTER = 0x0005,
  TB_UPK_TLV_LOAD_ADDRESS = 0x0006,
  TB_UPK_TLV_IMAGE_SIZE = 0x0007,
  TB_UPK_TLV_PLAINTEXT_SHA256 = 0x0008,
  TB_UPK_TLV_IMAGE_HEADER_SHA256 = 0x0009,
  TB_UPK_TLV_IMAGE_ID = 0x000a,
  TB_UPK_TLV_RECIPIENT = 0x000b,
  TB_UPK_TLV_SIGNER_CERT = 0x000c,
  TB_UPK_TLV_CREATED = 0x000d,
  TB_UPK_TLV_ENTRY_POINT = 0x000e,
  TB_UPK_TLV_SIGNATURE = 0x00ff,
} TbUpkTlv;

typedef enum {
  TB_UPK_RECIPIENT_PRODUCT = 1,
  TB_UPK_RECIPIENT_DEVICE = 2,
} TbUpkRecipientKind;

typedef enum {
  TB_UPK_SIG_ECDSA_P256_SHA256 = 1,
  TB_UPK_SIG_ECDSA_P384_SHA384 = 2,
  TB_UPK_SIG_ED25519 = 3,
  TB_UPK_SIG_RSA_PKCS1_SHA256 = 4,
} TbUpkSignatureAlgorithm;

typedef struct {
  TbUpkRecipientKind kind;
  char *id;                                   /* product name or device UID (hex) */
  guint8 key_id[TB_UPK_KEY_ID_LEN];           /* SHA-256 of the recipient's SubjectPublicKeyInfo */
  guint8 ephemeral[TB_UPK_EPHEMERAL_LEN];     /* uncompressed P-256 point */
  guint8 wrapped_key[TB_UPK_WRAPPED_KEY_LEN]; /* RFC 3394 AES key wrap of the image key */
} TbUpkRecipient;

#define TB_TYPE_UPK (tb_upk_get_type ())
G_DECLARE_FINAL_TYPE (TbUpk, tb_upk, TB, UPK, GObject)

TbUpk       *tb_upk_new                    (void);
TbUpk       *tb_upk_parse                  (const guint8   *data,
                                            gsize           len,
                                            const char     *origin,
                                            GError        **error);
TbUpk       *tb_upk_load_file              (const char     *path,
                                            GError        **error);
GBytes      *tb_upk_sign                   (TbUpk          *self,
                                            TbCert         *signer_cert,
                                            TbKey          *signer_key,
                                            GError        **error);
gboolean     tb_upk_verify_signature       (TbUpk          *self,
                                            GError        **error);
gboolean     tb_upk_add_recipient          (TbUpk          *self,
                                            TbUpkRecipientKind kind,
                                            const char     *id,
                                            TbKey          *recipient,
                                            const guint8   *image_key,
                                            GError        **error);
const TbUpkRecipient *tb_upk_find_recipient (TbUpk         *self,
                                            const char     *public_key_sha256);
gboolean     tb_upk_unwrap_image_key       (TbUpk          *self,
                                            TbKey          *recipient,
                                            guint8         *image_key,
                                            GError        **error);

void         tb_upk_set_product            (TbUpk          *self,
                                            const char     *product);
const char  *tb_upk_get_product            (TbUpk          *self);
void         tb_upk_add_device_type        (TbUpk          *self,
                                            const char     *device_type);
const char *const *tb_upk_get_device_types (TbUpk          *self);
void         tb_upk_add_device_uid         (TbUpk          *self,
                                            const char     *uid_hex);
const char *const *tb_upk_get_device_uids  (TbUpk          *self);
void         tb_upk_set_version            (TbUpk          *self,
                                            const char     *version);
const char  *tb_upk_get_version            (TbUpk          *self);
void         tb_upk_set_security_counter   (TbUpk          *self,
                                            guint32         counter);
guint32      tb_upk_get_security_counter   (TbUpk          *self);
void         tb_upk_set_load_address       (TbUpk          *self,
                                            guint64         address);
guint64      tb_upk_get_load_address       (TbUpk          *self);
void         tb_upk_set_image_size         (TbUpk          *self,
                                            guint64         size);
guint64      tb_upk_get_image_size         (TbUpk          *self);
void         tb_upk_set_entry_point        (TbUpk          *self,
                                            guint64         entry);
gboolean     tb_upk_get_entry_point        (TbUpk          *self,
                                            guint64        *entry);
void         tb_upk_set_plaintext_sha256   (TbUpk          *self,
                                            const guint8   *digest);
const guint8 *tb_upk_get_plaintext_sha256  (TbUpk          *self);
void         tb_upk_set_image_header_sha256 (TbUpk         *self,
                                            const guint8   *digest);
const guint8 *tb_upk_get_image_header_sha256 (TbUpk        *self);
void         tb_upk_set_image_id           (TbUpk          *self,
                                            const guint8   *image_id);
const guint8 *tb_upk_get_image_id          (TbUpk          *self);
void         tb_upk_set_created            (TbUpk          *self,
                                            guint64         unix_time);
guint64      tb_upk_get_created            (TbUpk          *self);
guint        tb_upk_get_n_recipients       (TbUpk          *self);
const TbUpkRecipient *tb_upk_get_recipient (TbUpk          *self,
                                            guint           index);
TbCert      *tb_upk_get_signer_cert        (TbUpk          *self);
const char  *tb_upk_signature_algorithm_to_string (TbUpkSignatureAlgorithm alg);
TbUpkSignatureAlgorithm tb_upk_get_signature_algorithm (TbUpk *self);

gboolean     tb_semver_is_valid            (const char     *version,
                                            GError        **error);

G_END_DECLS
