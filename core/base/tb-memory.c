/* SPDX-License-Identifier: GPL-3.0-or-later */
#include "config.h"

#include "tb-memory.h"

#include <malloc.h>
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/*
 * OpenSSL's large allocations on huge pages.
 *
 * Unlocking a key at rest runs scrypt over 16 MiB (docs/keys.md), which
 * OpenSSL takes from malloc: a fresh mapping, touched once, 4096 page
 * faults. On a virtual machine a fault costs microseconds, and unlocking
 * the mastering key spent a third of its time in them. Allocations of
 * 4 MiB and more are given their own 2 MiB-aligned mapping advised for
 * transparent huge pages instead: 8 faults. Everything smaller goes to
 * malloc as before, so memory OpenSSL hands out and the caller frees with
 * free() (or the reverse) keeps working; only the large blocks are
 * tracked, in a small table.
 */

#define HUGE_MIN (4u << 20)
#define HUGE_PAGE (2u << 20)
#define MAX_HUGE 16

typedef struct {
  void *ptr;
  gsize size;      /* what was asked for */
  gsize mapped;    /* the mapping, whole pages */
} HugeBlock;

static GMutex huge_lock;
static gint huge_live;
static HugeBlock huge[MAX_HUGE];

static void *
huge_map (gsize size)
{
  gsize mapped = (size + 4095) & ~(gsize) 4095;
  guint8 *raw, *start;
  gsize head;

  /* one huge page more than needed, to cut a 2 MiB-aligned range out of it */
  raw = mmap (NULL, mapped + HUGE_PAGE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (raw == MAP_FAILED)
    return NULL;
  start = (guint8 *) (((guintptr) raw + HUGE_PAGE - 1) & ~(guintptr) (HUGE_PAGE - 1));
  head = (gsize) (start - raw);
  if (head > 0)
    munmap (raw, head);
  if (HUGE_PAGE - head > 0)
    munmap (start + mapped, HUGE_PAGE - head);
  /* huge pages for the whole ones; the tail (scrypt asks for 16 MiB and a
   * few KiB) stays on small pages rather than adding a 2 MiB one to the RSS */
  madvise (start, size & ~(gsize) (HUGE_PAGE - 1), MADV_HUGEPAGE);

  g_mutex_lock (&huge_lock);
  for (guint i = 0; i < MAX_HUGE; i++)
    if (huge[i].ptr == NULL)
      {
        huge[i] = (HugeBlock) { start, size, mapped };
        g_atomic_int_inc (&huge_live);
        g_mutex_unlock (&huge_lock);
        return start;
      }
  g_mutex_unlock (&huge_lock);
  /* the table is full: this one goes to malloc */
  munmap (start, mapped);
  return NULL;
}

/* What the table does with a block it finds. */
typedef enum {
  HUGE_LOOK,
  HUGE_REMOVE,
  HUGE_RESIZE,
} HugeOp;

/* Finds @ptr in the table, copies its entry to @out and removes it or
 * records @size for it; FALSE if it is not a huge block. */
static gboolean
huge_find (const void *ptr, HugeOp op, gsize size, HugeBlock *out)
{
  gboolean found = FALSE;

  if (ptr == NULL || g_atomic_int_get (&huge_live) == 0)
    return FALSE;
  g_mutex_lock (&huge_lock);
  for (guint i = 0; i < MAX_HUGE && !found; i++)
    if (huge[i].ptr == ptr)
      {
        if (out != NULL)
          *out = huge[i];
        if (op == HUGE_REMOVE)
          {
            huge[i].ptr = NULL;
            g_atomic_int_dec_and_test (&huge_live);
          }
        else if (op == HUGE_RESIZE)
          huge[i].size = size;
        found = TRUE;
      }
  g_mutex_unlock (&huge_lock);
  return found;
}

static void *
tb_crypto_malloc (size_t size, const char *file, int line)
{
  void *p = NULL;

  /* as OpenSSL's own: nothing for nothing */
  if (size == 0)
    return NULL;
  if (size >= HUGE_MIN)
    p = huge_map (size);
  return p != NULL ? p : malloc (size);
}

static void
tb_crypto_free (void *ptr, const char *file, int line)
{
  HugeBlock b;

  if (huge_find (ptr, HUGE_REMOVE, 0, &b))
    munmap (b.ptr, b.mapped);
  else
    free (ptr);
}

static void *
tb_crypto_realloc (void *ptr, size_t size, const char *file, int line)
{
  HugeBlock b;
  void *p;

  if (ptr == NULL)
    return tb_crypto_malloc (size, file, line);
  if (size == 0)
    {
      tb_crypto_free (ptr, file, line);
      return NULL;
    }
  if (huge_find (ptr, HUGE_LOOK, 0, &b))
    {
      /* shrinking, or growing within its mapping: it stays where it is */
      if (size >= HUGE_MIN && size <= b.mapped && huge_find (ptr, HUGE_RESIZE, size, NULL))
        return ptr;
      p = tb_crypto_malloc (size, file, line);
      if (p == NULL)
        return NULL;
      memcpy (p, ptr, MIN (size, b.size));
      tb_crypto_free (ptr, file, line);
      return p;
    }
  if (size < HUGE_MIN || (p = huge_map (size)) == NULL)
    return realloc (ptr, size);
  memcpy (p, ptr, MIN (size, malloc_usable_size (ptr)));
  free (ptr);
  return p;
}

/**
 * tb_memory_init:
 *
 * Gives OpenSSL's allocations of 4 MiB and more (scrypt's working memory)
 * their own mapping on transparent huge pages. Call it first thing in
 * main(), before anything uses OpenSSL: once OpenSSL has allocated, its
 * allocator can no longer be changed and this does nothing.
 *
 * Returns: whether OpenSSL now allocates through Trustbench
 */
gboolean
tb_memory_init (void)
{
  static gsize done;
  static gboolean installed;

  if (g_once_init_enter (&done))
    {
      installed = CRYPTO_set_mem_functions (tb_crypto_malloc, tb_crypto_realloc, tb_crypto_free) == 1;
      g_once_init_leave (&done, 1);
    }
  return installed;
}

/**
 * tb_memory_is_huge:
 *
 * Returns: whether @ptr is an OpenSSL allocation on its own huge-page
 *   mapping (for tests)
 */
gboolean
tb_memory_is_huge (const void *ptr)
{
  return huge_find (ptr, HUGE_LOOK, 0, NULL);
}
