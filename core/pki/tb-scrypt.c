/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-scrypt.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/pkcs12.h>
#include <openssl/x509.h>
#include <string.h>

#include "tb-error.h"
#include "tb-openssl-private.h"
#include "tb-memory.h"
#include "tb-secret.h"

/*
 * scrypt (RFC 7914) with its p lanes on threads of their own, and the
 * decryption of a PKCS#8 key encrypted with PBES2 + scrypt on top of it.
 *
 * Keys at rest are PKCS#8 files encrypted with scrypt N = 2^14, r = 8,
 * p = 2 (docs/keys.md). OpenSSL computes the two lanes one after the
 * other; they are independent by design (ROMix runs on each 128·r-byte
 * lane of B alone), so here each gets a core: unlocking a key takes about
 * half the wall time, with the same memory (each lane has its own 8 MiB V)
 * and the same result, which the tests check against OpenSSL's
 * EVP_PBE_scrypt() over many parameters. Only the derivation is ours: the
 * PBKDF2 steps around it, the ASN.1, the cipher and the key parsing are
 * OpenSSL's, and anything but PBES2 with scrypt is left to
 * PKCS8_decrypt_ex() whole.
 */

/* The limits OpenSSL's own PKCS#8 path applies (1 GiB of memory, N < 2^(16r)). */
#define TB_SCRYPT_MAX_MEM ((guint64) 1 << 30)

static inline guint32
rotl (guint32 a, unsigned b)
{
  return (a << b) | (a >> (32 - b));
}

/* Salsa20/8 core (RFC 7914 §3), in place on 16 words. */
static void
salsa20_8 (guint32 b[16])
{
  guint32 x[16];

  memcpy (x, b, sizeof x);
  for (int i = 0; i < 8; i += 2)
    {
      /* columns */
      x[4] ^= rotl (x[0] + x[12], 7);
      x[8] ^= rotl (x[4] + x[0], 9);
      x[12] ^= rotl (x[8] + x[4], 13);
      x[0] ^= rotl (x[12] + x[8], 18);
      x[9] ^= rotl (x[5] + x[1], 7);
      x[13] ^= rotl (x[9] + x[5], 9);
      x[1] ^= rotl (x[13] + x[9], 13);
      x[5] ^= rotl (x[1] + x[13], 18);
      x[14] ^= rotl (x[10] + x[6], 7);
      x[2] ^= rotl (x[14] + x[10], 9);
      x[6] ^= rotl (x[2] + x[14], 13);
      x[10] ^= rotl (x[6] + x[2], 18);
      x[3] ^= rotl (x[15] + x[11], 7);
      x[7] ^= rotl (x[3] + x[15], 9);
      x[11] ^= rotl (x[7] + x[3], 13);
      x[15] ^= rotl (x[11] + x[7], 18);
      /* rows */
      x[1] ^= rotl (x[0] + x[3], 7);
      x[2] ^= rotl (x[1] + x[0], 9);
      x[3] ^= rotl (x[2] + x[1], 13);
      x[0] ^= rotl (x[3] + x[2], 18);
      x[6] ^= rotl (x[5] + x[4], 7);
      x[7] ^= rotl (x[6] + x[5], 9);
      x[4] ^= rotl (x[7] + x[6], 13);
      x[5] ^= rotl (x[4] + x[7], 18);
      x[11] ^= rotl (x[10] + x[9], 7);
      x[8] ^= rotl (x[11] + x[10], 9);
      x[9] ^= rotl (x[8] + x[11], 13);
      x[10] ^= rotl (x[9] + x[8], 18);
      x[12] ^= rotl (x[15] + x[14], 7);
      x[13] ^= rotl (x[12] + x[15], 9);
      x[14] ^= rotl (x[13] + x[12], 13);
      x[15] ^= rotl (x[14] + x[13], 18);
    }
  for (int i = 0; i < 16; i++)
    b[i] += x[i];
}

/* BlockMix with Salsa20/8 (RFC 7914 §4): in (2r blocks of 16 words) →
 * out, the even results first, then the odd ones. */
