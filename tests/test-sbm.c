/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The reference SBM's checks in isolation (core/device/sbm, docs/mailbox.md):
 * the SBM with its OpenSSL crypto backend on a platform made here (flash,
 * OTP and mailbox in memory; no virtual board, no probe), driven through
 * its mailbox. Every command's refusals, each with the exact status, and
 * what a refusal leaves: nothing written, the application as it was. */

#include "config.h"

#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-crypto.h"
#include "tb-key-private.h"
#include "tb-sbm-crypto-openssl.h"
#include "tb-test-oem.h"
#include "tb-test-util.h"
#include "trustbench.h"
#include "tb-sbm-image.h"

#define FLASH_BASE 0x08000000u
#define FLASH_SIZE (256u * 1024u)
#define PAGE_SIZE 1024u
#define N_OTP 10
#define OTP_CAP 2048

static TbTestOem *oem;
static TbTestMastered *app;         /* 9000 bytes, counter 1, version 1.0.0 */
static TbTestMastered *app2;        /* counter 2, version 1.1.0 */

typedef struct {
  guint8 flash[FLASH_SIZE];
  guint8 otp[N_OTP][OTP_CAP];
  int otp_len[N_OTP];               /* -1: not written */
  guint8 mailbox[TB_MB_SIZE];
  guint n_erase, n_program;
  TbSbmPlatform p;
  TbSbm sbm;
  guint8 scalar[32];
  guint8 point[65];
} Board;

/* ---- the platform: NOR flash (erase to 0xff, program clears bits), OTP ---- */

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
  b->n_erase++;
  return 0;
}

static int
flash_program (void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
  Board *b = ctx;

  if (offset > FLASH_SIZE || len > FLASH_SIZE - offset || offset / PAGE_SIZE != (offset + len - 1) / PAGE_SIZE)
    return -1;
  for (size_t i = 0; i < len; i++)
    b->flash[offset + i] &= data[i];
  b->n_program++;
  return 0;
}

static int
otp_read (void *ctx, int item, uint8_t *buf, size_t cap)
{
  Board *b = ctx;

  if (item <= 0 || item >= N_OTP || b->otp_len[item] < 0 || (size_t) b->otp_len[item] > cap)
    return -1;
  memcpy (buf, b->otp[item], (size_t) b->otp_len[item]);
  return b->otp_len[item];
}

/* write once, except the lifecycle, which only moves forward */
static int
otp_write (void *ctx, int item, const uint8_t *data, size_t len)
{
  Board *b = ctx;

  if (item <= 0 || item >= N_OTP || len > OTP_CAP)
    return -1;
  if (item == TB_OTP_LIFECYCLE)
    {
      if (len != 1 || (b->otp_len[item] == 1 && data[0] < b->otp[item][0]))
        return -1;
    }
  else if (b->otp_len[item] >= 0)
    return -1;
  memcpy (b->otp[item], data, len);
  b->otp_len[item] = (int) len;
  return 0;
}

static void
board_set_otp (Board *b, int item, const void *data, gsize len)
{
  memcpy (b->otp[item], data, len);
  b->otp_len[item] = (int) len;
}

/* A device fresh from the factory with the SBM installed (lifecycle 1):
 * UID 0a0b0c0d, type tb-vmcu-m4, its own key. */
static guint32
rd32le (const guint8 *p)
{
  return (guint32) p[0] | (guint32) p[1] << 8 | (guint32) p[2] << 16 | (guint32) p[3] << 24;
}

static Board *
board_new (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) key = tb_key_generate ("ec-p256", &error);
  Board *b = g_new0 (Board, 1);
  guint8 lifecycle = 1;

  g_assert_no_error (error);
  memset (b->flash, 0xff, sizeof b->flash);
  for (int i = 0; i < N_OTP; i++)
    b->otp_len[i] = -1;
  g_assert_true (tb_key_get_p256_scalar (key, b->scalar));
  g_assert_true (tb_key_get_p256_point (key, b->point));
  board_set_otp (b, TB_OTP_UID, "\x0a\x0b\x0c\x0d", 4);
  board_set_otp (b, TB_OTP_DEVICE_TYPE, "tb-vmcu-m4", 10);
  board_set_otp (b, TB_OTP_DEVICE_PRIVATE_KEY, b->scalar, 32);
  board_set_otp (b, TB_OTP_DEVICE_PUBLIC_KEY, b->point, 65);
  board_set_otp (b, TB_OTP_LIFECYCLE, &lifecycle, 1);
  b->p.ctx = b;
  b->p.flash_size = FLASH_SIZE;
  b->p.page_size = PAGE_SIZE;
  b->p.flash_base = FLASH_BASE;
  b->p.flash_read = flash_read;
  b->p.flash_erase = flash_erase;
  b->p.flash_program = flash_program;
  b->p.otp_read = otp_read;
  b->p.otp_write = otp_write;
  b->p.mailbox = b->mailbox;
  tb_sbm_init (&b->sbm, &b->p, tb_sbm_crypto_openssl ());
  g_assert_cmpuint (rd32le (b->mailbox + TB_MB_OFF_MAGIC), ==, 0);
  tb_sbm_boot (&b->sbm);
  return b;
}

static void
board_free (Board *b)
{
  tb_sbm_shutdown (&b->sbm);
  g_free (b);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Board, board_free)

static TbSbmBootResult
board_reset (Board *b)
{
  tb_sbm_shutdown (&b->sbm);
  memset (b->mailbox, 0, sizeof b->mailbox);
  tb_sbm_init (&b->sbm, &b->p, tb_sbm_crypto_openssl ());
  return tb_sbm_boot (&b->sbm);
}

