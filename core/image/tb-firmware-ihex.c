/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Intel HEX: data records (00), end of file (01), extended segment (02)
 * and linear (04) addresses, start addresses (03, 05). Concatenated files
 * are read as one; every line is checked (length, hex digits, checksum,
 * record type and size) and named in the error. */

#include "config.h"

#include "tb-firmware-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"

static gboolean
parse_ihex (TbFirmware *self, const guint8 *bytes, gsize len, GError **error)
{
  const char *data = (const char *) bytes;
  TbFirmwareBuilder b;
  guint64 base = 0;
  gboolean eof_seen = FALSE;
  gboolean data_after_eof = FALSE;
  guint line_no = 0;
  gsize pos = 0;
  guint8 rec[300];
  gboolean ok = FALSE;

  tb_firmware_builder_init (&b, self->origin, "line");
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
      if (!tb_firmware_decode_hex_record (self->origin, line_no, line + 1, line_len - 1, rec, &n, error))
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
          if (!tb_firmware_builder_add (&b, base + addr16, rec + 4, count, line_no, error))
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
  ok = tb_firmware_builder_finish (&b, self, error);
out:
  tb_firmware_builder_clear (&b);
  return ok;
}


static gboolean
probe_ihex (const guint8 *head, gsize head_len)
{
  return head_len >= 1 && head[0] == ':';
}

static const char *const ihex_extensions[] = { ".hex", ".ihex", ".ihx", NULL };

const TbFirmwareReader tb_firmware_reader_ihex = {
  .format = TB_FIRMWARE_FORMAT_IHEX,
  .name = "ihex",
  .description = "Intel HEX",
  .extensions = ihex_extensions,
  .is_text = TRUE,
  .probe = probe_ihex,
  .parse = parse_ihex,
};