static void
block_mix (const guint32 *in, guint32 *out, guint32 r)
{
  guint32 x[16];

  memcpy (x, in + (2 * r - 1) * 16, sizeof x);
  for (guint32 i = 0; i < 2 * r; i++)
    {
      for (int k = 0; k < 16; k++)
        x[k] ^= in[i * 16 + k];
      salsa20_8 (x);
      memcpy (out + ((i & 1) ? (r + i / 2) : (i / 2)) * 16, x, sizeof x);
    }
}

typedef struct {
  guint8 *lane;    /* 128·r bytes of B, mixed in place */
  guint64 n;
  guint32 r;
  guint32 *v;      /* n · 32·r words */
  guint32 *xy;     /* 64·r words */
} Lane;

/* ROMix (RFC 7914 §5) on one lane; V is wiped before it returns. */
static void
romix (Lane *l)
{
  const gsize words = 32 * (gsize) l->r;
  guint32 *x = l->xy, *y = l->xy + words;

  for (gsize k = 0; k < words; k++)
    x[k] = GUINT32_FROM_LE (((guint32 *) l->lane)[k]);
  for (guint64 i = 0; i < l->n; i += 2)
    {
      memcpy (l->v + i * words, x, words * 4);
      block_mix (x, y, l->r);
      memcpy (l->v + (i + 1) * words, y, words * 4);
      block_mix (y, x, l->r);
    }
  for (guint64 i = 0; i < l->n; i += 2)
    {
      guint64 j = x[words - 16] & (l->n - 1);
      const guint32 *vj = l->v + j * words;

      for (gsize k = 0; k < words; k++)
        x[k] ^= vj[k];
      block_mix (x, y, l->r);
      j = y[words - 16] & (l->n - 1);
      vj = l->v + j * words;
      for (gsize k = 0; k < words; k++)
        y[k] ^= vj[k];
      block_mix (y, x, l->r);
    }
  for (gsize k = 0; k < words; k++)
    ((guint32 *) l->lane)[k] = GUINT32_TO_LE (x[k]);
  /* derived from the passphrase: wiped here, each lane on its own thread */
  explicit_bzero (l->v, (l->n + 2) * words * 4);
}

static gpointer
romix_thread (gpointer data)
{
  romix (data);
  return NULL;
}

/**
 * tb_scrypt:
 * @pass: the passphrase
 * @pass_len: its length in bytes
 * @salt: the salt
 * @salt_len: its length
 * @n: the cost N, a power of 2 greater than 1
 * @r: the block size r
 * @p: the parallelization p; lanes beyond the first run on threads
 * @out: (out caller-allocates): @out_len bytes
 * @out_len: the length of the key to derive
 * @error: return location for a #GError
 *
 * Derives a key with scrypt (RFC 7914), each of the @p lanes of ROMix on a
 * thread of its own. The result is the same as EVP_PBE_scrypt()'s.
 * Parameters OpenSSL would refuse (N not a power of 2, more than 1 GiB of
 * memory) are refused with %TB_ERROR_INVALID_DATA.
 *
 * Returns: %TRUE on success
 */
