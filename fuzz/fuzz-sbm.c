/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Fuzz harness for the reference SBM (core/device/sbm/): the commands a
 * host writes into the mailbox, the signature table and the staged update
 * it reads from flash at boot. The SBM runs on an in-memory platform
 * (128 KiB of flash in 1 KiB pages, an OTP, the mailbox), as it would on a
 * Cortex-M, so nothing but the SBM is exercised.
 *
 * Input: one flags byte, then operations, each an opcode byte, a 16-bit
 * little-endian length and that many bytes:
 *   0  mailbox command: payload[0] is the command, the rest its request
 *   1  mailbox command with a raw length word: payload[0] the command,
 *      payload[1..4] the length field (little-endian), the rest the request
 *   2  flash write: a 32-bit little-endian offset, then the bytes (a
 *      journal record, a staged update, a corrupted page: whatever an
 *      attacker with flash access or a cut could leave)
 *   3  reset: the SBM boots again
 *   4  power cut: the session is abandoned, then a reset
 * Flags: bit 0 uses the OpenSSL crypto backend (tb-sbm-crypto-openssl.c,
 * real signatures: the fuzzer reaches the parsers in front of the checks
 * and feeds OpenSSL hostile points and signatures); clear, a transparent
 * backend whose checks the input can satisfy (SHA-256 is all zeros, a
 * signature "verifies" when it starts with a DER SEQUENCE, a key unwraps
 * when it starts with 0xa6, a chunk authenticates when its tag starts with
 * 0) lets the fuzzer past every signature, into the header, chunk,
 * journal and copy logic. Bits 1–2 are the lifecycle; bit 3 leaves the
 * provisioned items (anchor, product, product key) out of the OTP. */

#include "config.h"

#include <string.h>

#include "tb-fuzz.h"
#include "tb-sbm-crypto-openssl.h"
#include "sbm/tb-sbm.h"

#define FLASH_SIZE (128u * 1024u)
#define PAGE_SIZE 1024u
#define MAX_OPS 64

typedef struct {
  guint8 flash[FLASH_SIZE];
  guint8 mailbox[TB_MB_SIZE];
  guint8 lifecycle;
  gboolean provisioned;
  guint8 anchor[65];
  guint8 product[64];
  gsize product_len;
  guint8 product_key[32];
  guint8 cert[128];
  gsize cert_len;
} Board;

static Board board;

static const guint8 device_private_key[32] = {
  0x51, 0x9b, 0x42, 0x3d, 0x71, 0x5f, 0x8b, 0x58, 0x1f, 0x4f, 0xa8, 0xee, 0x59, 0xf4, 0x77, 0x1a,
  0x5b, 0x44, 0xc8, 0x13, 0x0b, 0x4e, 0x3e, 0xac, 0xca, 0x54, 0xa5, 0x6d, 0xda, 0x72, 0xb4, 0x64,
};
static guint8 device_public_key[65];
static gboolean trace;
static const guint8 uid[8] = { 0x10, 0x32, 0x54, 0x76, 0x98, 0xba, 0xdc, 0xfe };
static const char device_type[] = "tb-vmcu-m4";

/* ---- the in-memory platform ---- */

static int
flash_read (void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
  Board *b = ctx;

  if (offset > FLASH_SIZE || len > FLASH_SIZE - offset)
    return -1;
  memcpy (buf, b->flash + offset, len);
  return 0;
}

static int
flash_erase (void *ctx, uint32_t offset)
{
  Board *b = ctx;

  if (offset >= FLASH_SIZE || offset % PAGE_SIZE != 0)
    return -1;
  memset (b->flash + offset, 0xff, PAGE_SIZE);
  return 0;
}

/* NOR semantics: programming only clears bits */
static int
flash_program (void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
  Board *b = ctx;

  if (offset > FLASH_SIZE || len > FLASH_SIZE - offset)
    return -1;
  for (size_t i = 0; i < len; i++)
    b->flash[offset + i] &= data[i];
  return 0;
}

static int
otp_item (const void *value, size_t len, uint8_t *buf, size_t cap)
{
  if (len > cap)
    return -1;
  memcpy (buf, value, len);
  return (int) len;
}

static int
otp_read (void *ctx, int item, uint8_t *buf, size_t cap)
{
  Board *b = ctx;

  switch (item)
    {
    case TB_OTP_UID: return otp_item (uid, sizeof uid, buf, cap);
    case TB_OTP_DEVICE_TYPE: return otp_item (device_type, strlen (device_type), buf, cap);
    case TB_OTP_DEVICE_PRIVATE_KEY: return otp_item (device_private_key, 32, buf, cap);
    case TB_OTP_DEVICE_PUBLIC_KEY: return otp_item (device_public_key, 65, buf, cap);
    case TB_OTP_LIFECYCLE: return otp_item (&b->lifecycle, 1, buf, cap);
    default: break;
    }
  if (!b->provisioned)
    return -1;
  switch (item)
    {
    case TB_OTP_ANCHOR: return otp_item (b->anchor, 65, buf, cap);
    case TB_OTP_PRODUCT: return otp_item (b->product, b->product_len, buf, cap);
    case TB_OTP_PRODUCT_KEY: return otp_item (b->product_key, 32, buf, cap);
    case TB_OTP_DEVICE_CERT: return otp_item (b->cert, b->cert_len, buf, cap);
    default: return -1;
    }
}

