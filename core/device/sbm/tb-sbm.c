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

#include "tb-sbm-private.h"


/* ---- little helpers ---- */

void
tb_sbm_set_status (TbSbm *sbm, uint32_t status, uint32_t length)
{
  wr32le (sbm->p->mailbox + TB_MB_OFF_LENGTH, length);
  wr32le (sbm->p->mailbox + TB_MB_OFF_COMMAND, TB_MB_CMD_NONE);
  wr32le (sbm->p->mailbox + TB_MB_OFF_STATUS, status);
}

int
tb_sbm_lifecycle (TbSbm *sbm)
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
int
tb_sbm_latest_record (TbSbm *sbm, Record *r)
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

int
tb_sbm_write_record (TbSbm *sbm, const Record *r)
{
  Record current;
  int which = tb_sbm_latest_record (sbm, &current);
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
int
tb_sbm_complete_staged (TbSbm *sbm, Record *r)
{
  uint8_t digest[32];
  Record committed = *r;

  if (digest_region (sbm, staging_offset (sbm->p), r->size, digest) != 0 || !ct_equal (digest, r->digest, 32))
    return -1;
  if (copy_staging (sbm, r->size) != 0)
    return -1;
  committed.seq = r->seq + 1;
  committed.state = JOURNAL_COMMITTED;
  if (tb_sbm_write_record (sbm, &committed) != 0)
    return -1;
  *r = committed;
  return 0;
}

/**
 * tb_sbm_init:
 *
 * Sets the SBM up at a reset. The mailbox's magic word is cleared: a host
 * that polls it after a reset must not see "ready" before tb_sbm_boot()
 * has done the boot checks (a real core runs them between the two).
 */
void
tb_sbm_init (TbSbm *sbm, const TbSbmPlatform *p, const TbSbmCrypto *c)
{
  memset (sbm, 0, sizeof *sbm);
  sbm->p = p;
  sbm->c = c;
  wr32le (p->mailbox + TB_MB_OFF_MAGIC, 0);
}

/* Finishes an interrupted copy, then checks the application against the
 * signature table. */
TbSbmBootResult
tb_sbm_check_app (TbSbm *sbm)
{
  Record r;
  uint8_t digest[32];

  sbm->app_version[0] = '\0';
  sbm->app_counter = 0;
  if (tb_sbm_latest_record (sbm, &r) < 0)
    return sbm->boot = TB_SBM_BOOT_NO_APP;
  if (r.state == JOURNAL_STAGED && tb_sbm_complete_staged (sbm, &r) != 0)
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
void
tb_sbm_end_install (TbSbm *sbm)
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
    tb_sbm_end_install (sbm);
}

static int process_staged_update (TbSbm *sbm);

/**
 * tb_sbm_boot:
 *
 * At every reset: finish an interrupted update, install an update the
 * application staged, then recompute the application digest against the
 * signature table; a modified application is refused. Only then is the
 * mailbox's magic word written: the SBM answers from here on.
 */
TbSbmBootResult
tb_sbm_boot (TbSbm *sbm)
{
  tb_sbm_end_install (sbm);
  tb_sbm_check_app (sbm);
  if (process_staged_update (sbm))
    tb_sbm_check_app (sbm);
  wr32le (sbm->p->mailbox + TB_MB_OFF_MAGIC, TB_MB_MAGIC);
  return sbm->boot;
}

/* ---- commands ---- */

/* Signs SHA-256(label ‖ prefix ‖ w's bytes) with the device key and appends
 * the DER signature preceded by its 2-byte length. */
int
tb_sbm_sign_append (TbSbm *sbm, Writer *w, const char *label, const uint8_t *prefix, size_t prefix_len)
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
  put_u8 (w, (uint8_t) tb_sbm_lifecycle (sbm));
  put_u32 (w, TB_SBM_VERSION);
  put (w, pub, 65);
  put_u8 (w, (uint8_t) sbm->boot);
  put_u8 (w, (uint8_t) strlen (sbm->app_version));
  put (w, sbm->app_version, strlen (sbm->app_version));
  put_u32 (w, sbm->app_counter);
  return tb_sbm_sign_append (sbm, w, "TBATTEST1", nonce, 32) == 0 ? TB_MB_STATUS_OK : TB_MB_ERR_CRYPTO;
}

/* Where the application slot is, so that a host can check an image against
 * it before it provisions (and locks) the device. Any tb_sbm_lifecycle. */
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
  int lc = tb_sbm_lifecycle (sbm);

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
  if (sbm->boot != TB_SBM_BOOT_OK || tb_sbm_latest_record (sbm, &r) < 0 || r.state != JOURNAL_COMMITTED)
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
  return tb_sbm_sign_append (sbm, w, "TBRECEIPT2", NULL, 0) == 0 ? TB_MB_STATUS_OK : TB_MB_ERR_CRYPTO;
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
      tb_sbm_set_status (sbm, TB_MB_ERR_BAD_REQUEST, 0);
      return;
    }
  switch (command)
    {
    case TB_MB_CMD_ATTEST: status = cmd_attest (sbm, payload, length, &w); break;
    case TB_MB_CMD_PROVISION: status = cmd_provision (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_BEGIN: status = tb_sbm_cmd_install_begin (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_HEADER: status = tb_sbm_cmd_install_header (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_CHUNK: status = tb_sbm_cmd_install_chunk (sbm, payload, length); break;
    case TB_MB_CMD_INSTALL_FINISH: status = tb_sbm_cmd_install_finish (sbm, &w); break;
    case TB_MB_CMD_RECEIPT: status = cmd_receipt (sbm, payload, length, &w); break;
    case TB_MB_CMD_LAYOUT: status = cmd_layout (sbm, length, &w); break;
    default: status = TB_MB_ERR_BAD_COMMAND; break;
    }
  if (status == TB_MB_STATUS_OK && w.bad)
    status = TB_MB_ERR_TOO_LARGE;
  if (status == TB_MB_STATUS_OK && w.len > 0)
    memcpy (payload, response, w.len);
  tb_sbm_set_status (sbm, status, status == TB_MB_STATUS_OK ? (uint32_t) w.len : 0);
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
      tb_sbm_cmd_install_begin (sbm, buf, upk_len) != TB_MB_STATUS_OK)
    goto consume;
  pos = base + 16 + upk_len;
  if (p->flash_read (p->ctx, pos, buf, 64) != 0 || tb_sbm_cmd_install_header (sbm, buf, 64) != TB_MB_STATUS_OK)
    goto consume;
  pos += 64;
  for (uint32_t i = 0; i < sbm->chunk_count; i++)
    {
      uint32_t n = (i + 1 == sbm->chunk_count ? (uint32_t) (sbm->image_size - (uint64_t) i * sbm->chunk_size)
                                              : sbm->chunk_size) + 16;
      if (pos + n > base + 16 + upk_len + image_len)
        goto consume;
      wr32be (buf, i);
      if (p->flash_read (p->ctx, pos, buf + 4, n) != 0 || tb_sbm_cmd_install_chunk (sbm, buf, 4 + n) != TB_MB_STATUS_OK)
        goto consume;
      pos += n;
    }
  status = tb_sbm_cmd_install_finish (sbm, &w);
  (void) status;

consume:
  tb_sbm_end_install (sbm);
  memset (buf, 0, TB_MB_PAYLOAD_MAX);
  p->flash_erase (p->ctx, base);
  return 1;
}
