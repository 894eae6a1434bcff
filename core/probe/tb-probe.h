/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>

#include "tb-progress.h"

G_BEGIN_DECLS

/* Largest block moved in one request unless the backend sets its own
 * (tb_probe_set_block_size()); longer accesses are split. */
#define TB_PROBE_BLOCK_SIZE 4096u

#define TB_TYPE_PROBE (tb_probe_get_type ())
G_DECLARE_DERIVABLE_TYPE (TbProbe, tb_probe, TB, PROBE, GObject)

/**
 * TbProbeClass:
 * @read_memory: read target memory (at most the block size)
 * @write_memory: write target memory (at most the block size)
 * @reset: reset the target, halting it after the reset if asked
 * @halt: stop the core
 * @resume: let the core run again
 *
 * A debug probe attached to one target. Backends: virtual boards,
 * CMSIS-DAP and GDB remote servers.
 */
struct _TbProbeClass {
  GObjectClass parent_class;

  gboolean (*read_memory)  (TbProbe      *self,
                            guint32       address,
                            guint8       *buf,
                            gsize         len,
                            GError      **error);
  gboolean (*write_memory) (TbProbe      *self,
                            guint32       address,
                            const guint8 *data,
                            gsize         len,
                            GError      **error);
  gboolean (*reset)        (TbProbe      *self,
                            gboolean      halt,
                            GError      **error);
  gboolean (*halt)         (TbProbe      *self,
                            GError      **error);
  gboolean (*resume)       (TbProbe      *self,
                            GError      **error);

  gpointer padding[6];
};

typedef struct {
  char *uri;
  char *kind;
  char *serial;
  char *description;
  char *vendor;                 /* USB probes: from the device's strings */
  char *product;
  char *firmware;               /* USB probes: bcdDevice, "x.yy" */
} TbProbeInfo;

void         tb_probe_info_free    (TbProbeInfo  *info);
GPtrArray   *tb_probe_list         (GError      **error);
GPtrArray   *tb_probe_list_boards  (void);
TbProbe     *tb_probe_open         (const char   *uri,
                                    GError      **error);

const char  *tb_probe_get_uri      (TbProbe      *self);
const char  *tb_probe_get_kind     (TbProbe      *self);
const char  *tb_probe_get_serial   (TbProbe      *self);
const char  *tb_probe_get_description (TbProbe   *self);
guint64      tb_probe_get_bytes_moved (TbProbe   *self);
void         tb_probe_set_block_size (TbProbe    *self,
                                    gsize        block_size);
gboolean     tb_probe_read_memory  (TbProbe      *self,
                                    guint32       address,
                                    guint8       *buf,
                                    gsize         len,
                                    TbProgress   *progress,
                                    GError      **error);
gboolean     tb_probe_write_memory (TbProbe      *self,
                                    guint32       address,
                                    const guint8 *data,
                                    gsize         len,
                                    TbProgress   *progress,
                                    GError      **error);
gboolean     tb_probe_reset        (TbProbe      *self,
                                    gboolean      halt,
                                    GError      **error);
gboolean     tb_probe_halt         (TbProbe      *self,
                                    GError      **error);
gboolean     tb_probe_resume       (TbProbe      *self,
                                    GError      **error);

char        *tb_probe_get_boards_dir (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbProbeInfo, tb_probe_info_free)

G_END_DECLS
