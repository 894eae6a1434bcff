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
 * rather than filled into a huge image. ELF is read with elfutils' libelf:
 * PT_LOAD segments with file contents, at their physical address; empty
 * segments (.bss, stacks) add nothing.
 */

#include "config.h"

#include "tb-firmware.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-error.h"
#include "tb-file.h"

typedef struct {
  guint64 address;
  guint64 size;
  GBytes *data;        /* NULL for a raw binary read from its file */
} Segment;

struct _TbFirmware {
  GObject parent_instance;

  TbFirmwareFormat format;
  char *origin;
  GArray *segments;    /* Segment, sorted, not overlapping */
  gboolean has_entry;
  guint64 entry;
  int bin_fd;          /* raw binary: the file, read on demand */
};

G_DEFINE_FINAL_TYPE (TbFirmware, tb_firmware, G_TYPE_OBJECT)

static void
segment_clear (Segment *segment)
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
  self->segments = g_array_new (FALSE, TRUE, sizeof (Segment));
  g_array_set_clear_func (self->segments, (GDestroyNotify) segment_clear);
  self->bin_fd = -1;
}

const char *
tb_firmware_format_to_string (TbFirmwareFormat format)
{
  switch (format)
    {
    case TB_FIRMWARE_FORMAT_BIN:
      return "bin";
    case TB_FIRMWARE_FORMAT_IHEX:
      return "ihex";
    case TB_FIRMWARE_FORMAT_SREC:
      return "srec";
    case TB_FIRMWARE_FORMAT_ELF:
      return "elf";
    case TB_FIRMWARE_FORMAT_AUTO:
    default:
      return "auto";
    }
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
  static const struct {
    const char *ext;
    TbFirmwareFormat format;
  } exts[] = {
    { ".bin", TB_FIRMWARE_FORMAT_BIN },   { ".hex", TB_FIRMWARE_FORMAT_IHEX }, { ".ihex", TB_FIRMWARE_FORMAT_IHEX },
    { ".ihx", TB_FIRMWARE_FORMAT_IHEX },  { ".srec", TB_FIRMWARE_FORMAT_SREC }, { ".s19", TB_FIRMWARE_FORMAT_SREC },
    { ".s28", TB_FIRMWARE_FORMAT_SREC },  { ".s37", TB_FIRMWARE_FORMAT_SREC }, { ".mot", TB_FIRMWARE_FORMAT_SREC },
    { ".elf", TB_FIRMWARE_FORMAT_ELF },   { ".axf", TB_FIRMWARE_FORMAT_ELF },  { ".out", TB_FIRMWARE_FORMAT_ELF },
  };
  g_autofree char *lower = path != NULL ? g_ascii_strdown (path, -1) : NULL;

  for (guint i = 0; lower != NULL && i < G_N_ELEMENTS (exts); i++)
    if (g_str_has_suffix (lower, exts[i].ext))
      return exts[i].format;
  if (head_len >= 4 && memcmp (head, "\177ELF", 4) == 0)
    return TB_FIRMWARE_FORMAT_ELF;
  if (head_len >= 1 && head[0] == ':')
    return TB_FIRMWARE_FORMAT_IHEX;
  if (head_len >= 2 && head[0] == 'S' && g_ascii_isdigit (head[1]))
    return TB_FIRMWARE_FORMAT_SREC;
  return TB_FIRMWARE_FORMAT_AUTO;
}

/* ---- building segments from pieces ---- */

typedef struct {
  guint64 address;
  gsize len;
  gsize offset;        /* into the builder's buffer */
  guint line;          /* or 1-based program header index for ELF */
} Piece;

typedef struct {
  const char *origin;
  const char *unit;    /* "line" or "program header" */
  GArray *pieces;
  GByteArray *buf;
} Builder;

static void
builder_init (Builder *b, const char *origin, const char *unit)
{
  b->origin = origin;
  b->unit = unit;
  b->pieces = g_array_new (FALSE, FALSE, sizeof (Piece));
  b->buf = g_byte_array_new ();
}

static void
builder_clear (Builder *b)
{
  g_array_unref (b->pieces);
  g_byte_array_unref (b->buf);
}