/* Provisioned straight into OTP (PROVISION itself is tested below): the
 * OEM's mastering key as the anchor, its product and product key. */
static void
board_provision (Board *b, const char *product, const guint8 *anchor, const guint8 *product_scalar)
{
  guint8 lifecycle = 2;
  g_autoptr(TbKey) mastering = NULL, product_key = NULL;
  guint8 point[65], scalar[32];

  if (anchor == NULL)
    {
      mastering = tb_test_oem_key (oem, TB_KEY_NAME_MASTERING);
      g_assert_true (tb_key_get_p256_point (mastering, point));
      anchor = point;
    }
  if (product_scalar == NULL)
    {
      g_autofree char *name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, oem->product, NULL);
      product_key = tb_test_oem_key (oem, name);
      g_assert_true (tb_key_get_p256_scalar (product_key, scalar));
      product_scalar = scalar;
    }
  board_set_otp (b, TB_OTP_ANCHOR, anchor, 65);
  board_set_otp (b, TB_OTP_PRODUCT, product != NULL ? product : oem->product,
                 strlen (product != NULL ? product : oem->product));
  board_set_otp (b, TB_OTP_PRODUCT_KEY, product_scalar, 32);
  board_set_otp (b, TB_OTP_DEVICE_CERT, "\x30\x00", 2);
  board_set_otp (b, TB_OTP_LIFECYCLE, &lifecycle, 1);
}

/* ---- the mailbox, as the host drives it ---- */

static void
wr32le (guint8 *p, guint32 v)
{
  p[0] = (guint8) v;
  p[1] = (guint8) (v >> 8);
  p[2] = (guint8) (v >> 16);
  p[3] = (guint8) (v >> 24);
}

static guint32
rd32be (const guint8 *p)
{
  return (guint32) p[0] << 24 | (guint32) p[1] << 16 | (guint32) p[2] << 8 | p[3];
}

/* Runs one command; returns the status. The response is at
 * mailbox + TB_MB_HEADER, *response_len bytes long. */
static guint32
call_with_length (Board *b, guint32 command, const void *payload, gsize len, guint32 length, gsize *response_len)
{
  guint32 status;

  g_assert_cmpuint (len, <=, TB_MB_PAYLOAD_MAX);
  if (len > 0)
    memcpy (b->mailbox + TB_MB_HEADER, payload, len);
  wr32le (b->mailbox + TB_MB_OFF_LENGTH, length);
  wr32le (b->mailbox + TB_MB_OFF_SEQUENCE, rd32le (b->mailbox + TB_MB_OFF_SEQUENCE) + 1);
  wr32le (b->mailbox + TB_MB_OFF_COMMAND, command);
  tb_sbm_handle_mailbox (&b->sbm);
  g_assert_cmpuint (rd32le (b->mailbox + TB_MB_OFF_COMMAND), ==, TB_MB_CMD_NONE);
  status = rd32le (b->mailbox + TB_MB_OFF_STATUS);
  if (status != TB_MB_STATUS_OK)
    g_assert_cmpuint (rd32le (b->mailbox + TB_MB_OFF_LENGTH), ==, 0);
  if (response_len != NULL)
    *response_len = rd32le (b->mailbox + TB_MB_OFF_LENGTH);
  return status;
}

static guint32
call (Board *b, guint32 command, const void *payload, gsize len, gsize *response_len)
{
  return call_with_length (b, command, payload, len, (guint32) len, response_len);
}

typedef struct {
  GBytes *upk;
  GBytes *image;
} Pair;

static void
pair_load (Pair *p, const TbTestMastered *m)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GMappedFile) upk = g_mapped_file_new (m->upk, FALSE, &error);
  g_autoptr(GMappedFile) image = NULL;

  g_assert_no_error (error);
  image = g_mapped_file_new (m->image, FALSE, &error);
  g_assert_no_error (error);
  p->upk = g_mapped_file_get_bytes (upk);
  p->image = g_mapped_file_get_bytes (image);
}

