/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A raw binary: one segment at the load address the user gives, read
 * from its file on demand (never held in memory). */

#include "config.h"

#include "tb-firmware-private.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "tb-error.h"

static TbFirmware *
load_bin (const char *path, guint64 load_address, GError **error)
{
  g_autoptr(TbFirmware) self = g_object_new (TB_TYPE_FIRMWARE, NULL);
  struct stat st;
  TbFirmwareSegment seg = { load_address, 0, NULL };

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
  if (!tb_firmware_check_layout (self, error))
    return NULL;
  return g_steal_pointer (&self);
}


static const char *const bin_extensions[] = { ".bin", NULL };

const TbFirmwareReader tb_firmware_reader_bin = {
  .format = TB_FIRMWARE_FORMAT_BIN,
  .name = "bin",
  .description = "raw binary",
  .extensions = bin_extensions,
  .load = load_bin,
};
