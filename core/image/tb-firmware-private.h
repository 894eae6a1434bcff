/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* What the firmware readers (tb-firmware-FORMAT.c) share with TbFirmware:
 * its fields, the segment builder and the reader interface. */

#include "tb-firmware.h"

G_BEGIN_DECLS

typedef struct {
  guint64 address;
  guint64 size;
  GBytes *data;        /* NULL for a raw binary read from its file */
} TbFirmwareSegment;

struct _TbFirmware {
  GObject parent_instance;

  TbFirmwareFormat format;
  char *origin;
  GArray *segments;    /* TbFirmwareSegment, sorted, not overlapping */
  gboolean has_entry;
  guint64 entry;
  int bin_fd;          /* raw binary: the file, read on demand */
};

/* Pieces of data, in file order, that become sorted, merged segments. */
typedef struct {
  guint64 address;
  gsize len;
  gsize offset;        /* into the builder's buffer */
  guint line;          /* or 1-based program header index for ELF */
} TbFirmwarePiece;

typedef struct {
  const char *origin;
  const char *unit;    /* "line" or "program header" */
  GArray *pieces;
  GByteArray *buf;
} TbFirmwareBuilder;

void     tb_firmware_builder_init      (TbFirmwareBuilder *builder,
                                        const char        *origin,
                                        const char        *unit);
void     tb_firmware_builder_clear     (TbFirmwareBuilder *builder);
gboolean tb_firmware_builder_add       (TbFirmwareBuilder *builder,
                                        guint64            address,
                                        const guint8      *data,
                                        gsize              len,
                                        guint              line,
                                        GError           **error);
gboolean tb_firmware_builder_finish    (TbFirmwareBuilder *builder,
                                        TbFirmware        *self,
                                        GError           **error);
gboolean tb_firmware_check_layout      (TbFirmware        *self,
                                        GError           **error);
gboolean tb_firmware_decode_hex_record (const char        *origin,
                                        guint              line,
                                        const char        *text,
                                        gsize              text_len,
                                        guint8            *out,
                                        gsize             *out_len,
                                        GError           **error);

/**
 * TbFirmwareReader:
 * @format: the format it reads
 * @name: its name on the command line (`--format NAME`)
 * @description: its name in messages
 * @extensions: (array zero-terminated=1): file name extensions, lower case
 * @is_text: the format is text: a file with NUL or 8-bit bytes is refused
 *   before @parse
 * @probe: (nullable): whether the first bytes of a file look like this format
 * @parse: (nullable): reads a whole file held in memory into @self
 * @load: (nullable): reads a file without holding it in memory
 *
 * One firmware format. Adding one: a tb-firmware-FORMAT.c with its reader,
 * a value in #TbFirmwareFormat and a line in the table of tb-firmware.c.
 */
typedef struct {
  TbFirmwareFormat format;
  const char *name;
  const char *description;
  const char *const *extensions;
  gboolean is_text;
  gboolean (*probe) (const guint8 *head, gsize head_len);
  gboolean (*parse) (TbFirmware *self, const guint8 *data, gsize len, GError **error);
  TbFirmware *(*load) (const char *path, guint64 load_address, GError **error);
} TbFirmwareReader;

extern const TbFirmwareReader tb_firmware_reader_bin;
extern const TbFirmwareReader tb_firmware_reader_ihex;
extern const TbFirmwareReader tb_firmware_reader_srec;
extern const TbFirmwareReader tb_firmware_reader_elf;

G_END_DECLS
