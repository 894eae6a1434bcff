/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbFirmware:
 *
 * A firmware image as memory segments, read from a raw binary (with its
 * load address), Intel HEX, Motorola S-records or ELF. The flat image
 * runs from the lowest to the highest loaded address with gaps filled
 * with the erased value 0xFF; it is read piecewise with tb_firmware_read()
 * so that nothing needs the whole image in memory (a raw binary is read
 * from its file on demand).
 *
 * Input is checked as it is read: checksums, record lengths, record
 * types, overlapping data, missing end records, truncated ELF segments;
 * every error names the file and the line or offset. Segments farther
 * apart than %TB_FIRMWARE_MAX_GAP_BYTES are refused with the gap named,
 * rather than filled into a huge image.
 *
 * Each format has a reader of its own (#TbFirmwareReader, in
 * tb-firmware-bin.c, -ihex.c, -srec.c and -elf.c): its name, extensions,
 * a probe of the first bytes and a parser. This file holds the object,
 * the segment builder they share, the table of readers and the flat view.
 */

#include "config.h"

#include "tb-firmware-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-error.h"
#include "tb-file.h"

G_DEFINE_FINAL_TYPE (TbFirmware, tb_firmware, G_TYPE_OBJECT)

static void
segment_clear (TbFirmwareSegment *segment)
{
  g_clear_pointer (&segment->data, g_bytes_unref);
}

static void
tb_firmware_finalize (GObject *object)
{
  TbFirmware *self = TB_FIRMWARE (object);

  g_array_unref (self->segments);
  if (self->bin_fd >= 0)
    close (self->bin_fd);
  g_free (self->origin);
  G_OBJECT_CLASS (tb_firmware_parent_class)->finalize (object);
}

static void
tb_firmware_class_init (TbFirmwareClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_firmware_finalize;
}

static void
tb_firmware_init (TbFirmware *self)
{
  self->segments = g_array_new (FALSE, TRUE, sizeof (TbFirmwareSegment));
  g_array_set_clear_func (self->segments, (GDestroyNotify) segment_clear);
  self->bin_fd = -1;
}

static const TbFirmwareReader *const readers[] = {
  &tb_firmware_reader_bin,
  &tb_firmware_reader_ihex,
  &tb_firmware_reader_srec,
  &tb_firmware_reader_elf,
};

static const TbFirmwareReader *
find_reader (TbFirmwareFormat format)
{
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    if (readers[i]->format == format)
      return readers[i];
  return NULL;
}

const char *
tb_firmware_format_to_string (TbFirmwareFormat format)
{
  const TbFirmwareReader *reader = find_reader (format);

  return reader != NULL ? reader->name : "auto";
}

gboolean
tb_firmware_format_from_string (const char *text, TbFirmwareFormat *format, GError **error)
{
  for (TbFirmwareFormat f = TB_FIRMWARE_FORMAT_AUTO; f <= TB_FIRMWARE_FORMAT_ELF; f++)
    if (g_strcmp0 (text, tb_firmware_format_to_string (f)) == 0)
      {
        *format = f;
        return TRUE;
      }
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
               _("Unknown firmware format “%s”: expected bin, ihex, srec or elf"), text);
  return FALSE;
}

/**
 * tb_firmware_guess_format:
 * @path: (nullable): the file name
 * @head: the first bytes of the file
 *
 * Returns: the format by extension, else by content, else
 *   %TB_FIRMWARE_FORMAT_AUTO when it cannot tell
 */
TbFirmwareFormat
tb_firmware_guess_format (const char *path, const guint8 *head, gsize head_len)
{
  g_autofree char *lower = path != NULL ? g_ascii_strdown (path, -1) : NULL;

  for (guint i = 0; lower != NULL && i < G_N_ELEMENTS (readers); i++)
    for (guint e = 0; readers[i]->extensions[e] != NULL; e++)
      if (g_str_has_suffix (lower, readers[i]->extensions[e]))
        return readers[i]->format;
  for (guint i = 0; i < G_N_ELEMENTS (readers); i++)
    if (readers[i]->probe != NULL && readers[i]->probe (head, head_len))
      return readers[i]->format;
  return TB_FIRMWARE_FORMAT_AUTO;
}

