/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The SBM's install commands (docs/mailbox.md): INSTALL_BEGIN checks the
 * UPK (its signature, chain, product, device and counter) and unwraps the
 * image key, INSTALL_HEADER binds the image header, INSTALL_CHUNK
 * authenticates, decrypts and stages each chunk, INSTALL_FINISH checks the
 * whole image and commits it under a signature table record. */

#include "tb-sbm-private.h"

static const uint8_t p256_spki_prefix[26] = {
  0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01,
  0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00,
};

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

uint32_t
tb_sbm_cmd_install_begin (TbSbm *sbm, const uint8_t *upk, size_t len)
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

  tb_sbm_end_install (sbm);
  if (tb_sbm_lifecycle (sbm) < 2)
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

uint32_t
tb_sbm_cmd_install_header (TbSbm *sbm, const uint8_t *h, size_t len)
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
      tb_sbm_end_install (sbm);
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
      tb_sbm_end_install (sbm);
      return TB_MB_ERR_TOO_LARGE;
    }
  sbm->next_chunk = 0;
  sbm->c->sha256_init (&sbm->running);
  sbm->hashing = 1;
  return TB_MB_STATUS_OK;
}

uint32_t
tb_sbm_cmd_install_chunk (TbSbm *sbm, uint8_t *req, size_t len)
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
      tb_sbm_end_install (sbm);
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
      tb_sbm_end_install (sbm);
      return TB_MB_ERR_CHUNK;
    }
  sbm->c->sha256_update (&sbm->running, req + 4, n);
  offset = staging_offset (p) + index * sbm->chunk_size;
  for (uint32_t o = 0; o < n; o += p->page_size)
    {
      uint32_t m = n - o < p->page_size ? n - o : p->page_size;
      if (p->flash_erase (p->ctx, offset + o) != 0 || p->flash_program (p->ctx, offset + o, req + 4 + o, m) != 0)
        {
          tb_sbm_end_install (sbm);
          return TB_MB_ERR_FLASH;
        }
    }
  sbm->c->wipe (req + 4, n);
  sbm->next_chunk++;
  return TB_MB_STATUS_OK;
}

uint32_t
tb_sbm_cmd_install_finish (TbSbm *sbm, Writer *w)
{
  uint8_t digest[32];
  Record current, r;
  uint8_t uid[32];
  int uid_len;

  if (!sbm->installing || sbm->chunk_count == 0 || sbm->next_chunk != sbm->chunk_count)
    return TB_MB_ERR_STATE;
  sbm->hashing = 0;
  sbm->c->sha256_final (&sbm->running, digest);
  tb_sbm_end_install (sbm);
  if (!ct_equal (digest, sbm->plaintext_sha256, 32))
    return TB_MB_ERR_DIGEST;

  memset (&r, 0, sizeof r);
  r.seq = tb_sbm_latest_record (sbm, &current) >= 0 ? current.seq + 1 : 1;
  r.state = JOURNAL_STAGED;
  r.counter = sbm->counter;
  r.size = (uint32_t) sbm->image_size;
  memcpy (r.version, sbm->version, sizeof r.version - 1);
  memcpy (r.digest, digest, 32);
  if (tb_sbm_write_record (sbm, &r) != 0 || tb_sbm_complete_staged (sbm, &r) != 0)
    return TB_MB_ERR_FLASH;
  if (tb_sbm_check_app (sbm) != TB_SBM_BOOT_OK)
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
  return tb_sbm_sign_append (sbm, w, "TBRECEIPT1", NULL, 0) == 0 ? TB_MB_STATUS_OK : TB_MB_ERR_CRYPTO;
}
