/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The probe backend for virtual boards: memory access goes through the
 * board's debug port, with its lock rules. */

#include "config.h"

#include "tb-virtual-probe.h"

#include <glib/gi18n-lib.h>

#include "sbm/tb-sbm.h"
#include "tb-error.h"
#include "tb-virtual-board.h"

struct _TbVirtualProbe {
  TbProbe parent_instance;

  TbVirtualBoard *board;
};

G_DEFINE_FINAL_TYPE (TbVirtualProbe, tb_virtual_probe, TB_TYPE_PROBE)

static gboolean
virtual_read (TbProbe *probe, guint32 address, guint8 *buf, gsize len, GError **error)
{
  return tb_virtual_board_debug_read (TB_VIRTUAL_PROBE (probe)->board, address, buf, len, error);
}

static gboolean
virtual_write (TbProbe *probe, guint32 address, const guint8 *data, gsize len, GError **error)
{
  TbVirtualBoard *board = TB_VIRTUAL_PROBE (probe)->board;
  guint32 doorbell = TB_BOARD_RAM_BASE + TB_MB_OFF_COMMAND;

  if (!tb_virtual_board_debug_write (board, address, data, len, error))
    return FALSE;
  /* writing the mailbox's command word wakes the SBM */
  if (address <= doorbell && doorbell < address + len)
    tb_virtual_board_doorbell (board);
  return TRUE;
}

static gboolean
virtual_reset (TbProbe *probe, gboolean halt, GError **error)
{
  if (halt)
    return tb_virtual_board_reset_halt (TB_VIRTUAL_PROBE (probe)->board, error);
  tb_virtual_board_reset (TB_VIRTUAL_PROBE (probe)->board);
  return TRUE;
}

static gboolean
virtual_halt (TbProbe *probe, GError **error)
{
  return tb_virtual_board_halt (TB_VIRTUAL_PROBE (probe)->board, error);
}

static gboolean
virtual_resume (TbProbe *probe, GError **error)
{
  tb_virtual_board_resume (TB_VIRTUAL_PROBE (probe)->board);
  return TRUE;
}

static void
tb_virtual_probe_finalize (GObject *object)
{
  g_clear_object (&TB_VIRTUAL_PROBE (object)->board);
  G_OBJECT_CLASS (tb_virtual_probe_parent_class)->finalize (object);
}

static void
tb_virtual_probe_class_init (TbVirtualProbeClass *klass)
{
  TbProbeClass *probe_class = TB_PROBE_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = tb_virtual_probe_finalize;
  probe_class->read_memory = virtual_read;
  probe_class->write_memory = virtual_write;
  probe_class->reset = virtual_reset;
  probe_class->halt = virtual_halt;
  probe_class->resume = virtual_resume;
}

static void
tb_virtual_probe_init (TbVirtualProbe *self)
{
}

static char *
describe (const char *uid, const char *device_type, TbLifecycle lifecycle)
{
  return g_strdup_printf (_("Virtual board %s (%s, %s)"), uid, device_type, tb_lifecycle_to_string (lifecycle));
}

/**
 * tb_virtual_probe_peek:
 * @board_path: a virtual board directory
 *
 * What tb_probe_list() shows for a board, read without opening it (see
 * tb_virtual_board_read_identity()): a board another process works on is
 * listed, neither reset nor locked.
 *
 * Returns: (transfer full): the probe's description
 */
TbProbeInfo *
tb_virtual_probe_peek (const char *board_path, GError **error)
{
  g_autofree char *path = g_canonicalize_filename (board_path, NULL);
  g_autofree char *uid = NULL;
  g_autofree char *device_type = NULL;
  TbLifecycle lifecycle;
  TbProbeInfo *info;

  if (!tb_virtual_board_read_identity (path, &uid, &device_type, &lifecycle, error))
    return NULL;
  info = g_new0 (TbProbeInfo, 1);
  info->uri = g_strconcat ("virtual:", path, NULL);
  info->kind = g_strdup ("virtual");
  info->description = describe (uid, device_type, lifecycle);
  info->serial = g_steal_pointer (&uid);
  return info;
}