gboolean
tb_scrypt (const char *pass, gsize pass_len, const guint8 *salt, gsize salt_len, guint64 n, guint32 r,
           guint32 p, guint8 *out, gsize out_len, GError **error)
{
  g_autofree guint8 *b = NULL;
  g_autofree Lane *lanes = NULL;
  g_autofree GThread **threads = NULL;
  gsize lane_bytes, v_bytes;
  gboolean ok = TRUE;

  g_return_val_if_fail (pass != NULL || pass_len == 0, FALSE);
  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (n < 2 || (n & (n - 1)) != 0 || r == 0 || p == 0 || out_len == 0 || out_len > G_MAXINT ||
      pass_len > G_MAXINT || salt_len > G_MAXINT || (16 * r < 64 && n >> (16 * r) != 0) ||
      (guint64) r * p >= (1u << 30) || 128 * (guint64) r * (n + 2) > TB_SCRYPT_MAX_MEM / p)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("scrypt parameters out of range (N %" G_GUINT64_FORMAT ", r %u, p %u)"), n, r, p);
      return FALSE;
    }
  lane_bytes = 128 * (gsize) r;
  v_bytes = lane_bytes * (gsize) n;

  b = g_malloc (lane_bytes * p);
  if (PKCS5_PBKDF2_HMAC (pass, (int) pass_len, salt, (int) salt_len, 1, EVP_sha256 (), (int) (lane_bytes * p), b) != 1)
    {
      tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("PBKDF2 failed"));
      return FALSE;
    }

  lanes = g_new0 (Lane, p);
  threads = g_new0 (GThread *, p);
  for (guint32 i = 0; i < p; i++)
    {
      lanes[i] = (Lane) {
        .lane = b + i * lane_bytes, .n = n, .r = r,
        /* OpenSSL's allocator: blocks this large go on huge pages (tb-memory.c) */
        .v = OPENSSL_malloc (v_bytes + 2 * lane_bytes),
      };
      if (lanes[i].v == NULL)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Not enough memory for scrypt (%" G_GSIZE_FORMAT " MiB)"),
                       v_bytes >> 20);
          ok = FALSE;
          break;
        }
      lanes[i].xy = lanes[i].v + v_bytes / 4;
    }
  if (ok)
    {
      /* the first lane on this thread, the others beside it */
      for (guint32 i = 1; i < p; i++)
        threads[i] = g_thread_try_new ("tb-scrypt", romix_thread, &lanes[i], NULL);
      romix (&lanes[0]);
      for (guint32 i = 1; i < p; i++)
        {
          if (threads[i] != NULL)
            g_thread_join (threads[i]);
          else
            romix (&lanes[i]);
        }
      if (PKCS5_PBKDF2_HMAC (pass, (int) pass_len, b, (int) (lane_bytes * p), 1, EVP_sha256 (), (int) out_len,
                             out) != 1)
        {
          tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("PBKDF2 failed"));
          ok = FALSE;
        }
    }
  for (guint32 i = 0; i < p; i++)
    if (lanes[i].v != NULL)
      OPENSSL_free (lanes[i].v); /* wiped by romix(), or never written */
  tb_secret_wipe (b, lane_bytes * p);
  return ok;
}

/* The scrypt parameters of a PBES2 key derivation, or FALSE if it is not scrypt. */
static gboolean
scrypt_params (const X509_ALGOR *keyfunc, guint64 *n, guint64 *r, guint64 *p, guint64 *key_len,
               ASN1_OCTET_STRING **salt, SCRYPT_PARAMS **params)
{
  if (OBJ_obj2nid (keyfunc->algorithm) != NID_id_scrypt || keyfunc->parameter == NULL ||
      keyfunc->parameter->type != V_ASN1_SEQUENCE)
    return FALSE;
  *params = ASN1_item_unpack (keyfunc->parameter->value.sequence, ASN1_ITEM_rptr (SCRYPT_PARAMS));
  if (*params == NULL)
    return FALSE;
  *key_len = 0;
  if (ASN1_INTEGER_get_uint64 (n, (*params)->costParameter) != 1 ||
      ASN1_INTEGER_get_uint64 (r, (*params)->blockSize) != 1 ||
      ASN1_INTEGER_get_uint64 (p, (*params)->parallelizationParameter) != 1 ||
      ((*params)->keyLength != NULL && ASN1_INTEGER_get_uint64 (key_len, (*params)->keyLength) != 1) ||
      *r > G_MAXUINT32 || *p > G_MAXUINT32)
    {
      ERR_clear_error ();
      g_clear_pointer (params, SCRYPT_PARAMS_free);
      return FALSE;
    }
  *salt = (*params)->salt;
  return TRUE;
}

/**
 * tb_pkcs8_decrypt:
 * @p8: an encrypted PKCS#8 private key
 * @pass: the passphrase
 * @pass_len: its length in bytes
 * @error: return location for a #GError
 *
 * Decrypts @p8 as PKCS8_decrypt_ex() does. When it is encrypted with PBES2
 * and scrypt, the key is derived by tb_scrypt(), its lanes in parallel;
 * any other scheme goes to OpenSSL whole.
 *
 * Returns: (transfer full): the private key info, or %NULL with
 *   %TB_ERROR_PERMISSION when the passphrase is wrong (or the data does not
 *   decrypt), %TB_ERROR_INVALID_DATA when the parameters are unusable
 */