static void
pair_clear (Pair *p)
{
  g_clear_pointer (&p->upk, g_bytes_unref);
  g_clear_pointer (&p->image, g_bytes_unref);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (Pair, pair_clear)

/* Sends chunks [first, last) of @image as they are in the file. */
static guint32
send_chunks (Board *b, GBytes *image, guint32 first, guint32 last)
{
  g_autoptr(GError) error = NULL;
  const guint8 *data = g_bytes_get_data (image, NULL);
  TbImageHeader h;

  g_assert_true (tb_image_header_decode (data, &h, "image", &error));
  g_assert_no_error (error);
  for (guint32 i = first; i < last && i < h.chunk_count; i++)
    {
      gsize n = MIN (h.chunk_size, h.plaintext_size - (guint64) i * h.chunk_size);
      g_autofree guint8 *req = g_malloc (4 + n + 16);
      guint32 status;

      req[0] = (guint8) (i >> 24);
      req[1] = (guint8) (i >> 16);
      req[2] = (guint8) (i >> 8);
      req[3] = (guint8) i;
      memcpy (req + 4, data + 64 + (gsize) i * (h.chunk_size + 16), n + 16);
      status = call (b, TB_MB_CMD_INSTALL_CHUNK, req, 4 + n + 16, NULL);
      if (status != TB_MB_STATUS_OK)
        return status;
    }
  return TB_MB_STATUS_OK;
}

/* A whole install; the first status that is not OK, or OK. */
static guint32
install (Board *b, const TbTestMastered *m, gsize *receipt_len)
{
  g_auto(Pair) p = { NULL, NULL };
  guint32 status;

  pair_load (&p, m);
  status = call (b, TB_MB_CMD_INSTALL_BEGIN, g_bytes_get_data (p.upk, NULL), g_bytes_get_size (p.upk), NULL);
  if (status == TB_MB_STATUS_OK)
    status = call (b, TB_MB_CMD_INSTALL_HEADER, g_bytes_get_data (p.image, NULL), 64, NULL);
  if (status == TB_MB_STATUS_OK)
    status = send_chunks (b, p.image, 0, G_MAXUINT32);
  if (status == TB_MB_STATUS_OK)
    status = call (b, TB_MB_CMD_INSTALL_FINISH, NULL, 0, receipt_len);
  return status;
}

static void
assert_app_is (Board *b, const TbTestMastered *m)
{
  guint32 app_offset = tb_sbm_app_offset (&b->p);
  g_assert_cmpmem (b->flash + app_offset, m->plain_len, m->plain, m->plain_len);
}

static gboolean
app_slot_is_erased (Board *b)
{
  guint32 app_offset = tb_sbm_app_offset (&b->p);

  for (guint32 i = 0; i < tb_sbm_slot_size (&b->p); i++)
    if (b->flash[app_offset + i] != 0xff)
      return FALSE;
  return TRUE;
}

/* ---- tests ---- */

static void
test_layout (void)
{
  g_autoptr(Board) b = board_new ();
  gsize len = 0;
  const guint8 *r = b->mailbox + TB_MB_HEADER;

  g_assert_cmpuint (rd32le (b->mailbox + TB_MB_OFF_MAGIC), ==, TB_MB_MAGIC);
  g_assert_cmpuint (tb_sbm_app_offset (&b->p), ==, 32 * 1024);
  g_assert_cmpuint (tb_sbm_slot_size (&b->p), ==, (FLASH_SIZE - 32 * 1024) / 3 / PAGE_SIZE * PAGE_SIZE);
  g_assert_cmpuint (tb_sbm_update_offset (&b->p), ==, 32 * 1024 + 2 * tb_sbm_slot_size (&b->p));
  g_assert_cmpuint (call (b, TB_MB_CMD_LAYOUT, NULL, 0, &len), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (len, ==, 12);
  g_assert_cmpuint (rd32be (r), ==, FLASH_BASE + 32 * 1024);
  g_assert_cmpuint (rd32be (r + 4), ==, tb_sbm_slot_size (&b->p));
  g_assert_cmpuint (rd32be (r + 8), ==, PAGE_SIZE);
  g_assert_cmpuint (call (b, TB_MB_CMD_LAYOUT, "x", 1, NULL), ==, TB_MB_ERR_BAD_REQUEST);

  /* with large pages the slot starts after the SBM and the journal */
  {
    TbSbmPlatform big = b->p;
    big.page_size = 16 * 1024;
    big.flash_size = 1024 * 1024;
    g_assert_cmpuint (tb_sbm_app_offset (&big), ==, 48 * 1024);
  }
}

static void
test_attest (void)
{
  g_autoptr(Board) b = board_new ();
  guint8 nonce[32];
  gsize len = 0;
  const guint8 *r = b->mailbox + TB_MB_HEADER;
  gsize pos = 0, signed_len, sig_len;

  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_NO_APP);
  for (guint i = 0; i < 32; i++)
    nonce[i] = (guint8) (i * 3);
  g_assert_cmpuint (call (b, TB_MB_CMD_ATTEST, nonce, sizeof nonce, &len), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (r[pos], ==, 4);
  g_assert_cmpmem (r + pos + 1, 4, "\x0a\x0b\x0c\x0d", 4);
  pos += 5;
  g_assert_cmpuint (r[pos], ==, 10);
  g_assert_cmpmem (r + pos + 1, 10, "tb-vmcu-m4", 10);
  pos += 11;
  g_assert_cmpuint (r[pos++], ==, 1);                     /* sbm-installed */
  g_assert_cmpuint (rd32be (r + pos), ==, TB_SBM_VERSION);
  pos += 4;
  g_assert_cmpmem (r + pos, 65, b->point, 65);
  pos += 65;
  g_assert_cmpuint (r[pos++], ==, TB_SBM_BOOT_NO_APP);
  g_assert_cmpuint (r[pos++], ==, 0);                     /* no version */
  g_assert_cmpuint (rd32be (r + pos), ==, 0);
  pos += 4;
  signed_len = pos;
  sig_len = (gsize) (r[pos] << 8 | r[pos + 1]);
  g_assert_cmpuint (len, ==, signed_len + 2 + sig_len);
  g_assert_true (tb_crypto_verify_device_signature (b->point, "TBATTEST1", nonce, 32, r, signed_len, r + pos + 2,
                                                    sig_len));
  /* over this nonce only */
  nonce[0] ^= 1;
  g_assert_false (tb_crypto_verify_device_signature (b->point, "TBATTEST1", nonce, 32, r, signed_len, r + pos + 2,
                                                     sig_len));

  /* refusals: the nonce's length; a device with no identity yet */
  g_assert_cmpuint (call (b, TB_MB_CMD_ATTEST, nonce, 31, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  g_assert_cmpuint (call (b, TB_MB_CMD_ATTEST, nonce, 0, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  b->otp_len[TB_OTP_UID] = -1;
  g_assert_cmpuint (call (b, TB_MB_CMD_ATTEST, nonce, 32, NULL), ==, TB_MB_ERR_STATE);
}

/* The mailbox itself: unknown commands, lengths past the payload area. */
static void
test_mailbox (void)
{
  g_autoptr(Board) b = board_new ();
  guint8 nonce[32] = { 0 };
  guint32 commands[] = { TB_MB_CMD_NONE, 9, 0x80, 0xffffffff };

  for (guint i = 0; i < G_N_ELEMENTS (commands); i++)
    g_assert_cmpuint (call (b, commands[i], NULL, 0, NULL), ==, TB_MB_ERR_BAD_COMMAND);
  for (guint32 cmd = TB_MB_CMD_ATTEST; cmd <= TB_MB_CMD_LAYOUT; cmd++)
    {
      g_assert_cmpuint (call_with_length (b, cmd, nonce, 32, TB_MB_PAYLOAD_MAX + 1, NULL), ==,
                        TB_MB_ERR_BAD_REQUEST);
      g_assert_cmpuint (call_with_length (b, cmd, nonce, 32, 0xffffffff, NULL), ==, TB_MB_ERR_BAD_REQUEST);
    }
  /* the largest payload is read, not refused as too long */
  {
    g_autofree guint8 *junk = g_malloc0 (TB_MB_PAYLOAD_MAX);
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, junk, TB_MB_PAYLOAD_MAX, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  }
  /* nothing was written by any of it */
  g_assert_cmpuint (b->n_erase + b->n_program, ==, 0);
}

/* The host's half of PROVISION: the product key wrapped to the device key
 * (docs/mailbox.md). */
static GByteArray *
provision_request (Board *b, const guint8 *anchor, const char *product, const guint8 *product_scalar,
                   const guint8 *cert, gsize cert_len, guint8 lock)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(TbKey) eph = tb_key_generate ("ec-p256", &error);
  g_autoptr(TbKey) device = tb_key_new_from_point (b->point, &error);
  guint8 eph_point[65], shared[64], kek[32], wrapped[48], info[23 + 65 + 65];
  gsize shared_len = 0, wrapped_len = 0;
  GByteArray *req = g_byte_array_new ();
  guint8 u8;

  g_assert_no_error (error);
  g_assert_true (tb_key_get_p256_point (eph, eph_point));
  memcpy (info, "trustbench-provision-v1", 23);
  memcpy (info + 23, eph_point, 65);
  memcpy (info + 23 + 65, b->point, 65);
  g_assert_true (tb_crypto_ecdh (tb_key_get_private_pkey (eph), tb_key_get_public_pkey (device), shared, &shared_len,
                                 &error));
  g_assert_true (tb_crypto_hkdf_sha256 (shared, shared_len, (const guint8 *) "\x0a\x0b\x0c\x0d", 4, info, sizeof info,
                                        kek, 32, &error));
  g_assert_true (tb_crypto_aes256_kw (TRUE, kek, product_scalar, 32, wrapped, &wrapped_len, &error));
  g_assert_no_error (error);
  g_byte_array_append (req, anchor, 65);
  u8 = (guint8) strlen (product);
  g_byte_array_append (req, &u8, 1);
  g_byte_array_append (req, (const guint8 *) product, (guint) strlen (product));
  g_byte_array_append (req, eph_point, 65);
  g_byte_array_append (req, wrapped, 40);
  u8 = (guint8) (cert_len >> 8);
  g_byte_array_append (req, &u8, 1);
  u8 = (guint8) cert_len;
  g_byte_array_append (req, &u8, 1);
  g_byte_array_append (req, cert, (guint) cert_len);
  g_byte_array_append (req, &lock, 1);
  return req;
}

static void
test_provision (void)
{
  g_autoptr(Board) b = board_new ();
  g_autoptr(TbKey) mastering = tb_test_oem_key (oem, TB_KEY_NAME_MASTERING);
  g_autofree char *pk_name = g_strconcat (TB_KEY_NAME_PRODUCT_PREFIX, oem->product, NULL);
  g_autoptr(TbKey) product_key = tb_test_oem_key (oem, pk_name);
  guint8 anchor[65], scalar[32];
  static const guint8 cert[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
  g_autoptr(GByteArray) good = NULL;
  gsize product_at;

  g_assert_true (tb_key_get_p256_point (mastering, anchor));
  g_assert_true (tb_key_get_p256_scalar (product_key, scalar));
  good = provision_request (b, anchor, oem->product, scalar, cert, sizeof cert, 1);
  product_at = 65;

  /* malformed: every cut, one byte more, an empty product or certificate, an anchor that is no point */
  for (gsize cut = 0; cut < good->len; cut++)
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, good->data, cut, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  {
    g_autoptr(GByteArray) longer = g_byte_array_new ();
    g_byte_array_append (longer, good->data, good->len);
    g_byte_array_append (longer, (const guint8 *) "", 1);
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, longer->data, longer->len, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  }
  {
    g_autoptr(GByteArray) req = provision_request (b, anchor, "", scalar, cert, sizeof cert, 0);
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, req->data, req->len, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  }
  {
    g_autoptr(GByteArray) req = provision_request (b, anchor, oem->product, scalar, cert, 0, 0);
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, req->data, req->len, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  }
  {
    g_autofree guint8 *copy = g_memdup2 (good->data, good->len);
    copy[0] = 0x02;
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, copy, good->len, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  }
  /* the wrapped key altered, or wrapped for another device: nothing written */
  {
    g_autofree guint8 *copy = g_memdup2 (good->data, good->len);
    copy[product_at + 1 + strlen (oem->product) + 65 + 39] ^= 0x01;
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, copy, good->len, NULL), ==, TB_MB_ERR_CRYPTO);
  }
  {
    g_autoptr(Board) other = board_new ();
    g_autoptr(GByteArray) req = provision_request (other, anchor, oem->product, scalar, cert, sizeof cert, 1);
    g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, req->data, req->len, NULL), ==, TB_MB_ERR_CRYPTO);
  }
  g_assert_cmpint (b->otp_len[TB_OTP_ANCHOR], ==, -1);
  g_assert_cmpint (b->otp_len[TB_OTP_PRODUCT_KEY], ==, -1);
  g_assert_cmpuint (b->otp[TB_OTP_LIFECYCLE][0], ==, 1);

  /* a blank device (no SBM installed yet) is not provisioned */
  b->otp[TB_OTP_LIFECYCLE][0] = 0;
  g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, good->data, good->len, NULL), ==, TB_MB_ERR_STATE);
  b->otp[TB_OTP_LIFECYCLE][0] = 1;

  /* provisioned and locked, once */
  g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, good->data, good->len, NULL), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (b->otp[TB_OTP_LIFECYCLE][0], ==, 3);
  g_assert_cmpmem (b->otp[TB_OTP_ANCHOR], b->otp_len[TB_OTP_ANCHOR], anchor, 65);
  g_assert_cmpmem (b->otp[TB_OTP_PRODUCT], b->otp_len[TB_OTP_PRODUCT], oem->product, strlen (oem->product));
  g_assert_cmpmem (b->otp[TB_OTP_PRODUCT_KEY], b->otp_len[TB_OTP_PRODUCT_KEY], scalar, 32);
  g_assert_cmpmem (b->otp[TB_OTP_DEVICE_CERT], b->otp_len[TB_OTP_DEVICE_CERT], cert, sizeof cert);
  g_assert_cmpuint (call (b, TB_MB_CMD_PROVISION, good->data, good->len, NULL), ==, TB_MB_ERR_STATE);

  /* and the provisioned device takes the OEM's image */
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_NO_APP);
  g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_STATUS_OK);
}

