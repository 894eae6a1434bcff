/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The reference Secure Boot Manager. See tb-sbm.h and docs/mailbox.md.
 *
 * Flash layout (offsets from the flash base):
 *   [0, 16 KiB)            the SBM itself
 *   two pages              the signature table, a journal of two records
 *   app slot               the running application
 *   staging slot           a new image, decrypted and verified, before it
 *                          is copied over the application
 * Every byte of a new image is authenticated before it is written to
 * flash; the application slot is only overwritten once the whole image
 * is staged and verified, under a journal record, so a power cut at any
 * flash operation leaves a board that boots the old or the new image. */

#include "tb-sbm.h"

#include <string.h>

#define JOURNAL_MAGIC 0x54535442u /* "TBST" */
#define JOURNAL_STAGED 1u
#define JOURNAL_COMMITTED 2u
#define RECORD_LEN 128u
#define RECORD_CHECKED 84u

typedef struct {
  uint32_t seq;
  uint32_t state;
  uint32_t counter;
  uint32_t size;
  char version[32];
  uint8_t digest[32];
} Record;

static void end_install (TbSbm *sbm);

static const uint8_t p256_spki_prefix[26] = {
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

/* ---- little helpers ---- */

static uint32_t
rd32be (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static uint64_t
rd64be (const uint8_t *p)
{
  return (uint64_t) rd32be (p) << 32 | rd32be (p + 4);
}

static void
wr32le (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) (v >> 16);
  p[3] = (uint8_t) (v >> 24);
}

static uint32_t
rd32le (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static void
wr32be (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static int
ct_equal (const uint8_t *a, const uint8_t *b, size_t len)
{
  uint8_t d = 0;
  for (size_t i = 0; i < len; i++)
    d |= a[i] ^ b[i];
  return d == 0;
}

static void
set_status (TbSbm *sbm, uint32_t status, uint32_t length)
{
  wr32le (sbm->p->mailbox + TB_MB_OFF_LENGTH, length);
  wr32le (sbm->p->mailbox + TB_MB_OFF_COMMAND, TB_MB_CMD_NONE);
  wr32le (sbm->p->mailbox + TB_MB_OFF_STATUS, status);
}

static int
lifecycle (TbSbm *sbm)
{
  uint8_t v = 0;
  return sbm->p->otp_read (sbm->p->ctx, TB_OTP_LIFECYCLE, &v, 1) == 1 ? v : 0;
}

/* ---- flash layout ---- */

static uint32_t
journal_offset (const TbSbmPlatform *p, int which)
{
  return TB_SBM_REGION_SIZE + (uint32_t) which * p->page_size;
}

uint32_t
tb_sbm_app_offset (const TbSbmPlatform *p)
{
  uint32_t off = TB_SBM_REGION_SIZE + 2 * p->page_size;

  /* the application's address does not move with the page size */
  if (off < TB_SBM_APP_MIN_OFFSET)
    off = TB_SBM_APP_MIN_OFFSET;
  return (off + p->page_size - 1) / p->page_size * p->page_size;
}

uint32_t
tb_sbm_slot_size (const TbSbmPlatform *p)
{
  uint32_t rest = p->flash_size - tb_sbm_app_offset (p);
  return rest / 3 / p->page_size * p->page_size;
}

uint32_t
tb_sbm_update_offset (const TbSbmPlatform *p)
{
  return tb_sbm_app_offset (p) + 2 * tb_sbm_slot_size (p);
}

static uint32_t
staging_offset (const TbSbmPlatform *p)
{
  return tb_sbm_app_offset (p) + tb_sbm_slot_size (p);
}

/* ---- the journal (signature table) ---- */

static int
read_record (TbSbm *sbm, int which, Record *r)
{
  uint8_t buf[RECORD_LEN];
  uint8_t check[32];
  TbSbmSha256 s;

  if (sbm->p->flash_read (sbm->p->ctx, journal_offset (sbm->p, which), buf, sizeof buf) != 0 ||
      rd32le (buf) != JOURNAL_MAGIC)
    return 0;
  sbm->c->sha256_init (&s);
  sbm->c->sha256_update (&s, buf, RECORD_CHECKED);
  sbm->c->sha256_final (&s, check);
  if (!ct_equal (check, buf + RECORD_CHECKED, 32))
    return 0;
  r->seq = rd32le (buf + 4);
  r->state = rd32le (buf + 8);
  r->counter = rd32le (buf + 12);
  r->size = rd32le (buf + 16);
  memcpy (r->version, buf + 20, 32);
  r->version[31] = '\0';
  memcpy (r->digest, buf + 52, 32);
  return r->state == JOURNAL_STAGED || r->state == JOURNAL_COMMITTED;
}

/* The newest valid record (and which page holds it); -1 when none. */
static int
latest_record (TbSbm *sbm, Record *r)
{
  Record a, b;
  int va = read_record (sbm, 0, &a);
  int vb = read_record (sbm, 1, &b);

  if (va && (!vb || a.seq > b.seq))
    {
      *r = a;
      return 0;
    }
  if (vb)
    {
      *r = b;
      return 1;
    }
  return -1;
}

static int
write_record (TbSbm *sbm, const Record *r)
{
  Record current;
  int which = latest_record (sbm, &current);
  int target = which == 0 ? 1 : 0;
  uint8_t buf[RECORD_LEN];
  TbSbmSha256 s;

  memset (buf, 0xff, sizeof buf);
  wr32le (buf, JOURNAL_MAGIC);
  wr32le (buf + 4, r->seq);
  wr32le (buf + 8, r->state);
  wr32le (buf + 12, r->counter);
  wr32le (buf + 16, r->size);
  memset (buf + 20, 0, 32);
  memcpy (buf + 20, r->version, strlen (r->version) < 31 ? strlen (r->version) : 31);
  memcpy (buf + 52, r->digest, 32);
  sbm->c->sha256_init (&s);
  sbm->c->sha256_update (&s, buf, RECORD_CHECKED);
  sbm->c->sha256_final (&s, buf + RECORD_CHECKED);
  if (sbm->p->flash_erase (sbm->p->ctx, journal_offset (sbm->p, target)) != 0 ||
      sbm->p->flash_program (sbm->p->ctx, journal_offset (sbm->p, target), buf, sizeof buf) != 0)
    return -1;
  return 0;
}

static int
digest_region (TbSbm *sbm, uint32_t offset, uint32_t size, uint8_t digest[32])
{
  uint8_t buf[256];
  TbSbmSha256 s;

  sbm->c->sha256_init (&s);
  for (uint32_t done = 0; done < size;)
    {
      uint32_t n = size - done < sizeof buf ? size - done : (uint32_t) sizeof buf;
      if (sbm->p->flash_read (sbm->p->ctx, offset + done, buf, n) != 0)
        return -1;
      sbm->c->sha256_update (&s, buf, n);
      done += n;
    }
  sbm->c->sha256_final (&s, digest);
  return 0;
}

/* Copies the staged image over the application, page by page. */
static int
copy_staging (TbSbm *sbm, uint32_t size)
{
  const TbSbmPlatform *p = sbm->p;
  uint8_t buf[256];

  for (uint32_t page = 0; page < size; page += p->page_size)
    {
      if (p->flash_erase (p->ctx, tb_sbm_app_offset (p) + page) != 0)
        return -1;
      for (uint32_t o = 0; o < p->page_size && page + o < size; o += sizeof buf)
        {
          uint32_t n = size - (page + o) < sizeof buf ? size - (page + o) : (uint32_t) sizeof buf;
          if (p->flash_read (p->ctx, staging_offset (p) + page + o, buf, n) != 0 ||
              p->flash_program (p->ctx, tb_sbm_app_offset (p) + page + o, buf, n) != 0)
            return -1;
        }
    }
  return 0;
}

/* Finishes an interrupted update: the staged image is verified again, then
 * copied and committed. */
static int
complete_staged (TbSbm *sbm, Record *r)
{
  uint8_t digest[32];
  Record committed = *r;

  if (digest_region (sbm, staging_offset (sbm->p), r->size, digest) != 0 || !ct_equal (digest, r->digest, 32))
    return -1;
  if (copy_staging (sbm, r->size) != 0)
    return -1;
  committed.seq = r->seq + 1;
  committed.state = JOURNAL_COMMITTED;
  if (write_record (sbm, &committed) != 0)
    return -1;
  *r = committed;
  return 0;
}

void
tb_sbm_init (TbSbm *sbm, const TbSbmPlatform *p, const TbSbmCrypto *c)
{
  memset (sbm, 0, sizeof *sbm);
  sbm->p = p;
  sbm->c = c;
  wr32le (p->mailbox + TB_MB_OFF_MAGIC, TB_MB_MAGIC);
}

/* Finishes an interrupted copy, then checks the application against the
 * signature table. */
static TbSbmBootResult
check_app (TbSbm *sbm)
{
  Record r;
  uint8_t digest[32];

  sbm->app_version[0] = '\0';
  sbm->app_counter = 0;
  if (latest_record (sbm, &r) < 0)
    return sbm->boot = TB_SBM_BOOT_NO_APP;
  if (r.state == JOURNAL_STAGED && complete_staged (sbm, &r) != 0)
    return sbm->boot = TB_SBM_BOOT_REFUSED;
  memcpy (sbm->app_version, r.version, sizeof r.version);
  if (r.size == 0 || r.size > tb_sbm_slot_size (sbm->p) ||
      digest_region (sbm, tb_sbm_app_offset (sbm->p), r.size, digest) != 0 || !ct_equal (digest, r.digest, 32))
    return sbm->boot = TB_SBM_BOOT_REFUSED;
  sbm->app_counter = r.counter;
  return sbm->boot = TB_SBM_BOOT_OK;
}

/* Ends an install session: forgets the image key and releases the running
 * digest (the crypto backend may hold resources for it). */
static void
end_install (TbSbm *sbm)
{
  uint8_t scratch[32];

  if (sbm->hashing)
    sbm->c->sha256_final (&sbm->running, scratch);
  sbm->hashing = 0;
  sbm->installing = 0;
  sbm->c->wipe (sbm->image_key, sizeof sbm->image_key);
}

/**
 * tb_sbm_shutdown:
 *
 * Power goes away: whatever session ran is abandoned.
 */
void
tb_sbm_shutdown (TbSbm *sbm)
{
  if (sbm->p != NULL)
    end_install (sbm);
}

static int process_staged_update (TbSbm *sbm);

/**
 * tb_sbm_boot:
 *
 * At every reset: finish an interrupted update, install an update the
 * application staged, then recompute the application digest against the
 * signature table; a modified application is refused.
 */
TbSbmBootResult
tb_sbm_boot (TbSbm *sbm)
{
  end_install (sbm);
  check_app (sbm);
  if (process_staged_update (sbm))
    check_app (sbm);
  return sbm->boot;
}

/* ---- commands ---- */

/* A cursor over a request, refusing to read past its end. */
typedef struct {
  const uint8_t *p;
  size_t left;
  int bad;
} Reader;

static const uint8_t *
take (Reader *r, size_t n)
{
  const uint8_t *v = r->p;
  if (r->bad || n > r->left)
    {
      r->bad = 1;
      return NULL;
    }
  r->p += n;
  r->left -= n;
  return v;
}

typedef struct {
  uint8_t *p;
  size_t len;
  size_t cap;
  int bad;
} Writer;

static void
put (Writer *w, const void *data, size_t n)
{
  if (w->bad || n > w->cap - w->len)
    {
      w->bad = 1;
      return;
    }
  memcpy (w->p + w->len, data, n);
  w->len += n;
}

static void
put_u8 (Writer *w, uint8_t v)
{
  put (w, &v, 1);
}

static void
put_u32 (Writer *w, uint32_t v)
{
  uint8_t b[4];
  wr32be (b, v);
  put (w, b, 4);
}

/* Signs SHA-256(label ‖ prefix ‖ w's bytes) with the device key and appends
 * the DER signature preceded by its 2-byte length. */
static int
sign_append (TbSbm *sbm, Writer *w, const char *label, const uint8_t *prefix, size_t prefix_len)
{
  uint8_t key[32], digest[32], sig[80];
  size_t sig_len = sizeof sig;
  TbSbmSha256 s;
  int ok;

  if (sbm->p->otp_read (sbm->p->ctx, TB_OTP_DEVICE_PRIVATE_KEY, key, sizeof key) != 32)
    return -1;
  sbm->c->sha256_init (&s);
  sbm->c->sha256_update (&s, (const uint8_t *) label, strlen (label));
  sbm->c->sha256_update (&s, prefix, prefix_len);
  sbm->c->sha256_update (&s, w->p, w->len);
  sbm->c->sha256_final (&s, digest);
  ok = sbm->c->ecdsa_p256_sign (key, digest, sig, &sig_len);
  sbm->c->wipe (key, sizeof key);
  if (ok != 0)
    return -1;
  put_u8 (w, (uint8_t) (sig_len >> 8));
  put_u8 (w, (uint8_t) sig_len);
  put (w, sig, sig_len);
  return w->bad ? -1 : 0;
}

static uint32_t
cmd_attest (TbSbm *sbm, const uint8_t *req, size_t len, Writer *w)
{
  uint8_t uid[32], type[64], pub[65];
  int uid_len, type_len;
  uint8_t nonce[32];

  if (len != 32)
    return TB_MB_ERR_BAD_REQUEST;
  memcpy (nonce, req, 32); /* the response overwrites the request */
  uid_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_UID, uid, sizeof uid);
  type_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_DEVICE_TYPE, type, sizeof type);
  if (uid_len <= 0 || type_len <= 0 || sbm->p->otp_read (sbm->p->ctx, TB_OTP_DEVICE_PUBLIC_KEY, pub, 65) != 65)
    return TB_MB_ERR_STATE;
  put_u8 (w, (uint8_t) uid_len);
  put (w, uid, (size_t) uid_len);
  put_u8 (w, (uint8_t) type_len);
  put (w, type, (size_t) type_len);
  put_u8 (w, (uint8_t) lifecycle (sbm));
  put_u32 (w, TB_SBM_VERSION);
  put (w, pub, 65);
  put_u8 (w, (uint8_t) sbm->boot);
  put_u8 (w, (uint8_t) strlen (sbm->app_version));
  put (w, sbm->app_version, strlen (sbm->app_version));
  put_u32 (w, sbm->app_counter);
  return sign_append (sbm, w, "TBATTEST1", nonce, 32) == 0 ? TB_MB_STATUS_OK : TB_MB_ERR_CRYPTO;
}

/* Where the application slot is, so that a host can check an image against
 * it before it provisions (and locks) the device. Any lifecycle. */
static uint32_t
cmd_layout (TbSbm *sbm, size_t len, Writer *w)
{
  if (len != 0)
    return TB_MB_ERR_BAD_REQUEST;
  put_u32 (w, sbm->p->flash_base + tb_sbm_app_offset (sbm->p));
  put_u32 (w, tb_sbm_slot_size (sbm->p));
  put_u32 (w, sbm->p->page_size);
  return TB_MB_STATUS_OK;
}

/* Recovers the product key wrapped to the device key:
 * KEK = HKDF-SHA256(ECDH(device, ephemeral), salt = UID,
 *                   info = "trustbench-provision-v1" ‖ ephemeral ‖ device public key) */
static int
unwrap_product_key (TbSbm *sbm, const uint8_t eph[65], const uint8_t wrapped[40], uint8_t out[32])
{
  uint8_t key[32], pub[65], uid[32], shared[32], kek[32];
  uint8_t info[23 + 65 + 65];
  int uid_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_UID, uid, sizeof uid);
  int rc = -1;

  if (uid_len <= 0 || sbm->p->otp_read (sbm->p->ctx, TB_OTP_DEVICE_PRIVATE_KEY, key, 32) != 32 ||
      sbm->p->otp_read (sbm->p->ctx, TB_OTP_DEVICE_PUBLIC_KEY, pub, 65) != 65)
    return -1;
  memcpy (info, "trustbench-provision-v1", 23);
  memcpy (info + 23, eph, 65);
  memcpy (info + 23 + 65, pub, 65);
  if (sbm->c->ecdh_p256 (key, eph, shared) == 0 &&
      sbm->c->hkdf_sha256 (shared, 32, uid, (size_t) uid_len, info, sizeof info, kek, 32) == 0 &&
      sbm->c->aes256_kw_unwrap (kek, wrapped, 40, out) == 0)
    rc = 0;
  sbm->c->wipe (key, sizeof key);
  sbm->c->wipe (shared, sizeof shared);
  sbm->c->wipe (kek, sizeof kek);
  return rc;
}

