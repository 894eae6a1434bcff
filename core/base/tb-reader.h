/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Reading a device's response field by field, bounds-checked: once a take
 * runs past the end the reader is bad and every later take yields NULL.
 * core/ only. */

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  const guint8 *p;
  gsize left;
  gboolean bad;
} TbReader;

static inline const guint8 *
tb_reader_take (TbReader *r, gsize n)
{
  const guint8 *v = r->p;

  if (r->bad || n > r->left)
    {
      r->bad = TRUE;
      return NULL;
    }
  r->p += n;
  r->left -= n;
  return v;
}

G_END_DECLS