static void
test_install (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Board) b = board_new ();
  g_autoptr(TbReceipt) receipt = NULL;
  gsize len = 0;
  guint8 nonce[32] = { 7 };

  board_provision (b, NULL, NULL, NULL);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_NO_APP);
  g_assert_cmpuint (call (b, TB_MB_CMD_RECEIPT, nonce, 32, NULL), ==, TB_MB_ERR_STATE);

  g_assert_cmpuint (install (b, app, &len), ==, TB_MB_STATUS_OK);
  receipt = tb_receipt_parse (b->mailbox + TB_MB_HEADER, len, b->point, &error);
  g_assert_no_error (error);
  g_assert_cmpint (receipt->kind, ==, TB_RECEIPT_INSTALL);
  g_assert_cmpstr (receipt->uid, ==, "0a0b0c0d");
  g_assert_cmpstr (receipt->version, ==, "1.0.0");
  g_assert_cmpuint (receipt->security_counter, ==, 1);
  {
    g_autoptr(TbUpk) upk = tb_upk_load_file (app->upk, &error);
    g_assert_no_error (error);
    g_assert_cmpmem (receipt->image_id, 16, tb_upk_get_image_id (upk), 16);
    g_assert_cmpmem (receipt->plaintext_sha256, 32, tb_upk_get_plaintext_sha256 (upk), 32);
  }
  assert_app_is (b, app);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_OK);
  g_assert_cmpstr (b->sbm.app_version, ==, "1.0.0");
  g_assert_cmpuint (b->sbm.app_counter, ==, 1);

  /* what runs now, over the host's nonce */
  g_clear_pointer (&receipt, tb_receipt_free);
  g_assert_cmpuint (call (b, TB_MB_CMD_RECEIPT, nonce, 31, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  g_assert_cmpuint (call (b, TB_MB_CMD_RECEIPT, nonce, 32, &len), ==, TB_MB_STATUS_OK);
  receipt = tb_receipt_parse (b->mailbox + TB_MB_HEADER, len, b->point, &error);
  g_assert_no_error (error);
  g_assert_cmpint (receipt->kind, ==, TB_RECEIPT_STATUS);
  g_assert_cmpmem (receipt->nonce, 32, nonce, 32);
  g_assert_cmpstr (receipt->version, ==, "1.0.0");

  /* the same image again is a rollback; the next one installs */
  g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_ERR_ROLLBACK);
  assert_app_is (b, app);
  g_assert_cmpuint (install (b, app2, NULL), ==, TB_MB_STATUS_OK);
  assert_app_is (b, app2);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_OK);
  g_assert_cmpstr (b->sbm.app_version, ==, "1.1.0");
  g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_ERR_ROLLBACK);

  /* a modified application is refused at the next reset */
  b->flash[tb_sbm_app_offset (&b->p) + 100] ^= 0x01;
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_REFUSED);
  g_assert_cmpuint (call (b, TB_MB_CMD_RECEIPT, nonce, 32, NULL), ==, TB_MB_ERR_STATE);
}