static uint32_t
cmd_provision (TbSbm *sbm, const uint8_t *req, size_t len)
{
  Reader r = { req, len, 0 };
  const uint8_t *anchor = take (&r, 65);
  const uint8_t *product_len = take (&r, 1);
  const uint8_t *product = product_len != NULL ? take (&r, *product_len) : NULL;
  const uint8_t *eph = take (&r, 65);
  const uint8_t *wrapped = take (&r, 40);
  const uint8_t *cert_len_b = take (&r, 2);
  size_t cert_len = cert_len_b != NULL ? (size_t) (cert_len_b[0] << 8 | cert_len_b[1]) : 0;
  const uint8_t *cert = take (&r, cert_len);
  const uint8_t *lock = take (&r, 1);
  uint8_t product_key[32], check[65];
  int lc = lifecycle (sbm);

  if (r.bad || r.left != 0 || *product_len == 0 || cert_len == 0 || anchor[0] != 0x04)
    return TB_MB_ERR_BAD_REQUEST;
  if (lc != 1)
    return TB_MB_ERR_STATE; /* provisioning happens once, after the SBM is installed */
  if (unwrap_product_key (sbm, eph, wrapped, product_key) != 0 ||
      sbm->c->p256_public_key (product_key, check) != 0)
    {
      sbm->c->wipe (product_key, sizeof product_key);
      return TB_MB_ERR_CRYPTO;
    }
  if (sbm->p->otp_write (sbm->p->ctx, TB_OTP_ANCHOR, anchor, 65) != 0 ||
      sbm->p->otp_write (sbm->p->ctx, TB_OTP_PRODUCT, product, *product_len) != 0 ||
      sbm->p->otp_write (sbm->p->ctx, TB_OTP_PRODUCT_KEY, product_key, 32) != 0 ||
      sbm->p->otp_write (sbm->p->ctx, TB_OTP_DEVICE_CERT, cert, cert_len) != 0)
    {
      sbm->c->wipe (product_key, sizeof product_key);
      return TB_MB_ERR_FLASH;
    }
  sbm->c->wipe (product_key, sizeof product_key);
  {
    uint8_t next = *lock ? 3 : 2;
    if (sbm->p->otp_write (sbm->p->ctx, TB_OTP_LIFECYCLE, &next, 1) != 0)
      return TB_MB_ERR_FLASH;
  }
  return TB_MB_STATUS_OK;
}