static int
otp_write (void *ctx, int item, const uint8_t *data, size_t len)
{
  Board *b = ctx;

  switch (item)
    {
    case TB_OTP_LIFECYCLE:
      if (len != 1 || data[0] < b->lifecycle || data[0] > 3)
        return -1;
      b->lifecycle = data[0];
      if (b->lifecycle >= 2)
        b->provisioned = TRUE;
      return 0;
    case TB_OTP_ANCHOR:
      if (len != 65)
        return -1;
      memcpy (b->anchor, data, 65);
      return 0;
    case TB_OTP_PRODUCT:
      if (len > sizeof b->product)
        return -1;
      memcpy (b->product, data, len);
      b->product_len = len;
      return 0;
    case TB_OTP_PRODUCT_KEY:
      if (len != 32)
        return -1;
      memcpy (b->product_key, data, 32);
      return 0;
    case TB_OTP_DEVICE_CERT:
      /* a real OTP is small: a large certificate does not fit */
      if (len > sizeof b->cert)
        return -1;
      memcpy (b->cert, data, len);
      b->cert_len = len;
      return 0;
    default:
      return -1;
    }
}

/* ---- the transparent crypto backend ---- */

static void
stub_sha256_init (TbSbmSha256 *s)
{
  memset (s, 0, sizeof *s);
}

static void
stub_sha256_update (TbSbmSha256 *s, const uint8_t *data, size_t len)
{
  s->opaque[0] += len;
}

static void
stub_sha256_final (TbSbmSha256 *s, uint8_t digest[32])
{
  memset (digest, 0, 32);
}

static int
stub_ecdsa_verify (const uint8_t pub[65], const uint8_t digest[32], const uint8_t *sig, size_t sig_len)
{
  return sig_len > 0 && sig[0] == 0x30 ? 0 : -1;
}

static int
stub_ecdsa_sign (const uint8_t priv[32], const uint8_t digest[32], uint8_t *sig, size_t *sig_len)
{
  static const uint8_t fixed[8] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01 };

  if (*sig_len < sizeof fixed)
    return -1;
  memcpy (sig, fixed, sizeof fixed);
  *sig_len = sizeof fixed;
  return 0;
}

static int
stub_public_key (const uint8_t priv[32], uint8_t pub[65])
{
  pub[0] = 0x04;
  memcpy (pub + 1, priv, 32);
  memcpy (pub + 33, priv, 32);
  return 0;
}

static int
stub_ecdh (const uint8_t priv[32], const uint8_t peer[65], uint8_t shared[32])
{
  if (peer[0] != 0x04)
    return -1;
  for (int i = 0; i < 32; i++)
    shared[i] = priv[i] ^ peer[1 + i];
  return 0;
}

static int
stub_hkdf (const uint8_t *ikm, size_t ikm_len, const uint8_t *salt, size_t salt_len, const uint8_t *info,
           size_t info_len, uint8_t *out, size_t out_len)
{
  for (size_t i = 0; i < out_len; i++)
    out[i] = ikm[i % ikm_len] ^ (salt_len > 0 ? salt[i % salt_len] : 0) ^ (info_len > 0 ? info[i % info_len] : 0);
  return 0;
}

static int
stub_kw_unwrap (const uint8_t kek[32], const uint8_t *in, size_t in_len, uint8_t *out)
{
  if (in_len < 8 || in[0] != 0xa6)
    return -1;
  memcpy (out, in + 8, in_len - 8);
  return 0;
}

static int
stub_gcm_decrypt (const uint8_t key[32], const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                  const uint8_t *in, size_t len, const uint8_t tag[16], uint8_t *out)
{
  if (tag[0] != 0)
    return -1;
  memmove (out, in, len);
  return 0;
}

static void
stub_wipe (void *p, size_t len)
{
  memset (p, 0, len);
}

static const TbSbmCrypto stub_crypto = {
  stub_sha256_init, stub_sha256_update, stub_sha256_final, stub_ecdsa_verify, stub_ecdsa_sign, stub_public_key,
  stub_ecdh, stub_hkdf, stub_kw_unwrap, stub_gcm_decrypt, stub_wipe,
};

/* ---- the harness ---- */

static guint32
rd32le (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static void
wr32le (guint8 *p, guint32 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) (v >> 16);
  p[3] = (guint8) (v >> 24);
}