/* INSTALL_BEGIN's checks, one at a time, each with its own status; after
 * each, the application slot is untouched. */
static void
test_install_begin_refusals (void)
{
  g_auto(Pair) p = { NULL, NULL };
  const guint8 *upk;
  gsize upk_len;
  const char *m33[] = { "tb-vmcu-m33", NULL };
  const char *other_uid[] = { "0a0b0c0e", NULL };
  const char *own_uid[] = { "0a0b0c0d", NULL };
  TbTestImage spec = { 0 };
  g_autoptr(TbTestMastered) typed = NULL, bound = NULL, bound_here = NULL, big = NULL, elsewhere = NULL;

  pair_load (&p, app);
  upk = g_bytes_get_data (p.upk, &upk_len);

  /* not provisioned yet */
  {
    g_autoptr(Board) b = board_new ();
    g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, upk, upk_len, NULL), ==, TB_MB_ERR_STATE);
  }

  {
    g_autoptr(Board) b = board_new ();
    board_provision (b, NULL, NULL, NULL);
    board_reset (b);

    /* malformed: no magic, every cut */
    g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, "TBIMG\r\n\x1a\0\1\0\0", 12, NULL), ==, TB_MB_ERR_BAD_REQUEST);
    for (gsize cut = 0; cut < upk_len; cut += (cut < 64 ? 1 : 7))
      g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, upk, cut, NULL), ==, TB_MB_ERR_BAD_REQUEST);
    /* a flipped byte under the signature */
    {
      g_autofree guint8 *copy = g_memdup2 (upk, upk_len);
      copy[30] ^= 0x01;
      g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, copy, upk_len, NULL), ==, TB_MB_ERR_SIGNATURE);
    }
    /* nothing begun: the other commands are out of place */
    g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_HEADER, g_bytes_get_data (p.image, NULL), 64, NULL), ==,
                      TB_MB_ERR_STATE);
    g_assert_cmpuint (send_chunks (b, p.image, 0, 1), ==, TB_MB_ERR_STATE);
    g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_FINISH, NULL, 0, NULL), ==, TB_MB_ERR_STATE);
    g_assert_true (app_slot_is_erased (b));
  }

  /* another anchor: signed by a mastering key this device does not trust */
  {
    g_autoptr(Board) b = board_new ();
    g_autoptr(TbKey) stranger = tb_key_generate ("ec-p256", NULL);
    guint8 point[65];
    g_assert_true (tb_key_get_p256_point (stranger, point));
    board_provision (b, NULL, point, NULL);
    board_reset (b);
    g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_ERR_SIGNATURE);
    g_assert_true (app_slot_is_erased (b));
  }
  /* another product */
  {
    g_autoptr(Board) b = board_new ();
    board_provision (b, "gadget", NULL, NULL);
    board_reset (b);
    g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_ERR_PRODUCT);
  }
  /* another product key: the image key is not wrapped for it */
  {
    g_autoptr(Board) b = board_new ();
    g_autoptr(TbKey) stranger = tb_key_generate ("ec-p256", NULL);
    guint8 scalar[32];
    g_assert_true (tb_key_get_p256_scalar (stranger, scalar));
    board_provision (b, NULL, NULL, scalar);
    board_reset (b);
    g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_ERR_RECIPIENT);
  }

  /* bound to another device type, to another device; bound to this one */
  spec.device_types = m33;
  spec.security_counter = 5;
  typed = tb_test_oem_master (oem, "typed", &spec);
  spec.device_types = NULL;
  spec.device_uids = other_uid;
  bound = tb_test_oem_master (oem, "bound", &spec);
  spec.device_uids = own_uid;
  bound_here = tb_test_oem_master (oem, "bound-here", &spec);
  spec.device_uids = NULL;
  /* larger than the slot; linked for another address */
  spec.size = tb_sbm_slot_size (&(TbSbmPlatform){ .flash_size = FLASH_SIZE, .page_size = PAGE_SIZE }) + 1;
  big = tb_test_oem_master (oem, "big", &spec);
  spec.size = 0;
  spec.load_address = FLASH_BASE + 64 * 1024;
  elsewhere = tb_test_oem_master (oem, "elsewhere", &spec);
  {
    g_autoptr(Board) b = board_new ();
    board_provision (b, NULL, NULL, NULL);
    board_reset (b);
    g_assert_cmpuint (install (b, typed, NULL), ==, TB_MB_ERR_DEVICE);
    g_assert_cmpuint (install (b, bound, NULL), ==, TB_MB_ERR_DEVICE);
    g_assert_cmpuint (install (b, big, NULL), ==, TB_MB_ERR_TOO_LARGE);
    g_assert_cmpuint (install (b, elsewhere, NULL), ==, TB_MB_ERR_ADDRESS);
    g_assert_true (app_slot_is_erased (b));
    g_assert_cmpuint (install (b, bound_here, NULL), ==, TB_MB_STATUS_OK);
    assert_app_is (b, bound_here);
  }
}

