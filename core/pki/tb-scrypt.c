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
 * scrypt (RFC 7914) with its p lanes computed together, and the
 * decryption of a PKCS#8 key encrypted with PBES2 + scrypt on top of it.
 *
 * Keys at rest are PKCS#8 files encrypted with scrypt N = 2^14, r = 8,
 * p = 2 (docs/keys.md). OpenSSL computes the two lanes one after the
 * other; they are independent by design (ROMix runs on each 128·r-byte
 * lane of B alone), so here two lanes run interleaved on vectors, on one
 * thread (more pairs on more threads): unlocking a key takes about the
 * time of one of OpenSSL's lanes, on one core, with the same memory (each
 * lane has its own 16 MiB V) and the same result, which the tests check
 * against OpenSSL's
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

/* ---- two lanes at once, on vectors ----
 *
 * One lane's Salsa20/8 is a chain of dependent steps: on vectors it waits
 * on each step's latency, and the scalar code above, with four independent
 * quarter-rounds in flight, is as fast. Two lanes interleaved on vectors
 * fill those waits: a pair of lanes takes about the time of one scalar lane
 * on one thread, half the CPU time of two threads (docs/performance.md).
 * The vectors are GCC's generic ones (SSE2 on x86-64, NEON on ARM).
 *
 * The blocks are kept in the diagonal order below, so that each step of a
 * column round is one vector operation on four columns and a row round is
 * the same after rotating three of the vectors: position k of a block holds
 * word diagonal[k]; word 0, which Integerify reads, stays first. */

typedef guint32 TbV4 __attribute__ ((vector_size (16)));

static const guint8 diagonal[16] = { 0, 5, 10, 15, 4, 9, 14, 3, 8, 13, 2, 7, 12, 1, 6, 11 };

#define ROTL4(a, n) (((a) << (n)) | ((a) >> (32 - (n))))
#ifdef __clang__
#define SHUF4(v, a, b, c, d) __builtin_shufflevector ((v), (v), a, b, c, d)
#else
#define SHUF4(v, a, b, c, d) __builtin_shuffle ((v), (TbV4) { a, b, c, d })
#endif

/* A 64-byte block as four vectors: a struct rather than an array, so that
 * the compiler keeps it in registers. */
typedef struct {
  TbV4 v0, v1, v2, v3;
} TbBlock;

/* Salsa20/8 of two blocks at once: *pa and *pb become their cores'
 * outputs (the eight rounds, the input added back). */
static inline __attribute__ ((always_inline)) void
salsa20_8_pair (TbBlock *restrict pa, TbBlock *restrict pb)
{
  TbV4 a0 = pa->v0, a1 = pa->v1, a2 = pa->v2, a3 = pa->v3;
  TbV4 b0 = pb->v0, b1 = pb->v1, b2 = pb->v2, b3 = pb->v3;

  for (int i = 0; i < 8; i += 2)
    {
      /* columns: (0,4,8,12) (5,9,13,1) (10,14,2,6) (15,3,7,11) side by side */
      a1 ^= ROTL4 (a0 + a3, 7); b1 ^= ROTL4 (b0 + b3, 7);
      a2 ^= ROTL4 (a1 + a0, 9); b2 ^= ROTL4 (b1 + b0, 9);
      a3 ^= ROTL4 (a2 + a1, 13); b3 ^= ROTL4 (b2 + b1, 13);
      a0 ^= ROTL4 (a3 + a2, 18); b0 ^= ROTL4 (b3 + b2, 18);
      /* rows: the same, the vectors rotated to line the rows up */
      a3 = SHUF4 (a3, 1, 2, 3, 0); b3 = SHUF4 (b3, 1, 2, 3, 0);
      a1 = SHUF4 (a1, 3, 0, 1, 2); b1 = SHUF4 (b1, 3, 0, 1, 2);
      a2 = SHUF4 (a2, 2, 3, 0, 1); b2 = SHUF4 (b2, 2, 3, 0, 1);
      a3 ^= ROTL4 (a0 + a1, 7); b3 ^= ROTL4 (b0 + b1, 7);
      a2 ^= ROTL4 (a3 + a0, 9); b2 ^= ROTL4 (b3 + b0, 9);
      a1 ^= ROTL4 (a2 + a3, 13); b1 ^= ROTL4 (b2 + b3, 13);
      a0 ^= ROTL4 (a1 + a2, 18); b0 ^= ROTL4 (b1 + b2, 18);
      a3 = SHUF4 (a3, 3, 0, 1, 2); b3 = SHUF4 (b3, 3, 0, 1, 2);
      a1 = SHUF4 (a1, 1, 2, 3, 0); b1 = SHUF4 (b1, 1, 2, 3, 0);
      a2 = SHUF4 (a2, 2, 3, 0, 1); b2 = SHUF4 (b2, 2, 3, 0, 1);
    }
  pa->v0 += a0; pa->v1 += a1; pa->v2 += a2; pa->v3 += a3;
  pb->v0 += b0; pb->v1 += b1; pb->v2 += b2; pb->v3 += b3;
}

