/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* The reference Secure Boot Manager: plain C (no GLib, no OpenSSL), all
 * platform access and cryptography behind the two narrow interfaces
 * below, one fixed RAM buffer (the mailbox), so it can be built for a
 * Cortex-M. The mailbox protocol and the flash layout are in
 * docs/mailbox.md. */

#include <stddef.h>
#include <stdint.h>

#define TB_SBM_VERSION 0x00010000u            /* 1.0.0 */
/* the longest image version the SBM keeps (its signature table's field) */
#define TB_SBM_IMAGE_VERSION_MAX_LEN 31

/* mailbox layout (in target RAM, at its start: the host finds it there) */
#define TB_MB_ADDRESS 0x20000000u
#define TB_MB_MAGIC 0x424d4254u               /* "TBMB" */
#define TB_MB_OFF_MAGIC 0x00
#define TB_MB_OFF_COMMAND 0x04
#define TB_MB_OFF_STATUS 0x08
#define TB_MB_OFF_LENGTH 0x0c
#define TB_MB_OFF_SEQUENCE 0x10
#define TB_MB_HEADER 0x20
#define TB_MB_SIZE 8192u
#define TB_MB_PAYLOAD_MAX (TB_MB_SIZE - TB_MB_HEADER)

enum {
  TB_MB_CMD_NONE = 0,
  TB_MB_CMD_ATTEST = 1,
  TB_MB_CMD_PROVISION = 2,
  TB_MB_CMD_INSTALL_BEGIN = 3,
  TB_MB_CMD_INSTALL_HEADER = 4,
  TB_MB_CMD_INSTALL_CHUNK = 5,
  TB_MB_CMD_INSTALL_FINISH = 6,
  TB_MB_CMD_RECEIPT = 7,
  TB_MB_CMD_LAYOUT = 8,
};

enum {
  TB_MB_STATUS_IDLE = 0,
  TB_MB_STATUS_BUSY = 1,
  TB_MB_STATUS_OK = 2,
  TB_MB_ERR_BAD_COMMAND = 0x80,
  TB_MB_ERR_BAD_REQUEST = 0x81,
  TB_MB_ERR_STATE = 0x82,
  TB_MB_ERR_SIGNATURE = 0x83,
  TB_MB_ERR_PRODUCT = 0x84,
  TB_MB_ERR_DEVICE = 0x85,
  TB_MB_ERR_ROLLBACK = 0x86,
  TB_MB_ERR_RECIPIENT = 0x87,
  TB_MB_ERR_CHUNK = 0x88,
  TB_MB_ERR_DIGEST = 0x89,
  TB_MB_ERR_FLASH = 0x8a,
  TB_MB_ERR_CRYPTO = 0x8b,
  TB_MB_ERR_TOO_LARGE = 0x8c,
  TB_MB_ERR_ADDRESS = 0x8d,
};

/* OTP items */
enum {
  TB_OTP_UID = 1,
  TB_OTP_DEVICE_TYPE = 2,
  TB_OTP_DEVICE_PRIVATE_KEY = 3,      /* 32-byte P-256 scalar, never leaves the SBM */
  TB_OTP_DEVICE_PUBLIC_KEY = 4,       /* 65-byte point */
  TB_OTP_ANCHOR = 5,                  /* the mastering public key, 65 bytes */
  TB_OTP_PRODUCT = 6,                 /* product name */
  TB_OTP_PRODUCT_KEY = 7,             /* 32-byte P-256 scalar */
  TB_OTP_DEVICE_CERT = 8,             /* DER */
  TB_OTP_LIFECYCLE = 9,               /* 1 byte: 0 blank, 1 sbm, 2 provisioned, 3 locked */
};

typedef struct {
  void *ctx;
  uint32_t flash_size;
  uint32_t page_size;
  uint32_t flash_base;   /* the flash's address in the memory map */
  int (*flash_read) (void *ctx, uint32_t offset, uint8_t *buf, size_t len);
  int (*flash_erase) (void *ctx, uint32_t offset);
  int (*flash_program) (void *ctx, uint32_t offset, const uint8_t *data, size_t len);
  /* returns the item's length, or -1; @cap is the buffer's size */
  int (*otp_read) (void *ctx, int item, uint8_t *buf, size_t cap);
  int (*otp_write) (void *ctx, int item, const uint8_t *data, size_t len);
  uint8_t *mailbox;                   /* TB_MB_SIZE bytes of target RAM */
} TbSbmPlatform;

/* SHA-256 state is opaque to the SBM: large enough for any implementation */
typedef struct {
  uint64_t opaque[32];
} TbSbmSha256;

typedef struct {
  void (*sha256_init) (TbSbmSha256 *s);
  void (*sha256_update) (TbSbmSha256 *s, const uint8_t *data, size_t len);
  void (*sha256_final) (TbSbmSha256 *s, uint8_t digest[32]);
  int (*ecdsa_p256_verify) (const uint8_t pub[65], const uint8_t digest[32], const uint8_t *sig_der, size_t sig_len);
  int (*ecdsa_p256_sign) (const uint8_t priv[32], const uint8_t digest[32], uint8_t *sig_der, size_t *sig_len);
  int (*p256_public_key) (const uint8_t priv[32], uint8_t pub[65]);
  int (*ecdh_p256) (const uint8_t priv[32], const uint8_t peer[65], uint8_t shared[32]);
  int (*hkdf_sha256) (const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const uint8_t *info,
                      size_t info_len, uint8_t *out, size_t out_len);
  int (*aes256_kw_unwrap) (const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out);
  int (*aes256_gcm_decrypt) (const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                             const uint8_t *in, size_t len, const uint8_t tag[16], uint8_t *out);
  void (*wipe) (void *p, size_t len);
} TbSbmCrypto;

/* The flash layout the SBM manages (offsets from the flash base). */
#define TB_SBM_REGION_SIZE (16u * 1024u)
/* The application slot starts here at the earliest (flash base + 32 KiB):
 * images are linked for that address. */
#define TB_SBM_APP_MIN_OFFSET (32u * 1024u)

typedef enum {
  TB_SBM_BOOT_OK = 0,
  TB_SBM_BOOT_NO_APP = 1,
  TB_SBM_BOOT_REFUSED = 2,
} TbSbmBootResult;

typedef struct {
  const TbSbmPlatform *p;
  const TbSbmCrypto *c;
  /* install session (kept in SBM RAM) */
  int installing;
  int hashing;
  uint8_t image_key[32];
  uint8_t image_id[16];
  uint8_t plaintext_sha256[32];
  uint8_t header_sha256[32];
  uint8_t nonce_prefix[8];
  uint32_t chunk_size;
  uint32_t chunk_count;
  uint32_t next_chunk;
  uint64_t image_size;
  uint32_t counter;
  char version[33];
  TbSbmSha256 running;
  /* boot state */
  TbSbmBootResult boot;
  char app_version[33];
  uint32_t app_counter;
} TbSbm;

void            tb_sbm_init             (TbSbm *sbm, const TbSbmPlatform *p, const TbSbmCrypto *c);
TbSbmBootResult tb_sbm_boot             (TbSbm *sbm);
void            tb_sbm_handle_mailbox   (TbSbm *sbm);
void            tb_sbm_shutdown         (TbSbm *sbm);
uint32_t        tb_sbm_app_offset       (const TbSbmPlatform *p);
uint32_t        tb_sbm_slot_size        (const TbSbmPlatform *p);
uint32_t        tb_sbm_update_offset    (const TbSbmPlatform *p);
#define TB_SBM_UPDATE_HEADER 16u