/* Finds the P-256 subject public key in a DER certificate. */
static const uint8_t *
cert_p256_key (const uint8_t *cert, size_t len)
{
  for (size_t i = 0; i + sizeof p256_spki_prefix + 65 <= len; i++)
    if (memcmp (cert + i, p256_spki_prefix, sizeof p256_spki_prefix) == 0)
      return cert + i + sizeof p256_spki_prefix;
  return NULL;
}

static int
hex_equal (const uint8_t *raw, size_t raw_len, const uint8_t *other, size_t other_len)
{
  return raw_len == other_len && memcmp (raw, other, raw_len) == 0;
}

static uint32_t
cmd_install_begin (TbSbm *sbm, const uint8_t *upk, size_t len)
{
  const uint8_t *product = NULL, *signer = NULL, *sig = NULL;
  size_t product_len = 0, signer_len = 0, sig_len = 0, signed_len = 0;
  const uint8_t *recipients[8];
  size_t recipient_lens[8];
  int n_recipients = 0, n_types = 0, type_ok = 0, n_uids = 0, uid_ok = 0, have_counter = 0, have_digest = 0;
  int have_load = 0;
  uint64_t load_address = 0;
  int have_header = 0, have_id = 0, have_size = 0;
  uint8_t anchor[65], own_product[64], own_type[64], own_uid[32], product_key[32], product_pub[65], key_id[32];
  uint8_t digest[32];
  int own_product_len, own_type_len, own_uid_len;
  size_t pos = 12;
  TbSbmSha256 s;
  uint8_t spki[91];

  end_install (sbm);
  if (lifecycle (sbm) < 2)
    return TB_MB_ERR_STATE;
  if (len < 12 || memcmp (upk, "TBUPK\r\n\x1a\x00\x01\x00\x00", 12) != 0)
    return TB_MB_ERR_BAD_REQUEST;
  while (pos < len)
    {
      uint16_t type, vlen;
      const uint8_t *v;

      if (sig != NULL || len - pos < 4)
        return TB_MB_ERR_BAD_REQUEST;
      type = (uint16_t) (upk[pos] << 8 | upk[pos + 1]);
      vlen = (uint16_t) (upk[pos + 2] << 8 | upk[pos + 3]);
      if (len - pos - 4 < vlen)
        return TB_MB_ERR_BAD_REQUEST;
      v = upk + pos + 4;
      switch (type)
        {
        case 0x0001: product = v; product_len = vlen; break;
        case 0x0002:
          n_types++;
          own_type_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_DEVICE_TYPE, own_type, sizeof own_type);
          if (own_type_len > 0 && hex_equal (v, vlen, own_type, (size_t) own_type_len))
            type_ok = 1;
          break;
        case 0x0003:
          n_uids++;
          own_uid_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_UID, own_uid, sizeof own_uid);
          if (own_uid_len > 0 && hex_equal (v, vlen, own_uid, (size_t) own_uid_len))
            uid_ok = 1;
          break;
        case 0x0004:
          /* no longer than the journal keeps: what a status receipt
           * reports after a reset is what the install receipt signed */
          if (vlen == 0 || vlen > TB_SBM_IMAGE_VERSION_MAX_LEN)
            return TB_MB_ERR_BAD_REQUEST;
          memcpy (sbm->version, v, vlen);
          sbm->version[vlen] = '\0';
          break;
        case 0x0005: if (vlen != 4) return TB_MB_ERR_BAD_REQUEST; sbm->counter = rd32be (v); have_counter = 1; break;
        case 0x0006: if (vlen != 8) return TB_MB_ERR_BAD_REQUEST; load_address = rd64be (v); have_load = 1; break;
        case 0x0007: if (vlen != 8) return TB_MB_ERR_BAD_REQUEST; sbm->image_size = rd64be (v); have_size = 1; break;
        case 0x0008: if (vlen != 32) return TB_MB_ERR_BAD_REQUEST; memcpy (sbm->plaintext_sha256, v, 32); have_digest = 1; break;
        case 0x0009: if (vlen != 32) return TB_MB_ERR_BAD_REQUEST; memcpy (sbm->header_sha256, v, 32); have_header = 1; break;
        case 0x000a: if (vlen != 16) return TB_MB_ERR_BAD_REQUEST; memcpy (sbm->image_id, v, 16); have_id = 1; break;
        case 0x000b:
          if (n_recipients < 8)
            {
              recipients[n_recipients] = v;
              recipient_lens[n_recipients++] = vlen;
            }
          break;
        case 0x000c: signer = v; signer_len = vlen; break;
        case 0x00ff: sig = v; sig_len = vlen; signed_len = pos; break;
        default:
          if (!(type & 0x8000) && type > 0x000e)
            return TB_MB_ERR_BAD_REQUEST;
          break;
        }
      pos += 4u + vlen;
    }
  if (sig == NULL || sig_len < 3 || sig[0] != 0 || sig[1] != 1 || signer == NULL || product == NULL ||
      !have_counter || !have_digest || !have_header || !have_id || !have_size || !have_load || n_recipients == 0)
    return TB_MB_ERR_BAD_REQUEST;

  /* signed by the anchored mastering key */
  if (sbm->p->otp_read (sbm->p->ctx, TB_OTP_ANCHOR, anchor, sizeof anchor) != 65)
    return TB_MB_ERR_STATE;
  {
    const uint8_t *signer_key = cert_p256_key (signer, signer_len);
    if (signer_key == NULL || !ct_equal (signer_key, anchor, 65))
      return TB_MB_ERR_SIGNATURE;
  }
  sbm->c->sha256_init (&s);
  sbm->c->sha256_update (&s, upk, signed_len);
  sbm->c->sha256_final (&s, digest);
  if (sbm->c->ecdsa_p256_verify (anchor, digest, sig + 2, sig_len - 2) != 0)
    return TB_MB_ERR_SIGNATURE;

  /* for this product, this device type, this device */
  own_product_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_PRODUCT, own_product, sizeof own_product);
  if (own_product_len <= 0 || !hex_equal (product, product_len, own_product, (size_t) own_product_len))
    return TB_MB_ERR_PRODUCT;
  if ((n_types > 0 && !type_ok) || (n_uids > 0 && !uid_ok))
    return TB_MB_ERR_DEVICE;
  /* no rollback */
  if (sbm->boot == TB_SBM_BOOT_OK && sbm->counter <= sbm->app_counter)
    return TB_MB_ERR_ROLLBACK;
  if (sbm->image_size == 0 || sbm->image_size > tb_sbm_slot_size (sbm->p))
    return TB_MB_ERR_TOO_LARGE;
  /* linked to run from the application slot, not anywhere else */
  if (load_address != (uint64_t) sbm->p->flash_base + tb_sbm_app_offset (sbm->p))
    return TB_MB_ERR_ADDRESS;

  /* the image key, wrapped for our product key */
  if (sbm->p->otp_read (sbm->p->ctx, TB_OTP_PRODUCT_KEY, product_key, 32) != 32 ||
      sbm->c->p256_public_key (product_key, product_pub) != 0)
    return TB_MB_ERR_STATE;
  memcpy (spki, p256_spki_prefix, sizeof p256_spki_prefix);
  memcpy (spki + sizeof p256_spki_prefix, product_pub, 65);
  sbm->c->sha256_init (&s);
  sbm->c->sha256_update (&s, spki, sizeof spki);
  sbm->c->sha256_final (&s, key_id);
  for (int i = 0; i < n_recipients; i++)
    {
      const uint8_t *rv = recipients[i];
      size_t id_len = recipient_lens[i] >= 2 ? rv[1] : 0;
      if (recipient_lens[i] != 2 + id_len + 32 + 65 + 40 || !ct_equal (rv + 2 + id_len, key_id, 32))
        continue;
      {
        const uint8_t *eph = rv + 2 + id_len + 32;
        const uint8_t *wrapped = eph + 65;
        uint8_t shared[32], kek[32];
        uint8_t info[21 + 65 + 32];
        int ok;

        memcpy (info, "trustbench-upk-kek-v1", 21);
        memcpy (info + 21, eph, 65);
        memcpy (info + 21 + 65, key_id, 32);
        ok = sbm->c->ecdh_p256 (product_key, eph, shared) == 0 &&
             sbm->c->hkdf_sha256 (shared, 32, sbm->image_id, 16, info, sizeof info, kek, 32) == 0 &&
             sbm->c->aes256_kw_unwrap (kek, wrapped, 40, sbm->image_key) == 0;
        sbm->c->wipe (shared, sizeof shared);
        sbm->c->wipe (kek, sizeof kek);
        sbm->c->wipe (product_key, sizeof product_key);
        if (!ok)
          return TB_MB_ERR_RECIPIENT;
        sbm->installing = 1;
        sbm->chunk_count = 0;
        sbm->next_chunk = 0;
        return TB_MB_STATUS_OK;
      }
    }
  sbm->c->wipe (product_key, sizeof product_key);
  return TB_MB_ERR_RECIPIENT;
}