static gboolean
builder_add (Builder *b, guint64 address, const guint8 *data, gsize len, guint line, GError **error)
{
  Piece piece = { address, len, b->buf->len, line };

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
  const Piece *pa = a, *pb = b;

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
static gboolean
check_layout (TbFirmware *self, GError **error)
{
  Segment *first;
  Segment *last;

  if (self->segments->len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s holds no data to load"), self->origin);
      return FALSE;
    }
  for (guint i = 1; i < self->segments->len; i++)
    {
      Segment *prev = &g_array_index (self->segments, Segment, i - 1);
      Segment *seg = &g_array_index (self->segments, Segment, i);
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
  first = &g_array_index (self->segments, Segment, 0);
  last = &g_array_index (self->segments, Segment, self->segments->len - 1);
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
static gboolean
builder_finish (Builder *b, TbFirmware *self, GError **error)
{
  g_array_sort (b->pieces, piece_compare);
  for (guint i = 0; i < b->pieces->len;)
    {
      Piece *start = &g_array_index (b->pieces, Piece, i);
      guint64 end = start->address + start->len;
      guint j = i + 1;
      Segment seg = { start->address, 0, NULL };
      GByteArray *bytes;

      for (; j < b->pieces->len; j++)
        {
          Piece *p = &g_array_index (b->pieces, Piece, j);
          Piece *prev = &g_array_index (b->pieces, Piece, j - 1);
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
          Piece *p = &g_array_index (b->pieces, Piece, k);
          g_byte_array_append (bytes, b->buf->data + p->offset, (guint) p->len);
        }
      seg.size = end - start->address;
      seg.data = g_byte_array_free_to_bytes (bytes);
      g_array_append_val (self->segments, seg);
      i = j;
    }
  return check_layout (self, error);
}

/* ---- Intel HEX ---- */

static int
hex_byte (const char *p)
{
  int hi = g_ascii_xdigit_value (p[0]);
  int lo = g_ascii_xdigit_value (p[1]);

  return hi < 0 || lo < 0 ? -1 : hi << 4 | lo;
}

/* Decodes the hex digits of a record after its start character. */
static gboolean
decode_record (const char *origin, guint line, const char *text, gsize text_len, guint8 *out, gsize *out_len,
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

static gboolean
parse_ihex (TbFirmware *self, const char *data, gsize len, GError **error)
{
  Builder b;
  guint64 base = 0;
  gboolean eof_seen = FALSE;
  gboolean data_after_eof = FALSE;
  guint line_no = 0;
  gsize pos = 0;
  guint8 rec[300];
  gboolean ok = FALSE;

  builder_init (&b, self->origin, "line");
  while (pos < len)
    {
      const char *line = data + pos;
      const char *nl = memchr (line, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize) (nl - line) : len - pos;
      gsize n = 0;
      guint count, type;
      guint16 addr16;
      guint8 sum = 0;

      pos += line_len + (nl != NULL ? 1 : 0);
      line_no++;
      while (line_len > 0 && g_ascii_isspace (line[line_len - 1]))
        line_len--;
      if (line_len == 0)
        continue;
      if (line[0] != ':')
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s:%u: an Intel HEX record starts with “:”"), self->origin, line_no);
          goto out;
        }
      if (line_len - 1 > 2 * sizeof rec)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: record too long"), self->origin, line_no);
          goto out;
        }
      if (!decode_record (self->origin, line_no, line + 1, line_len - 1, rec, &n, error))
        goto out;
      if (n < 5 || rec[0] != n - 5)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s:%u: record length incorrect, the count says %u data bytes, the line holds %d"),
                       self->origin, line_no, n > 0 ? rec[0] : 0, n >= 5 ? (int) n - 5 : 0);
          goto out;
        }
      for (gsize i = 0; i < n - 1; i++)
        sum += rec[i];
      if ((guint8) (sum + rec[n - 1]) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s:%u: checksum incorrect, expected %02x, got %02x"), self->origin, line_no,
                       (guint8) (0x100 - sum), rec[n - 1]);
          goto out;
        }
      count = rec[0];
      addr16 = (guint16) (rec[1] << 8 | rec[2]);
      type = rec[3];
      switch (type)
        {
        case 0x00:
          if (eof_seen)
            data_after_eof = TRUE;
          if (!builder_add (&b, base + addr16, rec + 4, count, line_no, error))
            goto out;
          break;
        case 0x01:
          if (count != 0)
            goto bad_count;
          /* a second file may follow (concatenated HEX files) */
          eof_seen = TRUE;
          data_after_eof = FALSE;
          base = 0;
          break;
        case 0x02:
          if (count != 2)
            goto bad_count;
          base = (guint64) (rec[4] << 8 | rec[5]) << 4;
          break;
        case 0x03:
          if (count != 4)
            goto bad_count;
          self->has_entry = TRUE;
          self->entry = ((guint64) (rec[4] << 8 | rec[5]) << 4) + (guint64) (rec[6] << 8 | rec[7]);
          break;
        case 0x04:
          if (count != 2)
            goto bad_count;
          base = (guint64) (rec[4] << 8 | rec[5]) << 16;
          break;
        case 0x05:
          if (count != 4)
            goto bad_count;
          self->has_entry = TRUE;
          self->entry = (guint64) rec[4] << 24 | (guint64) rec[5] << 16 | (guint64) rec[6] << 8 | rec[7];
          break;
        default:
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: unknown record type %02x"),
                       self->origin, line_no, type);
          goto out;
        }
      continue;

    bad_count:
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: record type %02x cannot hold %u bytes"),
                   self->origin, line_no, type, count);
      goto out;
    }
  if (!eof_seen || data_after_eof)
    {
      /* data after the last end-of-file record means a truncated second file */
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s: no end-of-file record after the last data (the file is truncated?)"), self->origin);
      goto out;
    }
  ok = builder_finish (&b, self, error);