/* After a good INSTALL_BEGIN: the header and chunks. A refusal ends the
 * session, and nothing reaches the application slot. */
static void
test_install_chunk_refusals (void)
{
  g_auto(Pair) p = { NULL, NULL };
  g_autoptr(Board) b = board_new ();
  const guint8 *upk, *image;
  gsize upk_len, image_len;
  TbImageHeader h;

  pair_load (&p, app);
  upk = g_bytes_get_data (p.upk, &upk_len);
  image = g_bytes_get_data (p.image, &image_len);
  g_assert_true (tb_image_header_decode (image, &h, "image", NULL));
  g_assert_cmpuint (h.chunk_count, ==, 3);
  board_provision (b, NULL, NULL, NULL);
  board_reset (b);

#define BEGIN() g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, upk, upk_len, NULL), ==, TB_MB_STATUS_OK)
#define HEADER() g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_HEADER, image, 64, NULL), ==, TB_MB_STATUS_OK)

  /* the header: its length, any byte of it (its digest is in the UPK) */
  BEGIN ();
  g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_HEADER, image, 63, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  for (guint off = 0; off < 64; off += 9)
    {
      g_autofree guint8 *copy = g_memdup2 (image, 64);
      copy[off] ^= 0x10;
      BEGIN ();
      g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_HEADER, copy, 64, NULL), ==, TB_MB_ERR_SIGNATURE);
      g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_HEADER, image, 64, NULL), ==, TB_MB_ERR_STATE);
    }
  /* a chunk before the header */
  BEGIN ();
  g_assert_cmpuint (send_chunks (b, p.image, 0, 1), ==, TB_MB_ERR_STATE);

  /* out of order, twice, too short a request, a flipped bit, a cut one */
  BEGIN ();
  HEADER ();
  g_assert_cmpuint (send_chunks (b, p.image, 1, 2), ==, TB_MB_ERR_CHUNK);
  g_assert_cmpuint (send_chunks (b, p.image, 0, 1), ==, TB_MB_ERR_STATE);
  BEGIN ();
  HEADER ();
  g_assert_cmpuint (send_chunks (b, p.image, 0, 1), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (send_chunks (b, p.image, 0, 1), ==, TB_MB_ERR_CHUNK);
  BEGIN ();
  HEADER ();
  g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_CHUNK, "\0\0\0\0", 4, NULL), ==, TB_MB_ERR_BAD_REQUEST);
  for (gsize off = 0; off < 4096 + 16; off += 1021)
    {
      g_autofree guint8 *req = g_malloc (4 + 4096 + 16);
      memset (req, 0, 4);
      memcpy (req + 4, image + 64, 4096 + 16);
      req[4 + off] ^= 0x04;
      BEGIN ();
      HEADER ();
      g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_CHUNK, req, 4 + 4096 + 16, NULL), ==, TB_MB_ERR_CHUNK);
      g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_FINISH, NULL, 0, NULL), ==, TB_MB_ERR_STATE);
    }
  {
    g_autofree guint8 *req = g_malloc (4 + 4096 + 16);
    memset (req, 0, 4);
    memcpy (req + 4, image + 64, 4096 + 16);
    BEGIN ();
    HEADER ();
    g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_CHUNK, req, 4 + 4095 + 16, NULL), ==, TB_MB_ERR_CHUNK);
  }
  /* finishing early */
  BEGIN ();
  HEADER ();
  g_assert_cmpuint (send_chunks (b, p.image, 0, 2), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_FINISH, NULL, 0, NULL), ==, TB_MB_ERR_STATE);
  g_assert_true (app_slot_is_erased (b));

  /* a new INSTALL_BEGIN abandons a session half way */
  BEGIN ();
  HEADER ();
  g_assert_cmpuint (send_chunks (b, p.image, 0, 2), ==, TB_MB_STATUS_OK);
  BEGIN ();
  g_assert_cmpuint (send_chunks (b, p.image, 2, 3), ==, TB_MB_ERR_STATE);
  g_assert_true (app_slot_is_erased (b));

  /* and after all that, the whole image installs */
  g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_STATUS_OK);
  assert_app_is (b, app);