static uint32_t
cmd_install_header (TbSbm *sbm, const uint8_t *h, size_t len)
{
  uint8_t digest[32];
  TbSbmSha256 s;
  uint64_t size;

  if (!sbm->installing || len != 64)
    return sbm->installing ? TB_MB_ERR_BAD_REQUEST : TB_MB_ERR_STATE;
  sbm->c->sha256_init (&s);
  sbm->c->sha256_update (&s, h, 64);
  sbm->c->sha256_final (&s, digest);
  if (!ct_equal (digest, sbm->header_sha256, 32))
    {
      end_install (sbm);
      return TB_MB_ERR_SIGNATURE;
    }
  sbm->chunk_size = rd32be (h + 12);
  size = (uint64_t) rd32be (h + 16) << 32 | rd32be (h + 20);
  sbm->chunk_count = rd32be (h + 24);
  memcpy (sbm->nonce_prefix, h + 48, 8);
  if (size != sbm->image_size || sbm->chunk_size == 0 || sbm->chunk_size + 4 + 16 > TB_MB_PAYLOAD_MAX ||
      sbm->chunk_size % sbm->p->page_size != 0 ||
      (uint64_t) sbm->chunk_count != (size + sbm->chunk_size - 1) / sbm->chunk_size)
    {
      end_install (sbm);
      return TB_MB_ERR_TOO_LARGE;
    }
  sbm->next_chunk = 0;
  sbm->c->sha256_init (&sbm->running);
  sbm->hashing = 1;
  return TB_MB_STATUS_OK;
}

