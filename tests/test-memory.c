/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <string.h>

#include "trustbench.h"

/* OpenSSL's allocator can only be replaced before its first allocation:
 * main() calls tb_memory_init() first thing, as the programs do. */
static gboolean installed;

static void
fill (guint8 *p, gsize len, guint8 seed)
{
  for (gsize i = 0; i < len; i++)
    p[i] = (guint8) (seed + i * 31);
}

static gboolean
filled (const guint8 *p, gsize len, guint8 seed)
{
  for (gsize i = 0; i < len; i++)
    if (p[i] != (guint8) (seed + i * 31))
      return FALSE;
  return TRUE;
}

/* Small blocks stay malloc's, large ones get their own mapping; realloc
 * moves data across the line both ways without losing a byte. */
static void
test_allocations (void)
{
  const gsize big = 16u * 1024 * 1024 + 4096;
  guint8 *small, *large, *p;

  g_assert_true (installed);
  /* as OpenSSL's own allocator: nothing for nothing */
  g_assert_null (OPENSSL_malloc (0));

  small = OPENSSL_malloc (100);
  g_assert_nonnull (small);
  g_assert_false (tb_memory_is_huge (small));
  fill (small, 100, 1);

  large = OPENSSL_malloc (big);
  g_assert_nonnull (large);
  g_assert_true (tb_memory_is_huge (large));
  g_assert_cmpuint ((guintptr) large % (2u * 1024 * 1024), ==, 0);
  fill (large, big, 2);

  /* small → large: copied, the old block freed */
  p = OPENSSL_realloc (small, 8u * 1024 * 1024);
  g_assert_true (tb_memory_is_huge (p));
  g_assert_true (filled (p, 100, 1));
  small = p;

  /* large → smaller but still large: stays in place */
  p = OPENSSL_realloc (large, 5u * 1024 * 1024);
  g_assert_true (p == large);
  g_assert_true (filled (p, 5u * 1024 * 1024, 2));
  /* growing past its mapping: moved, contents kept */
  large = OPENSSL_realloc (p, 20u * 1024 * 1024);
  g_assert_true (tb_memory_is_huge (large));
  g_assert_true (filled (large, 5u * 1024 * 1024, 2));
  /* large → small: back to malloc */
  p = OPENSSL_realloc (large, 64);
  g_assert_false (tb_memory_is_huge (p));
  g_assert_false (tb_memory_is_huge (large));
  g_assert_true (filled (p, 64, 2));
  OPENSSL_free (p);

  OPENSSL_clear_free (small, 8u * 1024 * 1024);
  g_assert_false (tb_memory_is_huge (small));
  OPENSSL_free (NULL);
}

/* Many large blocks at once: past the table's size they come from malloc,
 * and every one still works. */
static void
test_many_large (void)
{
  guint8 *blocks[24];
  guint huge = 0;

  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      blocks[i] = OPENSSL_malloc (4u * 1024 * 1024);
      g_assert_nonnull (blocks[i]);
      fill (blocks[i], 4096, (guint8) i);
      huge += tb_memory_is_huge (blocks[i]);
    }
  g_assert_cmpuint (huge, >, 0);
  g_assert_cmpuint (huge, <, G_N_ELEMENTS (blocks));
  for (guint i = 0; i < G_N_ELEMENTS (blocks); i++)
    {
      g_assert_true (filled (blocks[i], 4096, (guint8) i));
      OPENSSL_free (blocks[i]);
    }
}

/* scrypt, whose 16 MiB now lives on huge pages, still gives RFC 7914's
 * answer: its third test vector, N = 16384 and r = 8 as our keys at rest. */
static void
test_scrypt_vector (void)
{
  static const guint8 expected[64] = {
    0x70, 0x23, 0xbd, 0xcb, 0x3a, 0xfd, 0x73, 0x48, 0x46, 0x1c, 0x06, 0xcd, 0x81, 0xfd, 0x38, 0xeb,
    0xfd, 0xa8, 0xfb, 0xba, 0x90, 0x4f, 0x8e, 0x3e, 0xa9, 0xb5, 0x43, 0xf6, 0x54, 0x5d, 0xa1, 0xf2,
    0xd5, 0x43, 0x29, 0x55, 0x61, 0x3f, 0x0f, 0xcf, 0x62, 0xd4, 0x97, 0x05, 0x24, 0x2a, 0x9a, 0xf9,
    0xe6, 0x1e, 0x85, 0xdc, 0x0d, 0x65, 0x1e, 0x40, 0xdf, 0xcf, 0x01, 0x7b, 0x45, 0x57, 0x58, 0x87,
  };
  guint8 out[64];

  g_assert_cmpint (EVP_PBE_scrypt ("pleaseletmein", 13, (const guint8 *) "SodiumChloride", 14, 16384, 8, 1, 0,
                                   out, sizeof out), ==, 1);
  g_assert_cmpmem (out, sizeof out, expected, sizeof expected);
}

int
main (int argc, char **argv)
{
  installed = tb_memory_init ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/tb/memory/allocations", test_allocations);
  g_test_add_func ("/tb/memory/many-large", test_many_large);
  g_test_add_func ("/tb/memory/scrypt-vector", test_scrypt_vector);
  return g_test_run ();
}