void
tb_fuzz_setup (void)
{
  /* TB_FUZZ_SBM_TRACE=1: each command's status on stderr, to check a seed */
  trace = g_getenv ("TB_FUZZ_SBM_TRACE") != NULL;
  g_assert (tb_sbm_crypto_openssl ()->p256_public_key (device_private_key, device_public_key) == 0);
}

static void
run_command (TbSbm *sbm, guint32 command, guint32 length, const guint8 *request, gsize request_len)
{
  guint32 status, response_len;

  memset (board.mailbox + TB_MB_HEADER, 0, TB_MB_PAYLOAD_MAX);
  memcpy (board.mailbox + TB_MB_HEADER, request, MIN (request_len, TB_MB_PAYLOAD_MAX));
  wr32le (board.mailbox + TB_MB_OFF_COMMAND, command);
  wr32le (board.mailbox + TB_MB_OFF_LENGTH, length);
  tb_sbm_handle_mailbox (sbm);

  /* an answer is always there, never larger than the mailbox, only on success */
  status = rd32le (board.mailbox + TB_MB_OFF_STATUS);
  response_len = rd32le (board.mailbox + TB_MB_OFF_LENGTH);
  g_assert_cmpuint (rd32le (board.mailbox + TB_MB_OFF_COMMAND), ==, TB_MB_CMD_NONE);
  g_assert (status == TB_MB_STATUS_OK || (status >= TB_MB_ERR_BAD_COMMAND && status <= TB_MB_ERR_ADDRESS));
  g_assert_cmpuint (response_len, <=, TB_MB_PAYLOAD_MAX);
  g_assert (status == TB_MB_STATUS_OK || response_len == 0);
  g_assert_cmpuint (rd32le (board.mailbox + TB_MB_OFF_MAGIC), ==, TB_MB_MAGIC);
  if (trace)
    g_printerr ("command %u (%u bytes): status 0x%02x, %u bytes back\n", command, length, status, response_len);
}

int
LLVMFuzzerTestOneInput (const guint8 *data, size_t size)
{
  TbSbmPlatform platform = { 0 };
  TbSbm sbm;
  gsize pos = 1;
  guint n_ops = 0;

  if (size < 1)
    return 0;
  memset (&board, 0, sizeof board);
  memset (board.flash, 0xff, sizeof board.flash);
  board.lifecycle = (data[0] >> 1) & 3;
  board.provisioned = !(data[0] & 8);
  board.anchor[0] = 0x04;
  memset (board.anchor + 1, 0x11, 64);
  memcpy (board.product, "fuzz", 4);
  board.product_len = 4;
  memset (board.product_key, 0x22, 32);
  platform.ctx = &board;
  platform.flash_size = FLASH_SIZE;
  platform.page_size = PAGE_SIZE;
  platform.flash_base = 0x08000000u;
  platform.flash_read = flash_read;
  platform.flash_erase = flash_erase;
  platform.flash_program = flash_program;
  platform.otp_read = otp_read;
  platform.otp_write = otp_write;
  platform.mailbox = board.mailbox;

  tb_sbm_init (&sbm, &platform, data[0] & 1 ? tb_sbm_crypto_openssl () : &stub_crypto);
  tb_sbm_boot (&sbm);
  while (pos + 3 <= size && n_ops++ < MAX_OPS)
    {
      guint8 op = data[pos];
      gsize len = MIN ((gsize) (data[pos + 1] | data[pos + 2] << 8), size - pos - 3);
      const guint8 *arg = data + pos + 3;

      pos += 3 + len;
      switch (op)
        {
        case 0:
          if (len >= 1)
            run_command (&sbm, arg[0], (guint32) (len - 1), arg + 1, len - 1);
          break;
        case 1:
          if (len >= 5)
            run_command (&sbm, arg[0], rd32le (arg + 1), arg + 5, len - 5);
          break;
        case 2:
          if (len >= 4)
            {
              guint32 offset = rd32le (arg) % FLASH_SIZE;
              memcpy (board.flash + offset, arg + 4, MIN (len - 4, FLASH_SIZE - offset));
            }
          break;
        case 3:
          tb_sbm_boot (&sbm);
          if (trace)
            g_printerr ("reset: boot %d, application “%s”\n", sbm.boot, sbm.app_version);
          break;
        case 4:
          tb_sbm_shutdown (&sbm);
          tb_sbm_init (&sbm, &platform, sbm.c);
          tb_sbm_boot (&sbm);
          break;
        default:
          break;
        }
      g_assert (sbm.boot == TB_SBM_BOOT_OK || sbm.boot == TB_SBM_BOOT_NO_APP || sbm.boot == TB_SBM_BOOT_REFUSED);
    }
  tb_sbm_shutdown (&sbm);
  return 0;
}