static uint32_t
cmd_install_chunk (TbSbm *sbm, uint8_t *req, size_t len)
{
  uint32_t index, n;
  uint8_t nonce[12], aad[25];
  uint32_t offset;
  const TbSbmPlatform *p = sbm->p;

  if (!sbm->installing || sbm->chunk_count == 0)
    return TB_MB_ERR_STATE;
  if (len < 4 + 16)
    return TB_MB_ERR_BAD_REQUEST;
  index = rd32be (req);
  n = (uint32_t) (len - 4 - 16);
  if (index != sbm->next_chunk || index >= sbm->chunk_count ||
      n != (index + 1 == sbm->chunk_count ? (uint32_t) (sbm->image_size - (uint64_t) index * sbm->chunk_size)
                                          : sbm->chunk_size))
    {
      end_install (sbm);
      return TB_MB_ERR_CHUNK;
    }
  memcpy (nonce, sbm->nonce_prefix, 8);
  wr32be (nonce + 8, index);
  memcpy (aad, sbm->image_id, 16);
  wr32be (aad + 16, index);
  wr32be (aad + 20, sbm->chunk_count);
  aad[24] = index + 1 == sbm->chunk_count ? 1 : 0;
  /* authenticated (and decrypted in place) before a byte reaches flash */
  if (sbm->c->aes256_gcm_decrypt (sbm->image_key, nonce, aad, sizeof aad, req + 4, n, req + 4 + n, req + 4) != 0)
    {
      end_install (sbm);
      return TB_MB_ERR_CHUNK;
    }
  sbm->c->sha256_update (&sbm->running, req + 4, n);
  offset = staging_offset (p) + index * sbm->chunk_size;
  for (uint32_t o = 0; o < n; o += p->page_size)
    {
      uint32_t m = n - o < p->page_size ? n - o : p->page_size;
      if (p->flash_erase (p->ctx, offset + o) != 0 || p->flash_program (p->ctx, offset + o, req + 4 + o, m) != 0)
        {
          end_install (sbm);
          return TB_MB_ERR_FLASH;
        }
    }
  sbm->c->wipe (req + 4, n);
  sbm->next_chunk++;
  return TB_MB_STATUS_OK;
}