/* ---- building segments from pieces ---- */

void
tb_firmware_builder_init (TbFirmwareBuilder *b, const char *origin, const char *unit)
{
  b->origin = origin;
  b->unit = unit;
  b->pieces = g_array_new (FALSE, FALSE, sizeof (TbFirmwarePiece));
  b->buf = g_byte_array_new ();
}

void
tb_firmware_builder_clear (TbFirmwareBuilder *b)
{
  g_array_unref (b->pieces);
  g_byte_array_unref (b->buf);
}

gboolean
tb_firmware_builder_add (TbFirmwareBuilder *b, guint64 address, const guint8 *data, gsize len, guint line, GError **error)
{
  TbFirmwarePiece piece = { address, len, b->buf->len, line };

  if (len == 0)
    return TRUE;
  if (address > G_MAXUINT64 - len || address + len > (G_GUINT64_CONSTANT (1) << 48))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: address 0x%" G_GINT64_MODIFIER "x is out of range"),
                   b->origin, line, address);
      return FALSE;
    }
  if (b->buf->len + len > TB_FIRMWARE_MAX_FILE_BYTES)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: more than %u bytes of data"), b->origin,
                   TB_FIRMWARE_MAX_FILE_BYTES);
      return FALSE;
    }
  g_byte_array_append (b->buf, data, (guint) len);
  g_array_append_val (b->pieces, piece);
  return TRUE;
}

static int
piece_compare (gconstpointer a, gconstpointer b)
{
  const TbFirmwarePiece *pa = a, *pb = b;

  if (pa->address != pb->address)
    return pa->address < pb->address ? -1 : 1;
  return (int) pa->line - (int) pb->line;
}

static char *
format_size (guint64 bytes)
{
  return g_format_size_full (bytes, G_FORMAT_SIZE_IEC_UNITS);
}

/* Checks gaps and the total size of sorted segments. */
gboolean
tb_firmware_check_layout (TbFirmware *self, GError **error)
{
  TbFirmwareSegment *first;
  TbFirmwareSegment *last;

  if (self->segments->len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s holds no data to load"), self->origin);
      return FALSE;
    }
  for (guint i = 1; i < self->segments->len; i++)
    {
      TbFirmwareSegment *prev = &g_array_index (self->segments, TbFirmwareSegment, i - 1);
      TbFirmwareSegment *seg = &g_array_index (self->segments, TbFirmwareSegment, i);
      guint64 gap = seg->address - (prev->address + prev->size);

      if (gap > TB_FIRMWARE_MAX_GAP_BYTES)
        {
          g_autofree char *gap_text = format_size (gap);
          g_autofree char *max_text = format_size (TB_FIRMWARE_MAX_GAP_BYTES);
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s: the data at 0x%08" G_GINT64_MODIFIER "x–0x%08" G_GINT64_MODIFIER "x and at 0x%08"
                         G_GINT64_MODIFIER "x–0x%08" G_GINT64_MODIFIER "x are %s apart, more than the %s a gap may "
                         "have; master the regions separately (e.g. leave out a configuration block)"),
                       self->origin, prev->address, prev->address + prev->size - 1, seg->address,
                       seg->address + seg->size - 1, gap_text, max_text);
          return FALSE;
        }
    }
  first = &g_array_index (self->segments, TbFirmwareSegment, 0);
  last = &g_array_index (self->segments, TbFirmwareSegment, self->segments->len - 1);
  /* the targets are 32-bit microcontrollers: nothing loads above 4 GiB */
  if (last->address > TB_FIRMWARE_ADDRESS_LIMIT || last->size > TB_FIRMWARE_ADDRESS_LIMIT - last->address)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s: the data at 0x%08" G_GINT64_MODIFIER "x (%" G_GUINT64_FORMAT " bytes) runs past 0xffffffff, "
                     "the end of a 32-bit device's address space"),
                   self->origin, last->address, last->size);
      return FALSE;
    }
  if (last->address + last->size - first->address > TB_FIRMWARE_MAX_IMAGE_BYTES)
    {
      g_autofree char *size_text = format_size (last->address + last->size - first->address);
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the image would be %s, more than the limit of 1 GiB"),
                   self->origin, size_text);
      return FALSE;
    }
  return TRUE;
}