out:
  builder_clear (&b);
  return ok;
}

/* ---- Motorola S-records ---- */

static gboolean
parse_srec (TbFirmware *self, const char *data, gsize len, GError **error)
{
  Builder b;
  gboolean end_seen = FALSE;
  guint line_no = 0;
  guint64 n_data = 0;
  gsize pos = 0;
  guint8 rec[300];
  gboolean ok = FALSE;

  builder_init (&b, self->origin, "line");
  while (pos < len)
    {
      const char *line = data + pos;
      const char *nl = memchr (line, '\n', len - pos);
      gsize line_len = nl != NULL ? (gsize) (nl - line) : len - pos;
      gsize n = 0;
      guint8 sum = 0;
      int type;
      guint addr_len;
      guint64 address = 0;

      pos += line_len + (nl != NULL ? 1 : 0);
      line_no++;
      while (line_len > 0 && g_ascii_isspace (line[line_len - 1]))
        line_len--;
      if (line_len == 0)
        continue;
      if (line_len < 4 || line[0] != 'S' || !g_ascii_isdigit (line[1]))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s:%u: an S-record starts with “S” and a type digit"), self->origin, line_no);
          goto out;
        }
      type = line[1] - '0';
      if (line_len - 2 > 2 * sizeof rec)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: record too long"), self->origin, line_no);
          goto out;
        }
      if (!decode_record (self->origin, line_no, line + 2, line_len - 2, rec, &n, error))
        goto out;
      switch (type)
        {
        case 0: case 1: case 5: case 9:
          addr_len = 2;
          break;
        case 2: case 6: case 8:
          addr_len = 3;
          break;
        case 3: case 7:
          addr_len = 4;
          break;
        default:
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s:%u: unknown record type S%d"),
                       self->origin, line_no, type);
          goto out;
        }
      if (n < 1 + addr_len + 1 || rec[0] != n - 1)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s:%u: record length incorrect, the count says %u bytes, the line holds %d"),
                       self->origin, line_no, n > 0 ? rec[0] : 0, n > 0 ? (int) n - 1 : 0);
          goto out;
        }
      for (gsize i = 0; i < n - 1; i++)
        sum += rec[i];
      sum = (guint8) (0xFF - sum); /* ones' complement of the sum */
      if (sum != rec[n - 1])
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s:%u: checksum incorrect, expected %02x, got %02x"), self->origin, line_no,
                       sum, rec[n - 1]);
          goto out;
        }
      for (guint i = 0; i < addr_len; i++)
        address = address << 8 | rec[1 + i];
      switch (type)
        {
        case 1: case 2: case 3:
          if (end_seen)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                           _("%s:%u: data after the termination record"), self->origin, line_no);
              goto out;
            }
          if (!builder_add (&b, address, rec + 1 + addr_len, n - 2 - addr_len, line_no, error))
            goto out;
          n_data++;
          break;
        case 5: case 6:
          if (address != n_data)
            {
              g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                           _("%s:%u: record count incorrect, expected %" G_GUINT64_FORMAT ", got %" G_GUINT64_FORMAT),
                           self->origin, line_no, n_data, address);
              goto out;
            }
          break;
        case 7: case 8: case 9:
          end_seen = TRUE;
          self->has_entry = TRUE;
          self->entry = address;
          break;
        case 0:
        default:
          break;
        }
    }
  if (!end_seen)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s: no termination record (S7, S8 or S9): the file is truncated?"), self->origin);
      goto out;
    }
  ok = builder_finish (&b, self, error);
out:
  builder_clear (&b);
  return ok;
}

/* ---- ELF ---- */

/* libelf's own reason, or @fallback when it recorded none (elf_errmsg(-1)
 * says "no error" then, which helps nobody). */
static const char *
elf_reason (const char *fallback)
{
  int e = elf_errno ();

  return e != 0 ? elf_errmsg (e) : fallback;
}