#undef BEGIN
#undef HEADER
}

/* A UPK, well signed, whose plaintext digest is not the image's: every
 * chunk authenticates, FINISH refuses, the application is not replaced. */
static void
test_install_digest_refused (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Board) b = board_new ();
  g_autoptr(TbUpk) upk = tb_upk_load_file (app2->upk, &error);
  g_autoptr(TbCert) cert = tb_cert_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
  g_autoptr(TbKey) key = tb_test_oem_key (oem, TB_KEY_NAME_MASTERING);
  g_autoptr(GBytes) forged = NULL;
  g_auto(Pair) p = { NULL, NULL };
  guint8 digest[32];

  g_assert_no_error (error);
  memcpy (digest, tb_upk_get_plaintext_sha256 (upk), 32);
  digest[5] ^= 0x01;
  tb_upk_set_plaintext_sha256 (upk, digest);
  forged = tb_upk_sign (upk, cert, key, &error);
  g_assert_no_error (error);
  pair_load (&p, app2);

  board_provision (b, NULL, NULL, NULL);
  board_reset (b);
  g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, g_bytes_get_data (forged, NULL), g_bytes_get_size (forged), NULL),
                    ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_HEADER, g_bytes_get_data (p.image, NULL), 64, NULL), ==,
                    TB_MB_STATUS_OK);
  g_assert_cmpuint (send_chunks (b, p.image, 0, G_MAXUINT32), ==, TB_MB_STATUS_OK);
  g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_FINISH, NULL, 0, NULL), ==, TB_MB_ERR_DIGEST);
  assert_app_is (b, app);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_OK);
  g_assert_cmpstr (b->sbm.app_version, ==, "1.0.0");
}

/* The longest version a device keeps (31 characters, its signature
 * table's field): what it reports after a reset is what it signed in the
 * install receipt, never a truncated one. Mastering refuses longer ones;
 * the SBM refuses a UPK that carries one all the same. */
