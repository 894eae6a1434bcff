/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "trustbench.h"

G_BEGIN_DECLS

/* A small OEM context for the tests of one core type: a hierarchy for a
 * few products (made once per test binary: key generation and the
 * passphrase KDF are the slow part) and mastered images on demand. */

#define TB_TEST_OEM_PASS "oem test passphrase"

typedef struct {
  char *tmp;          /* removed with the OEM */
  char *dir;          /* the context */
  TbContext *ctx;     /* open for writing */
  char *product;      /* the first product */
} TbTestOem;

typedef struct {
  const char *product;               /* NULL: the first product */
  const char *version;               /* NULL: "1.0.0" */
  guint32 security_counter;
  guint64 load_address;              /* 0: the virtual board's application slot */
  gsize size;                        /* 0: 9000 bytes */
  const char *const *device_types;
  const char *const *device_uids;
} TbTestImage;

typedef struct {
  char *upk;
  char *image;
  guint8 *plain;
  gsize plain_len;
} TbTestMastered;

TbTestOem      *tb_test_oem_new      (const char *const *products);
void            tb_test_oem_free     (TbTestOem         *oem);
TbKey          *tb_test_oem_key      (TbTestOem         *oem,
                                      const char        *name);
TbTestMastered *tb_test_oem_master   (TbTestOem         *oem,
                                      const char        *name,
                                      const TbTestImage *image);
void            tb_test_mastered_free (TbTestMastered   *mastered);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTestOem, tb_test_oem_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbTestMastered, tb_test_mastered_free)

G_END_DECLS