/* Why libelf will not take @data as an ELF file, from its identification
 * bytes; NULL when they look right. */
static char *
describe_bad_elf_ident (const guint8 *data, gsize len)
{
  if (len < SELFMAG || memcmp (data, ELFMAG, SELFMAG) != 0)
    return g_strdup (_("it does not start with the ELF magic bytes 7f 45 4c 46"));
  if (len < EI_NIDENT)
    return g_strdup_printf (_("it has %" G_GSIZE_FORMAT " bytes, less than the %d of an ELF identification"), len,
                            EI_NIDENT);
  if (data[EI_CLASS] != ELFCLASS32 && data[EI_CLASS] != ELFCLASS64)
    return g_strdup_printf (_("byte %d (the ELF class) is 0x%02x, expected 1 (32-bit) or 2 (64-bit)"), EI_CLASS,
                            data[EI_CLASS]);
  if (data[EI_DATA] != ELFDATA2LSB && data[EI_DATA] != ELFDATA2MSB)
    return g_strdup_printf (_("byte %d (the byte order) is 0x%02x, expected 1 (little-endian) or 2 (big-endian)"),
                            EI_DATA, data[EI_DATA]);
  if (data[EI_VERSION] != EV_CURRENT)
    return g_strdup_printf (_("byte %d (the ELF version) is 0x%02x, expected 1"), EI_VERSION, data[EI_VERSION]);
  if (len < (data[EI_CLASS] == ELFCLASS32 ? sizeof (Elf32_Ehdr) : sizeof (Elf64_Ehdr)))
    return g_strdup_printf (_("it has %" G_GSIZE_FORMAT " bytes, less than the %" G_GSIZE_FORMAT " of an ELF header"),
                            len, data[EI_CLASS] == ELFCLASS32 ? sizeof (Elf32_Ehdr) : sizeof (Elf64_Ehdr));
  return NULL;
}

/* libelf's reason a program header cannot be read, with where the table
 * lies when it runs past the end of the file. */
static char *
describe_bad_phdrs (const GElf_Ehdr *ehdr, gsize len)
{
  const char *reason = elf_reason (_("libelf gives no reason"));
  guint64 table = (guint64) ehdr->e_phnum * ehdr->e_phentsize;

  if (ehdr->e_phoff > len || table > len - ehdr->e_phoff)
    return g_strdup_printf (_("%s (the table of %u headers at offset %" G_GUINT64_FORMAT " runs past the end of the "
                              "file, %" G_GSIZE_FORMAT " bytes: is it truncated?)"),
                            reason, ehdr->e_phnum, (guint64) ehdr->e_phoff, len);
  return g_strdup (reason);
}

static gboolean
parse_elf (TbFirmware *self, const guint8 *data, gsize len, GError **error)
{
  Builder b;
  Elf *elf = NULL;
  GElf_Ehdr ehdr;
  size_t phnum = 0;
  gboolean ok = FALSE;
  g_autofree guint8 *copy = g_memdup2 (data, len); /* libelf wants a writable buffer */

  if (elf_version (EV_CURRENT) == EV_NONE)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("libelf cannot be initialised: %s"),
                   elf_reason (_("libelf gives no reason")));
      return FALSE;
    }
  (void) elf_errno (); /* forget an error of an earlier file */
  builder_init (&b, self->origin, "program header");
  {
    g_autofree char *why = describe_bad_elf_ident (data, len);

    if (why == NULL)
      {
        elf = elf_memory ((char *) copy, len);
        if (elf == NULL || elf_kind (elf) != ELF_K_ELF || gelf_getehdr (elf, &ehdr) == NULL)
          why = g_strdup (elf_reason (_("libelf does not recognise it")));
      }
    if (why != NULL)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a valid ELF file: %s"), self->origin, why);
        goto out;
      }
  }
  if (ehdr.e_type != ET_EXEC && ehdr.e_type != ET_DYN)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("%s is an ELF %s, not a linked executable; link it first"), self->origin,
                   ehdr.e_type == ET_REL ? _("relocatable object") : _("file of another type"));
      goto out;
    }
  if (elf_getphdrnum (elf, &phnum) != 0)
    {
      g_autofree char *why = describe_bad_phdrs (&ehdr, len);
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the program headers cannot be read: %s"),
                   self->origin, why);
      goto out;
    }
  for (size_t i = 0; i < phnum; i++)
    {
      GElf_Phdr ph;

      if (gelf_getphdr (elf, (int) i, &ph) == NULL)
        {
          g_autofree char *why = describe_bad_phdrs (&ehdr, len);
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: program header %zu cannot be read: %s"),
                       self->origin, i + 1, why);
          goto out;
        }
      if (ph.p_type == PT_INTERP)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s asks for a program interpreter (PT_INTERP): it is a program for an operating system, "
                         "not firmware"), self->origin);
          goto out;
        }
      if (ph.p_type != PT_LOAD || ph.p_filesz == 0)
        continue; /* .bss, stacks and heaps load nothing */
      if (ph.p_filesz > ph.p_memsz)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s: program header %zu has more file bytes (%" G_GUINT64_FORMAT ") than memory bytes (%"
                         G_GUINT64_FORMAT ")"), self->origin, i + 1, (guint64) ph.p_filesz, (guint64) ph.p_memsz);
          goto out;
        }
      if (ph.p_offset > len || ph.p_filesz > len - ph.p_offset)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s: program header %zu points past the end of the file (offset %" G_GUINT64_FORMAT
                         ", %" G_GUINT64_FORMAT " bytes, the file has %" G_GSIZE_FORMAT "): the file is truncated?"),
                       self->origin, i + 1, (guint64) ph.p_offset, (guint64) ph.p_filesz, len);
          goto out;
        }
      if (!builder_add (&b, ph.p_paddr, data + ph.p_offset, ph.p_filesz, (guint) i + 1, error))
        goto out;
    }
  self->has_entry = TRUE;
  self->entry = ehdr.e_entry;
  ok = builder_finish (&b, self, error);
