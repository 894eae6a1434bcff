/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the SBM's files share (tb-sbm.c: boot, the signature table, the
 * mailbox; tb-sbm-install.c: the install commands). Plain C, no GLib. */

#include "tb-sbm.h"

#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* ---- the signature table's records ---- */

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

/* ---- little helpers ---- */

static inline uint32_t
rd32be (const uint8_t *p)
{
  return (uint32_t) p[0] << 24 | (uint32_t) p[1] << 16 | (uint32_t) p[2] << 8 | p[3];
}

static inline uint64_t
rd64be (const uint8_t *p)
{
  return (uint64_t) rd32be (p) << 32 | rd32be (p + 4);
}

static inline void
wr32le (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) v;
  p[1] = (uint8_t) (v >> 8);
  p[2] = (uint8_t) (v >> 16);
  p[3] = (uint8_t) (v >> 24);
}

static inline uint32_t
rd32le (const uint8_t *p)
{
  return (uint32_t) p[0] | (uint32_t) p[1] << 8 | (uint32_t) p[2] << 16 | (uint32_t) p[3] << 24;
}

static inline void
wr32be (uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t) (v >> 24);
  p[1] = (uint8_t) (v >> 16);
  p[2] = (uint8_t) (v >> 8);
  p[3] = (uint8_t) v;
}

static inline int
ct_equal (const uint8_t *a, const uint8_t *b, size_t len)
{
  uint8_t d = 0;
  for (size_t i = 0; i < len; i++)
    d |= a[i] ^ b[i];
  return d == 0;
}

static inline uint32_t
staging_offset (const TbSbmPlatform *p)
{
  return tb_sbm_app_offset (p) + tb_sbm_slot_size (p);
}

/* A cursor over a request, refusing to read past its end. */
typedef struct {
  const uint8_t *p;
  size_t left;
  int bad;
} Reader;

static inline const uint8_t *
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

static inline void
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

static inline void
put_u8 (Writer *w, uint8_t v)
{
  put (w, &v, 1);
}

static inline void
put_u32 (Writer *w, uint32_t v)
{
  uint8_t b[4];
  wr32be (b, v);
  put (w, b, 4);
}

/* ---- shared by boot, the mailbox and the install commands ---- */

void     tb_sbm_set_status        (TbSbm *sbm, uint32_t status, uint32_t length);
int      tb_sbm_lifecycle         (TbSbm *sbm);
int      tb_sbm_latest_record     (TbSbm *sbm, Record *r);
int      tb_sbm_write_record      (TbSbm *sbm, const Record *r);
int      tb_sbm_complete_staged   (TbSbm *sbm, Record *r);
TbSbmBootResult tb_sbm_check_app  (TbSbm *sbm);
void     tb_sbm_end_install       (TbSbm *sbm);
int      tb_sbm_sign_append       (TbSbm *sbm, Writer *w, const char *label, const uint8_t *prefix,
                                   size_t prefix_len);

uint32_t tb_sbm_cmd_install_begin  (TbSbm *sbm, const uint8_t *upk, size_t len);
uint32_t tb_sbm_cmd_install_header (TbSbm *sbm, const uint8_t *h, size_t len);
uint32_t tb_sbm_cmd_install_chunk  (TbSbm *sbm, uint8_t *req, size_t len);
uint32_t tb_sbm_cmd_install_finish (TbSbm *sbm, Writer *w);