/* Sorts the pieces, refuses overlaps, merges adjacent pieces into
 * segments. */
gboolean
tb_firmware_builder_finish (TbFirmwareBuilder *b, TbFirmware *self, GError **error)
{
  g_array_sort (b->pieces, piece_compare);
  for (guint i = 0; i < b->pieces->len;)
    {
      TbFirmwarePiece *start = &g_array_index (b->pieces, TbFirmwarePiece, i);
      guint64 end = start->address + start->len;
      guint j = i + 1;
      TbFirmwareSegment seg = { start->address, 0, NULL };
      GByteArray *bytes;

      for (; j < b->pieces->len; j++)
        {
          TbFirmwarePiece *p = &g_array_index (b->pieces, TbFirmwarePiece, j);
          TbFirmwarePiece *prev = &g_array_index (b->pieces, TbFirmwarePiece, j - 1);
          if (p->address < end)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                           _("%s:%u: data at 0x%08" G_GINT64_MODIFIER "x overlaps data from %s %u"),
                           b->origin, MAX (p->line, prev->line), p->address, b->unit, MIN (p->line, prev->line));
              return FALSE;
            }
          if (p->address != end)
            break;
          end += p->len;
        }
      bytes = g_byte_array_sized_new ((guint) (end - start->address));
      for (guint k = i; k < j; k++)
        {
          TbFirmwarePiece *p = &g_array_index (b->pieces, TbFirmwarePiece, k);
          g_byte_array_append (bytes, b->buf->data + p->offset, (guint) p->len);
        }
      seg.size = end - start->address;
      seg.data = g_byte_array_free_to_bytes (bytes);
      g_array_append_val (self->segments, seg);
      i = j;
    }
  return tb_firmware_check_layout (self, error);
}

/* ---- text records (Intel HEX, S-records) ---- */

static int
hex_byte (const char *p)
{
  int hi = g_ascii_xdigit_value (p[0]);
  int lo = g_ascii_xdigit_value (p[1]);

  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/* Decodes the hex digits of a record after its start character. */
gboolean
tb_firmware_decode_hex_record (const char *origin, guint line, const char *text, gsize text_len, guint8 *out, gsize *out_len,
               GError **error)
{
  if (text_len % 2 != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: odd number of hex digits"), origin, line);
      return FALSE;
    }
  for (gsize i = 0; i < text_len / 2; i++)
    {
      int v = hex_byte (text + 2 * i);
      if (v < 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: “%.2s” at column %" G_GSIZE_FORMAT " is not hex"),
                       origin, line, text + 2 * i, 2 * i + 2);
          return FALSE;
        }
      out[i] = (guint8) v;
    }
  *out_len = text_len / 2;
  return TRUE;
}

/* ---- entry points ---- */

static gboolean
is_text (const guint8 *data, gsize len)
{
  for (gsize i = 0; i < len; i++)
    if (data[i] == 0 || data[i] >= 0x80)
      return FALSE;
  return TRUE;
}

/**
 * tb_firmware_parse:
 * @data: the whole file
 * @format: its format (%TB_FIRMWARE_FORMAT_BIN is not parsed from memory;
 *   use tb_firmware_load_file())
 * @origin: the file name, for messages
 */