/**
 * tb_virtual_probe_open:
 * @board_path: a virtual board directory
 */
TbProbe *
tb_virtual_probe_open (const char *board_path, GError **error)
{
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (board_path, error);
  g_autofree char *uri = NULL;
  g_autofree char *description = NULL;
  TbVirtualProbe *self;

  if (board == NULL)
    return NULL;
  uri = g_strconcat ("virtual:", tb_virtual_board_get_path (board), NULL);
  description = describe (tb_virtual_board_get_uid (board), tb_virtual_board_get_device_type (board),
                          tb_virtual_board_get_lifecycle (board));
  self = g_object_new (TB_TYPE_VIRTUAL_PROBE, "uri", uri, "kind", "virtual", "serial",
                       tb_virtual_board_get_uid (board), "description", description, NULL);
  self->board = g_steal_pointer (&board);
  /* connecting powers the board up: the ROM starts the SBM if there is one */
  tb_virtual_board_reset (self->board);
  return TB_PROBE (self);
}

/**
 * tb_virtual_probe_get_board:
 *
 * Returns: (transfer none): the board behind the probe
 */
TbVirtualBoard *
tb_virtual_probe_get_board (TbVirtualProbe *self)
{
  return self->board;
}

/**
 * tb_board_info_free:
 */
void
tb_board_info_free (TbBoardInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->uri);
  g_free (info->path);
  g_free (info->uid);
  g_free (info->device_type);
  g_free (info->device_public_key);
  g_free (info);
}

static TbBoardInfo *
board_info_new (TbVirtualBoard *board)
{
  TbBoardInfo *info = g_new0 (TbBoardInfo, 1);

  info->path = g_strdup (tb_virtual_board_get_path (board));
  info->uri = g_strconcat ("virtual:", info->path, NULL);
  info->uid = g_strdup (tb_virtual_board_get_uid (board));
  info->device_type = g_strdup (tb_virtual_board_get_device_type (board));
  info->lifecycle = tb_virtual_board_get_lifecycle (board);
  info->device_public_key = g_strdup (tb_virtual_board_get_public_key (board));
  return info;
}

/**
 * tb_virtual_probe_create_board:
 * @path: a directory that does not exist yet, or is empty
 * @device_type: (nullable): the device type (default tb-vmcu-m4)
 * @flash_size: flash bytes, or 0 for the device type's
 * @page_size: erase page bytes, or 0 for the device type's
 * @uid_hex: (nullable): the unique ID in hex, or %NULL for a random one
 *
 * Makes a virtual board, born blank with its UID and device key: what the
 * front ends call, so that they reach boards only through the probe layer.
 *
 * Returns: (transfer full): what the board is and its probe URI
 */
TbBoardInfo *
tb_virtual_probe_create_board (const char *path, const char *device_type, guint32 flash_size, guint32 page_size,
                               const char *uid_hex, GError **error)
{
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_create (path, device_type, flash_size, page_size, uid_hex, error);

  return board != NULL ? board_info_new (board) : NULL;
}

/**
 * tb_virtual_probe_stage_update:
 * @path: a virtual board directory
 * @upk: (array length=upk_len): a UPK, as the application downloaded it
 * @image: (array length=image_len): the encrypted image it protects
 *
 * Plays the board's application: writes an update into its update region,
 * which the SBM installs, with every check, at the next reset.
 *
 * Returns: (transfer full): the board staged on
 */
TbBoardInfo *
tb_virtual_probe_stage_update (const char *path, const guint8 *upk, gsize upk_len, const guint8 *image,
                               gsize image_len, GError **error)
{
  g_autoptr(TbVirtualBoard) board = tb_virtual_board_open (path, error);

  if (board == NULL || !tb_virtual_board_stage_update (board, upk, upk_len, image, image_len, error))
    return NULL;
  return board_info_new (board);
}