out:
  if (elf != NULL)
    elf_end (elf);
  builder_clear (&b);
  return ok;
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
  switch (format)
    {
    case TB_FIRMWARE_FORMAT_IHEX:
    case TB_FIRMWARE_FORMAT_SREC:
      if (!is_text (data, len))
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a text file, so not %s"), origin,
                       format == TB_FIRMWARE_FORMAT_IHEX ? "Intel HEX" : "S-records");
          return NULL;
        }
      ok = format == TB_FIRMWARE_FORMAT_IHEX ? parse_ihex (self, (const char *) data, len, error)
                                            : parse_srec (self, (const char *) data, len, error);
      break;
    case TB_FIRMWARE_FORMAT_ELF:
      ok = parse_elf (self, data, len, error);
      break;
    case TB_FIRMWARE_FORMAT_BIN:
    case TB_FIRMWARE_FORMAT_AUTO:
    default:
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("%s: cannot tell the firmware format; name it (bin, ihex, srec or elf)"), origin);
      return NULL;
    }
  return ok ? g_steal_pointer (&self) : NULL;
}

static TbFirmware *
load_bin (const char *path, guint64 load_address, GError **error)
{
  g_autoptr(TbFirmware) self = g_object_new (TB_TYPE_FIRMWARE, NULL);
  struct stat st;
  Segment seg = { load_address, 0, NULL };

  self->origin = g_strdup (path);
  self->format = TB_FIRMWARE_FORMAT_BIN;
  if (load_address == TB_FIRMWARE_NO_ADDRESS)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("%s is a raw binary: give its load address (--load-address)"), path);
      return NULL;
    }
  self->bin_fd = open (path, O_RDONLY | O_CLOEXEC);
  if (self->bin_fd < 0 || fstat (self->bin_fd, &st) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, saved_errno == ENOENT ? TB_ERROR_NOT_FOUND : TB_ERROR_FAILED,
                   _("Cannot read %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  if (!S_ISREG (st.st_mode))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is not a regular file"), path);
      return NULL;
    }
  seg.size = (guint64) st.st_size;
  if (seg.size > 0)
    {
      if (load_address > G_MAXUINT64 - seg.size)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT, _("%s does not fit at 0x%" G_GINT64_MODIFIER "x"),
                       path, load_address);
          return NULL;
        }
      g_array_append_val (self->segments, seg);
    }
  if (!check_layout (self, error))
    return NULL;
  return g_steal_pointer (&self);
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
  if (format == TB_FIRMWARE_FORMAT_BIN)
    return load_bin (path, load_address, error);
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
  return g_array_index (self->segments, Segment, 0).address;
}

guint64
tb_firmware_get_size (TbFirmware *self)
{
  Segment *last;

  g_return_val_if_fail (TB_IS_FIRMWARE (self), 0);
  last = &g_array_index (self->segments, Segment, self->segments->len - 1);
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
  Segment *seg;

  g_return_val_if_fail (TB_IS_FIRMWARE (self), FALSE);
  if (index >= self->segments->len)
    return FALSE;
  seg = &g_array_index (self->segments, Segment, index);
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
      Segment *seg = &g_array_index (self->segments, Segment, i);
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