static uint32_t
cmd_install_finish (TbSbm *sbm, Writer *w)
{
  uint8_t digest[32];
  Record current, r;
  uint8_t uid[32];
  int uid_len;

  if (!sbm->installing || sbm->chunk_count == 0 || sbm->next_chunk != sbm->chunk_count)
    return TB_MB_ERR_STATE;
  sbm->hashing = 0;
  sbm->c->sha256_final (&sbm->running, digest);
  end_install (sbm);
  if (!ct_equal (digest, sbm->plaintext_sha256, 32))
    return TB_MB_ERR_DIGEST;

  memset (&r, 0, sizeof r);
  r.seq = latest_record (sbm, &current) >= 0 ? current.seq + 1 : 1;
  r.state = JOURNAL_STAGED;
  r.counter = sbm->counter;
  r.size = (uint32_t) sbm->image_size;
  memcpy (r.version, sbm->version, sizeof r.version - 1);
  memcpy (r.digest, digest, 32);
  if (write_record (sbm, &r) != 0 || complete_staged (sbm, &r) != 0)
    return TB_MB_ERR_FLASH;
  if (check_app (sbm) != TB_SBM_BOOT_OK)
    return TB_MB_ERR_DIGEST;

  /* the receipt, signed by the device key */
  uid_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_UID, uid, sizeof uid);
  if (uid_len <= 0)
    return TB_MB_ERR_STATE;
  put_u8 (w, (uint8_t) uid_len);
  put (w, uid, (size_t) uid_len);
  put (w, sbm->image_id, 16);
  put (w, digest, 32);
  put_u32 (w, sbm->counter);
  put_u8 (w, (uint8_t) strlen (sbm->version));
  put (w, sbm->version, strlen (sbm->version));
  return sign_append (sbm, w, "TBRECEIPT1", NULL, 0) == 0 ? TB_MB_STATUS_OK : TB_MB_ERR_CRYPTO;
}