static void
test_version_length (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(Board) b = board_new ();
  TbTestImage spec = { 0 };
  g_autoptr(TbTestMastered) longest = NULL;
  const char *v31 = "1.0.0-rc.1234567890123456789012";
  const char *v32 = "1.0.0-rc.12345678901234567890123";
  g_autoptr(TbReceipt) receipt = NULL;
  gsize len = 0;
  guint8 nonce[32] = { 1 };

  g_assert_cmpuint (strlen (v31), ==, TB_SBM_IMAGE_VERSION_MAX_LEN);
  g_assert_cmpuint (strlen (v32), ==, TB_SBM_IMAGE_VERSION_MAX_LEN + 1);
  board_provision (b, NULL, NULL, NULL);
  board_reset (b);
  spec.security_counter = 10;
  spec.version = v31;
  longest = tb_test_oem_master (oem, "v31", &spec);

  /* mastering refuses 32 characters */
  {
    g_autofree char *bin = g_build_filename (oem->tmp, "v32.bin", NULL);
    g_autofree char *upk_path = g_build_filename (oem->tmp, "v32.tbupk", NULL);
    g_autofree char *image_path = g_build_filename (oem->tmp, "v32.tbimg", NULL);
    g_autoptr(TbFirmware) fw = NULL;
    g_autoptr(TbUpk) refused = NULL;
    TbMasterOptions options = { oem->product, NULL, NULL, v32, 11, 0 };

    tb_test_write_file (bin, "firmware");
    fw = tb_firmware_load_file (bin, TB_FIRMWARE_FORMAT_BIN, FLASH_BASE + 32 * 1024, &error);
    g_assert_no_error (error);
    refused = tb_master_image (oem->ctx, fw, &options, TB_TEST_OEM_PASS, image_path, upk_path, NULL, &error);
    g_assert_null (refused);
    g_assert_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT);
    g_assert_cmpstr (error->message, ==, "Version “1.0.0-rc.12345678901234567890123” has 32 characters: a device "
                                         "keeps at most 31");
    g_clear_error (&error);
    g_assert_false (g_file_test (upk_path, G_FILE_TEST_EXISTS));
  }
  /* the device refuses a UPK re-signed with 32 */
  {
    g_autoptr(TbUpk) upk = tb_upk_load_file (longest->upk, &error);
    g_autoptr(TbCert) cert = tb_cert_load (oem->ctx, TB_KEY_NAME_MASTERING, NULL);
    g_autoptr(TbKey) key = tb_test_oem_key (oem, TB_KEY_NAME_MASTERING);
    g_autoptr(GBytes) forged = NULL;

    g_assert_no_error (error);
    tb_upk_set_version (upk, v32);
    forged = tb_upk_sign (upk, cert, key, &error);
    g_assert_no_error (error);
    g_assert_cmpuint (call (b, TB_MB_CMD_INSTALL_BEGIN, g_bytes_get_data (forged, NULL), g_bytes_get_size (forged),
                            NULL), ==, TB_MB_ERR_BAD_REQUEST);
  }

  g_assert_cmpuint (install (b, longest, &len), ==, TB_MB_STATUS_OK);
  receipt = tb_receipt_parse (b->mailbox + TB_MB_HEADER, len, b->point, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (receipt->version, ==, v31);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_OK);
  g_assert_cmpstr (b->sbm.app_version, ==, v31);
  g_clear_pointer (&receipt, tb_receipt_free);
  g_assert_cmpuint (call (b, TB_MB_CMD_RECEIPT, nonce, 32, &len), ==, TB_MB_STATUS_OK);
  receipt = tb_receipt_parse (b->mailbox + TB_MB_HEADER, len, b->point, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (receipt->version, ==, v31);
}

/* The signature table: a corrupt record is not trusted. */
static void
test_journal (void)
{
  g_autoptr(Board) b = board_new ();
  guint32 journal = TB_SBM_REGION_SIZE;

  board_provision (b, NULL, NULL, NULL);
  board_reset (b);
  g_assert_cmpuint (install (b, app, NULL), ==, TB_MB_STATUS_OK);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_OK);
  /* the newest record's checksum broken: the older (staged) one is used,
   * and the staged image is still there to finish */
  for (guint page = 0; page < 2; page++)
    if (b->flash[journal + page * PAGE_SIZE + 8] == 2) /* committed */
      b->flash[journal + page * PAGE_SIZE + 60] ^= 0x01;
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_OK);
  assert_app_is (b, app);
  /* both records gone: no application */
  memset (b->flash + journal, 0xff, 2 * PAGE_SIZE);
  g_assert_cmpint (board_reset (b), ==, TB_SBM_BOOT_NO_APP);
}

int
main (int argc, char **argv)
{
  TbTestImage spec = { 0 };
  int rc;

  g_test_init (&argc, &argv, NULL);
  oem = tb_test_oem_new (NULL);
  spec.version = "1.0.0";
  spec.security_counter = 1;
  app = tb_test_oem_master (oem, "app", &spec);
  spec.version = "1.1.0";
  spec.security_counter = 2;
  app2 = tb_test_oem_master (oem, "app2", &spec);

  g_test_add_func ("/tb/sbm/layout", test_layout);
  g_test_add_func ("/tb/sbm/attest", test_attest);
  g_test_add_func ("/tb/sbm/mailbox", test_mailbox);
  g_test_add_func ("/tb/sbm/provision", test_provision);
  g_test_add_func ("/tb/sbm/install", test_install);
  g_test_add_func ("/tb/sbm/install-begin-refusals", test_install_begin_refusals);
  g_test_add_func ("/tb/sbm/install-chunk-refusals", test_install_chunk_refusals);
  g_test_add_func ("/tb/sbm/install-digest-refused", test_install_digest_refused);
  g_test_add_func ("/tb/sbm/version-length", test_version_length);
  g_test_add_func ("/tb/sbm/journal", test_journal);
  rc = g_test_run ();
  tb_test_mastered_free (app);
  tb_test_mastered_free (app2);
  tb_test_oem_free (oem);
  return rc;
}