static inline __attribute__ ((always_inline)) void
block_xor (TbBlock *x, const TbV4 *in)
{
  x->v0 ^= in[0];
  x->v1 ^= in[1];
  x->v2 ^= in[2];
  x->v3 ^= in[3];
}

static inline __attribute__ ((always_inline)) void
block_store (const TbBlock *x, TbV4 *out)
{
  out[0] = x->v0;
  out[1] = x->v1;
  out[2] = x->v2;
  out[3] = x->v3;
}

/* BlockMix of two lanes at once: block_mix() on each. The working blocks
 * stay in registers (every loop over a block's vectors is written out, so
 * that the compiler keeps them there), read from @in, written to @out. */
static inline __attribute__ ((always_inline)) void
block_mix_pair (const TbV4 *in_a, TbV4 *out_a, const TbV4 *in_b, TbV4 *out_b, guint32 r)
{
  const TbV4 *last_a = in_a + (2 * r - 1) * 4, *last_b = in_b + (2 * r - 1) * 4;
  TbBlock xa = { last_a[0], last_a[1], last_a[2], last_a[3] };
  TbBlock xb = { last_b[0], last_b[1], last_b[2], last_b[3] };

  for (guint32 i = 0; i < 2 * r; i++)
    {
      gsize o = ((i & 1) ? (r + i / 2) : (i / 2)) * 4;

      block_xor (&xa, in_a + i * 4);
      block_xor (&xb, in_b + i * 4);
      salsa20_8_pair (&xa, &xb);
      block_store (&xa, out_a + o);
      block_store (&xb, out_b + o);
    }
}

/* A lane's bytes (little-endian words) into its working block, in the
 * diagonal order, and back. */
static void
lane_to_diagonal (const guint8 *lane, guint32 *x, guint32 r)
{
  for (gsize blk = 0; blk < 2 * (gsize) r; blk++)
    for (int k = 0; k < 16; k++)
      x[blk * 16 + k] = GUINT32_FROM_LE (((const guint32 *) lane)[blk * 16 + diagonal[k]]);
}

static void
lane_from_diagonal (const guint32 *x, guint8 *lane, guint32 r)
{
  for (gsize blk = 0; blk < 2 * (gsize) r; blk++)
    for (int k = 0; k < 16; k++)
      ((guint32 *) lane)[blk * 16 + diagonal[k]] = GUINT32_TO_LE (x[blk * 16 + k]);
}

/* ROMix on two lanes of the same N and r at once; both V are wiped.
 * Compiled once for each vector unit below (it is inlined into each). */
static inline __attribute__ ((always_inline)) void
romix_pair_body (Lane *la, Lane *lb)
{
  const gsize vecs = 8 * (gsize) la->r;
  const guint64 n = la->n;
  TbV4 *va = (TbV4 *) la->v, *vb = (TbV4 *) lb->v;
  TbV4 *xa = (TbV4 *) la->xy, *ya = xa + vecs;
  TbV4 *xb = (TbV4 *) lb->xy, *yb = xb + vecs;

  lane_to_diagonal (la->lane, la->xy, la->r);
  lane_to_diagonal (lb->lane, lb->xy, lb->r);
  for (guint64 i = 0; i < n; i += 2)
    {
      memcpy (va + i * vecs, xa, vecs * sizeof (TbV4));
      memcpy (vb + i * vecs, xb, vecs * sizeof (TbV4));
      block_mix_pair (xa, ya, xb, yb, la->r);
      memcpy (va + (i + 1) * vecs, ya, vecs * sizeof (TbV4));
      memcpy (vb + (i + 1) * vecs, yb, vecs * sizeof (TbV4));
      block_mix_pair (ya, xa, yb, xb, la->r);
    }
  for (guint64 i = 0; i < n; i += 2)
    {
      const TbV4 *pa = va + (xa[vecs - 4][0] & (n - 1)) * vecs;
      const TbV4 *pb = vb + (xb[vecs - 4][0] & (n - 1)) * vecs;

      for (gsize k = 0; k < vecs; k++)
        {
          xa[k] ^= pa[k];
          xb[k] ^= pb[k];
        }
      block_mix_pair (xa, ya, xb, yb, la->r);
      pa = va + (ya[vecs - 4][0] & (n - 1)) * vecs;
      pb = vb + (yb[vecs - 4][0] & (n - 1)) * vecs;
      for (gsize k = 0; k < vecs; k++)
        {
          ya[k] ^= pa[k];
          yb[k] ^= pb[k];
        }
      block_mix_pair (ya, xa, yb, xb, la->r);
    }
  lane_from_diagonal (la->xy, la->lane, la->r);
  lane_from_diagonal (lb->xy, lb->lane, lb->r);
  /* derived from the passphrase: wiped here, on the thread that used it */
  explicit_bzero (la->v, (n + 2) * vecs * sizeof (TbV4));
  explicit_bzero (lb->v, (n + 2) * vecs * sizeof (TbV4));
}