/* The receipt of what runs now: the committed record of an application
 * that passed its check at the last reset, signed over the host's nonce.
 * A host that lost the install receipt (it crashed) asks for this one. */
static uint32_t
cmd_receipt (TbSbm *sbm, const uint8_t *req, size_t len, Writer *w)
{
  uint8_t nonce[32], uid[32];
  Record r;
  int uid_len;

  if (len != 32)
    return TB_MB_ERR_BAD_REQUEST;
  memcpy (nonce, req, 32); /* the response overwrites the request */
  if (sbm->boot != TB_SBM_BOOT_OK || latest_record (sbm, &r) < 0 || r.state != JOURNAL_COMMITTED)
    return TB_MB_ERR_STATE;
  uid_len = sbm->p->otp_read (sbm->p->ctx, TB_OTP_UID, uid, sizeof uid);
  if (uid_len <= 0)
    return TB_MB_ERR_STATE;
  put (w, nonce, 32);
  put_u8 (w, (uint8_t) uid_len);
  put (w, uid, (size_t) uid_len);
  put (w, r.digest, 32);
  put_u32 (w, r.counter);
  put_u8 (w, (uint8_t) strlen (r.version));
  put (w, r.version, strlen (r.version));
  return sign_append (sbm, w, "TBRECEIPT2", NULL, 0) == 0 ? TB_MB_STATUS_OK : TB_MB_ERR_CRYPTO;
}