PKCS8_PRIV_KEY_INFO *
tb_pkcs8_decrypt (const X509_SIG *p8, const char *pass, gsize pass_len, GError **error)
{
  const X509_ALGOR *alg = NULL;
  const ASN1_OCTET_STRING *enc = NULL;
  PBE2PARAM *pbe2 = NULL;
  SCRYPT_PARAMS *sp = NULL;
  ASN1_OCTET_STRING *salt = NULL;
  EVP_CIPHER *cipher = NULL;
  EVP_CIPHER_CTX *ctx = NULL;
  PKCS8_PRIV_KEY_INFO *info = NULL;
  guint8 key[EVP_MAX_KEY_LENGTH];
  guint8 *plain = NULL;
  gsize plain_cap = 0;
  guint64 n, r, p, key_len;
  int len = 0, fin = 0;
  const unsigned char *q;

  g_return_val_if_fail (p8 != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  X509_SIG_get0 (p8, &alg, &enc);
  if (OBJ_obj2nid (alg->algorithm) == NID_pbes2 && alg->parameter != NULL &&
      alg->parameter->type == V_ASN1_SEQUENCE)
    pbe2 = ASN1_item_unpack (alg->parameter->value.sequence, ASN1_ITEM_rptr (PBE2PARAM));
  if (pbe2 == NULL || !scrypt_params (pbe2->keyfunc, &n, &r, &p, &key_len, &salt, &sp))
    {
      /* not PBES2 with scrypt: OpenSSL's own path */
      ERR_clear_error ();
      PBE2PARAM_free (pbe2);
      info = PKCS8_decrypt_ex (p8, pass, (int) pass_len, NULL, NULL);
      if (info == NULL)
        {
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("The key does not decrypt with this passphrase"));
        }
      return info;
    }

  cipher = EVP_CIPHER_fetch (NULL, OBJ_nid2sn (OBJ_obj2nid (pbe2->encryption->algorithm)), NULL);
  ctx = EVP_CIPHER_CTX_new ();
  if (cipher == NULL || ctx == NULL || EVP_CIPHER_get_key_length (cipher) <= 0 ||
      EVP_CIPHER_get_key_length (cipher) > (int) sizeof key ||
      (key_len != 0 && key_len != (guint64) EVP_CIPHER_get_key_length (cipher)) ||
      EVP_CipherInit_ex2 (ctx, cipher, NULL, NULL, 0, NULL) != 1 ||
      EVP_CIPHER_asn1_to_param (ctx, pbe2->encryption->parameter) <= 0)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA, _("The key's encryption scheme is not usable"));
      goto out;
    }
  if (!tb_scrypt (pass, pass_len, salt->data, (gsize) salt->length, n, (guint32) r, (guint32) p, key,
                  (gsize) EVP_CIPHER_get_key_length (cipher), error))
    goto out;

  plain_cap = (gsize) enc->length + (gsize) EVP_CIPHER_get_block_size (cipher);
  plain = g_malloc (plain_cap);
  if (EVP_CipherInit_ex2 (ctx, NULL, key, NULL, 0, NULL) != 1 ||
      EVP_DecryptUpdate (ctx, plain, &len, enc->data, enc->length) != 1 ||
      EVP_DecryptFinal_ex (ctx, plain + len, &fin) != 1)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("The key does not decrypt with this passphrase"));
      goto out;
    }
  q = plain;
  info = d2i_PKCS8_PRIV_KEY_INFO (NULL, &q, len + fin);
  if (info == NULL)
    {
      ERR_clear_error ();
      g_set_error (error, TB_ERROR, TB_ERROR_PERMISSION, _("The key does not decrypt with this passphrase"));
    }

out:
  OPENSSL_cleanse (key, sizeof key);
  if (plain != NULL)
    {
      tb_secret_wipe (plain, plain_cap);
      g_free (plain);
    }
  EVP_CIPHER_CTX_free (ctx);
  EVP_CIPHER_free (cipher);
  SCRYPT_PARAMS_free (sp);
  PBE2PARAM_free (pbe2);
  return info;
}