/* The same code for the baseline vectors (SSE2 on x86-64) and, where the
 * CPU has AVX-512VL, for its 128-bit form: the difference is vprold, a
 * rotate in one instruction where SSE2 takes three (two shifts and an or).
 * A quarter-round step is add, rotate, xor, each waiting on the one before,
 * so the rotate's latency is a third of the chain; docs/performance.md has
 * the figures. Only 128-bit vectors are used: no frequency penalty. */
static void
romix_pair_generic (Lane *la, Lane *lb)
{
  romix_pair_body (la, lb);
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define TB_SCRYPT_HAVE_AVX512VL 1

__attribute__ ((target ("avx512f,avx512vl"))) static void
romix_pair_avx512vl (Lane *la, Lane *lb)
{
  romix_pair_body (la, lb);
}
#endif

static gint generic_only;

static gboolean
use_avx512vl (void)
{
#ifdef TB_SCRYPT_HAVE_AVX512VL
  return !g_atomic_int_get (&generic_only) && __builtin_cpu_supports ("avx512vl");
#else
  return FALSE;
#endif
}

/**
 * tb_scrypt_use_generic_vectors:
 * @generic: %TRUE to use the baseline vector code even where the CPU has a
 *   better unit
 *
 * For tests: both forms of the two-lane code must give the same bytes.
 */
void
tb_scrypt_use_generic_vectors (gboolean generic)
{
  g_atomic_int_set (&generic_only, generic ? 1 : 0);
}

/**
 * tb_scrypt_get_vector_unit:
 *
 * Returns: the vector unit the two-lane code runs on: "avx512vl" or
 *   "generic"
 */
const char *
tb_scrypt_get_vector_unit (void)
{
  return use_avx512vl () ? "avx512vl" : "generic";
}

static void
romix_pair (Lane *la, Lane *lb)
{
#ifdef TB_SCRYPT_HAVE_AVX512VL
  if (use_avx512vl ())
    {
      romix_pair_avx512vl (la, lb);
      return;
    }
#endif
  romix_pair_generic (la, lb);
}

/* The lanes 2k and 2k + 1 on one thread, with vectors; a last odd lane
 * alone. */
static void
romix_unit (Lane *lanes, guint32 p, guint32 unit)
{
  if (2 * unit + 1 < p)
    romix_pair (&lanes[2 * unit], &lanes[2 * unit + 1]);
  else
    romix (&lanes[2 * unit]);
}

typedef struct {
  Lane *lanes;
  guint32 p;
  guint32 unit;
} Unit;

static gpointer
romix_thread (gpointer data)
{
  Unit *u = data;

  romix_unit (u->lanes, u->p, u->unit);
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
 * @p: the parallelization p; pairs of lanes beyond the first run on threads
 * @out: (out caller-allocates): @out_len bytes
 * @out_len: the length of the key to derive
 * @error: return location for a #GError
 *
 * Derives a key with scrypt (RFC 7914): the @p lanes of ROMix by pairs, each
 * pair on a thread of its own, its two lanes interleaved on vectors. The result is the same as EVP_PBE_scrypt()'s.
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
  g_autofree Unit *units = NULL;
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
      /* the lanes by pairs; the first pair on this thread, the others
       * beside it */
      guint32 n_units = (p + 1) / 2;

      units = g_new0 (Unit, n_units);
      for (guint32 u = 0; u < n_units; u++)
        units[u] = (Unit) { lanes, p, u };
      for (guint32 u = 1; u < n_units; u++)
        threads[u] = g_thread_try_new ("tb-scrypt", romix_thread, &units[u], NULL);
      romix_unit (lanes, p, 0);
      for (guint32 u = 1; u < n_units; u++)
        {
          if (threads[u] != NULL)
            g_thread_join (threads[u]);
          else
            romix_unit (lanes, p, u);
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