TbFirmware *
tb_firmware_parse (const guint8 *data, gsize len, TbFirmwareFormat format, const char *origin, GError **error)
{
  g_autoptr(TbFirmware) self = g_object_new (TB_TYPE_FIRMWARE, NULL);
  const TbFirmwareReader *reader;
  gboolean ok;

  self->origin = g_strdup (origin);
  if (format == TB_FIRMWARE_FORMAT_AUTO)
    format = tb_firmware_guess_format (NULL, data, len);
  self->format = format;
  if (len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is empty"), origin);
      return NULL;
    }
  reader = find_reader (format);
  if (reader == NULL || reader->parse == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("%s: cannot tell the firmware format; name it (bin, ihex, srec or elf)"), origin);
      return NULL;
    }
  if (reader->is_text && !is_text (data, len))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a text file, so not %s"), origin,
                   reader->description);
      return NULL;
    }
  ok = reader->parse (self, data, len, error);
  return ok ? g_steal_pointer (&self) : NULL;
}

/**
 * tb_firmware_load_file:
 * @format: the format, or %TB_FIRMWARE_FORMAT_AUTO to guess
 * @load_address: where a raw binary loads, or %TB_FIRMWARE_NO_ADDRESS
 *
 * Reads a firmware file. A raw binary stays on disk and is read on
 * demand; the other formats are parsed in memory (bounded).
 */
TbFirmware *
tb_firmware_load_file (const char *path, TbFirmwareFormat format, guint64 load_address, GError **error)
{
  g_autofree char *data = NULL;
  const TbFirmwareReader *reader;
  gsize len = 0;

  if (g_file_test (path, G_FILE_TEST_IS_DIR))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("%s is a directory, not a firmware file"), path);
      return NULL;
    }
  if (format == TB_FIRMWARE_FORMAT_AUTO)
    {
      guint8 head[8] = { 0 };
      gssize n = 0;
      int fd = open (path, O_RDONLY | O_CLOEXEC);
      if (fd >= 0)
        {
          n = read (fd, head, sizeof head);
          close (fd);
        }
      format = tb_firmware_guess_format (path, head, n > 0 ? (gsize) n : 0);
      if (format == TB_FIRMWARE_FORMAT_AUTO)
        {
          if (fd < 0)
            {
              /* let the reader say why the file cannot be read */
              tb_file_read_bounded (path, 1, &data, &len, error);
              return NULL;
            }
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                       _("%s: cannot tell the firmware format from its name or contents; name it (bin, ihex, srec "
                         "or elf)"), path);
          return NULL;
        }
    }
  reader = find_reader (format);
  if (reader != NULL && reader->load != NULL)
    return reader->load (path, load_address, error);
  if (!tb_file_read_bounded (path, TB_FIRMWARE_MAX_FILE_BYTES, &data, &len, error))
    return NULL;
  return tb_firmware_parse ((const guint8 *) data, len, format, path, error);
}

/* ---- reading ---- */

TbFirmwareFormat
tb_firmware_get_format (TbFirmware *self)
{
  g_return_val_if_fail (TB_IS_FIRMWARE (self), TB_FIRMWARE_FORMAT_AUTO);
  return self->format;
}

/**
 * tb_firmware_get_origin:
 *
 * Returns: the file (or the name given to tb_firmware_parse()) it was read from
 */
const char *
tb_firmware_get_origin (TbFirmware *self)
{
  g_return_val_if_fail (TB_IS_FIRMWARE (self), NULL);
  return self->origin;
}

guint64
tb_firmware_get_base_address (TbFirmware *self)
{
  g_return_val_if_fail (TB_IS_FIRMWARE (self), 0);
  return g_array_index (self->segments, TbFirmwareSegment, 0).address;
}

guint64
tb_firmware_get_size (TbFirmware *self)
{
  TbFirmwareSegment *last;

  g_return_val_if_fail (TB_IS_FIRMWARE (self), 0);
  last = &g_array_index (self->segments, TbFirmwareSegment, self->segments->len - 1);
  return last->address + last->size - tb_firmware_get_base_address (self);
}

