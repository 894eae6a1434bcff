/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Motorola S-records: header (S0), data (S1–S3), count (S5, S6) and
 * termination (S7–S9) records; every line is checked (type, length, hex
 * digits, checksum, data after the end) and named in the error. */

#include "config.h"

#include "tb-firmware-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"

static gboolean
parse_srec (TbFirmware *self, const guint8 *bytes, gsize len, GError **error)
{
  const char *data = (const char *) bytes;
  TbFirmwareBuilder b;
  gboolean end_seen = FALSE;
  guint line_no = 0;
  guint64 n_data = 0;
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
      if (!tb_firmware_decode_hex_record (self->origin, line_no, line + 2, line_len - 2, rec, &n, error))
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
          if (!tb_firmware_builder_add (&b, address, rec + 1 + addr_len, n - 2 - addr_len, line_no, error))
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
  ok = tb_firmware_builder_finish (&b, self, error);
out:
  tb_firmware_builder_clear (&b);
  return ok;
}


static gboolean
probe_srec (const guint8 *head, gsize head_len)
{
  return head_len >= 2 && head[0] == 'S' && g_ascii_isdigit (head[1]);
}

static const char *const srec_extensions[] = { ".srec", ".s19", ".s28", ".s37", ".mot", NULL };

const TbFirmwareReader tb_firmware_reader_srec = {
  .format = TB_FIRMWARE_FORMAT_SREC,
  .name = "srec",
  .description = "S-records",
  .extensions = srec_extensions,
  .is_text = TRUE,
  .probe = probe_srec,
  .parse = parse_srec,
};