/**
 * tb_sbm_handle_mailbox:
 *
 * Runs the command in the mailbox and leaves the status and the response
 * there. Every length read from the mailbox is bounded.
 */
void
tb_sbm_handle_mailbox (TbSbm *sbm)
{
  uint8_t *mb = sbm->p->mailbox;
  uint32_t command = rd32le (mb + TB_MB_OFF_COMMAND);
  uint32_t length = rd32le (mb + TB_MB_OFF_LENGTH);
  uint8_t *payload = mb + TB_MB_HEADER;
  uint8_t response[1024];
  Writer w = { response, 0, sizeof response, 0 };
  uint32_t status;

  wr32le (mb + TB_MB_OFF_STATUS, TB_MB_STATUS_BUSY);
  if (length > TB_MB_PAYLOAD_MAX)
    {
      set_status (sbm, TB_MB_ERR_BAD_REQUEST, 0);
      return;
    }
  switch (command)
    {
    case TB_MB_CMD_ATTEST: status = cmd_attest (sbm, payload, length, &w); break;
    case TB_MB_CMD_PROVISION: status = cmd_provision (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_BEGIN: status = cmd_install_begin (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_HEADER: status = cmd_install_header (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_CHUNK: status = cmd_install_chunk (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_FINISH: status = cmd_install_finish (sbm, &w); break;
    case TB_MB_CMD_RECEIPT: status = cmd_receipt (sbm, payload, length, &w); break;
    case TB_MB_CMD_LAYOUT: status = cmd_layout (sbm, length, &w); break;
    default: status = TB_MB_ERR_BAD_COMMAND; break;
    }
  if (status == TB_MB_STATUS_OK && w.bad)
    status = TB_MB_ERR_TOO_LARGE;
  if (status == TB_MB_STATUS_OK && w.len > 0)
    memcpy (payload, response, w.len);
  set_status (sbm, status, status == TB_MB_STATUS_OK ? (uint32_t) w.len : 0);
}

/* ---- updates staged by the application ----
 *
 * The application writes an update into the update region: a 16-byte
 * header (magic "TBUPD\0\0\1", UPK length, image length, little-endian)
 * followed by the UPK and the encrypted image. At the next reset the SBM
 * runs it through the same checks as an install over the mailbox, using
 * the mailbox buffer as its RAM, then erases the header: the update is
 * consumed whether it was installed or refused. A power cut before the
 * header is erased runs it again at the next reset. */

#define UPDATE_MAGIC "TBUPD\0\0\1"

static int
process_staged_update (TbSbm *sbm)
{
  const TbSbmPlatform *p = sbm->p;
  uint32_t base = tb_sbm_update_offset (p);
  uint32_t region = p->flash_size - base;
  uint8_t head[16];
  uint8_t *buf = p->mailbox + TB_MB_HEADER;
  uint32_t upk_len, image_len, pos;
  uint8_t scratch[512];
  Writer w = { scratch, 0, sizeof scratch, 0 };
  uint32_t status;

  if (p->flash_read (p->ctx, base, head, sizeof head) != 0 || memcmp (head, UPDATE_MAGIC, 8) != 0)
    return 0;
  upk_len = rd32le (head + 8);
  image_len = rd32le (head + 12);
  if (upk_len == 0 || upk_len > TB_MB_PAYLOAD_MAX || image_len < 64 || image_len > region ||
      16 + upk_len > region - image_len)
    goto consume;
  if (p->flash_read (p->ctx, base + 16, buf, upk_len) != 0 ||
      cmd_install_begin (sbm, buf, upk_len) != TB_MB_STATUS_OK)
    goto consume;
  pos = base + 16 + upk_len;
  if (p->flash_read (p->ctx, pos, buf, 64) != 0 || cmd_install_header (sbm, buf, 64) != TB_MB_STATUS_OK)
    goto consume;
  pos += 64;
  for (uint32_t i = 0; i < sbm->chunk_count; i++)
    {
      uint32_t n = (i + 1 == sbm->chunk_count ? (uint32_t) (sbm->image_size - (uint64_t) i * sbm->chunk_size)
                                              : sbm->chunk_size) + 16;
      if (pos + n > base + 16 + upk_len + image_len)
        goto consume;
      wr32be (buf, i);
      if (p->flash_read (p->ctx, pos, buf + 4, n) != 0 || cmd_install_chunk (sbm, buf, 4 + n) != TB_MB_STATUS_OK)
        goto consume;
      pos += n;
    }
  status = cmd_install_finish (sbm, &w);
  (void) status;

consume:
  end_install (sbm);
  memset (buf, 0, TB_MB_PAYLOAD_MAX);
  p->flash_erase (p->ctx, base);
  return 1;
}