guint
tb_firmware_get_n_segments (TbFirmware *self)
{
  g_return_val_if_fail (TB_IS_FIRMWARE (self), 0);
  return self->segments->len;
}

gboolean
tb_firmware_get_segment (TbFirmware *self, guint index, guint64 *address, guint64 *size)
{
  TbFirmwareSegment *seg;

  g_return_val_if_fail (TB_IS_FIRMWARE (self), FALSE);
  if (index >= self->segments->len)
    return FALSE;
  seg = &g_array_index (self->segments, TbFirmwareSegment, index);
  if (address != NULL)
    *address = seg->address;
  if (size != NULL)
    *size = seg->size;
  return TRUE;
}

gboolean
tb_firmware_has_entry_point (TbFirmware *self)
{
  g_return_val_if_fail (TB_IS_FIRMWARE (self), FALSE);
  return self->has_entry;
}

guint64
tb_firmware_get_entry_point (TbFirmware *self)
{
  g_return_val_if_fail (TB_IS_FIRMWARE (self), 0);
  return self->entry;
}

static gboolean
pread_all (int fd, guint8 *buf, gsize len, guint64 offset, const char *origin, GError **error)
{
  while (len > 0)
    {
      gssize n = pread (fd, buf, len, (off_t) offset);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot read %s at offset %" G_GUINT64_FORMAT ": %s"),
                       origin, offset, n == 0 ? _("the file became shorter") : g_strerror (saved_errno));
          return FALSE;
        }
      buf += n;
      len -= (gsize) n;
      offset += (guint64) n;
    }
  return TRUE;
}

/**
 * tb_firmware_read:
 * @offset: offset in the flat image (0 = the base address)
 * @buf: (out caller-allocates): @len bytes
 *
 * Reads part of the flat image; gaps read as 0xFF.
 */
gboolean
tb_firmware_read (TbFirmware *self, guint64 offset, guint8 *buf, gsize len, GError **error)
{
  guint64 base;
  guint64 start;
  guint64 end;

  g_return_val_if_fail (TB_IS_FIRMWARE (self), FALSE);
  g_return_val_if_fail (offset + len <= tb_firmware_get_size (self), FALSE);
  base = tb_firmware_get_base_address (self);
  start = base + offset;
  end = start + len;
  if (self->segments->len > 1)
    memset (buf, TB_FIRMWARE_ERASED_VALUE, len);
  for (guint i = 0; i < self->segments->len; i++)
    {
      TbFirmwareSegment *seg = &g_array_index (self->segments, TbFirmwareSegment, i);
      guint64 lo = MAX (start, seg->address);
      guint64 hi = MIN (end, seg->address + seg->size);

      if (seg->address >= end)
        break;
      if (lo >= hi)
        continue;
      if (seg->data != NULL)
        memcpy (buf + (lo - start), (const guint8 *) g_bytes_get_data (seg->data, NULL) + (lo - seg->address),
                hi - lo);
      else if (!pread_all (self->bin_fd, buf + (lo - start), hi - lo, lo - seg->address, self->origin, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * tb_firmware_compute_sha256:
 *
 * Returns: (transfer full): hex SHA-256 of the flat image, read in
 *   small pieces
 */
char *
tb_firmware_compute_sha256 (TbFirmware *self, GCancellable *cancellable, GError **error)
{
  g_autoptr(GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  guint64 size = tb_firmware_get_size (self);
  g_autofree guint8 *buf = g_malloc (64 * 1024);

  for (guint64 off = 0; off < size; off += 64 * 1024)
    {
      gsize n = (gsize) MIN (size - off, 64 * 1024);
      if (g_cancellable_set_error_if_cancelled (cancellable, error) || !tb_firmware_read (self, off, buf, n, error))
        return NULL;
      g_checksum_update (sum, buf, n);
    }
  return g_strdup (g_checksum_get_string (sum));
}

