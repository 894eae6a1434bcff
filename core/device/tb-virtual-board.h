/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include <gio/gio.h>
#include <json-glib/json-glib.h>

#include "tb-lifecycle.h"

G_BEGIN_DECLS

/* The virtual board's memory map (docs/board.md). */
#define TB_BOARD_FLASH_BASE 0x08000000u
#define TB_BOARD_RAM_BASE 0x20000000u
#define TB_BOARD_RAM_SIZE (64u * 1024u)
#define TB_BOARD_MAILBOX_SIZE (8u * 1024u)
#define TB_BOARD_DEFAULT_FLASH_SIZE (1024u * 1024u)
#define TB_BOARD_DEFAULT_PAGE_SIZE 4096u
#define TB_BOARD_DEFAULT_DEVICE_TYPE "tb-vmcu-m4"
#define TB_BOARD_SCHEMA_VERSION 1

/**
 * TbPowerCut:
 * @TB_POWER_CUT_BEFORE: the flash operation does not happen
 * @TB_POWER_CUT_AFTER: the operation completes, then power is lost
 * @TB_POWER_CUT_TORN: the operation is interrupted: a program writes only
 *   its first k of n bytes (and some bits of the next one), an erase
 *   erases a random part of the page (k and the part drawn from a seed)
 *
 * How the flash operation that loses power ends (docs/reliability.md).
 */
typedef enum {
  TB_POWER_CUT_BEFORE,
  TB_POWER_CUT_AFTER,
  TB_POWER_CUT_TORN,
} TbPowerCut;

#define TB_TYPE_VIRTUAL_BOARD (tb_virtual_board_get_type ())
G_DECLARE_FINAL_TYPE (TbVirtualBoard, tb_virtual_board, TB, VIRTUAL_BOARD, GObject)

TbVirtualBoard *tb_virtual_board_create        (const char      *path,
                                                const char      *device_type,
                                                guint32          flash_size,
                                                guint32          page_size,
                                                const char      *uid_hex,
                                                GError         **error);
TbVirtualBoard *tb_virtual_board_open          (const char      *path,
                                                GError         **error);

gboolean        tb_virtual_board_read_identity (const char      *path,
                                                char           **uid,
                                                char           **device_type,
                                                TbLifecycle     *lifecycle,
                                                GError         **error);

const char     *tb_virtual_board_get_path      (TbVirtualBoard  *self);
const char     *tb_virtual_board_get_uid       (TbVirtualBoard  *self);
const char     *tb_virtual_board_get_device_type (TbVirtualBoard *self);
TbLifecycle     tb_virtual_board_get_lifecycle (TbVirtualBoard  *self);
gboolean        tb_virtual_board_set_lifecycle (TbVirtualBoard  *self,
                                                TbLifecycle      lifecycle,
                                                GError         **error);
guint32         tb_virtual_board_get_flash_size (TbVirtualBoard *self);
guint32         tb_virtual_board_get_page_size (TbVirtualBoard  *self);
const char     *tb_virtual_board_get_public_key (TbVirtualBoard *self);

gboolean        tb_virtual_board_flash_read    (TbVirtualBoard  *self,
                                                guint32          offset,
                                                guint8          *buf,
                                                gsize            len,
                                                GError         **error);
gboolean        tb_virtual_board_flash_erase_page (TbVirtualBoard *self,
                                                guint32          offset,
                                                GError         **error);
gboolean        tb_virtual_board_flash_program (TbVirtualBoard  *self,
                                                guint32          offset,
                                                const guint8    *data,
                                                gsize            len,
                                                GError         **error);
guint64         tb_virtual_board_get_flash_ops (TbVirtualBoard  *self);
void            tb_virtual_board_set_power_loss_after (TbVirtualBoard *self,
                                                gint64           n_ops);
void            tb_virtual_board_set_power_cut (TbVirtualBoard  *self,
                                                gint64           n_ops,
                                                TbPowerCut       kind,
                                                guint32          seed);
gboolean        tb_virtual_board_is_powered    (TbVirtualBoard  *self);
void            tb_virtual_board_power_cycle   (TbVirtualBoard  *self);

gboolean        tb_virtual_board_debug_read    (TbVirtualBoard  *self,
                                                guint32          address,
                                                guint8          *buf,
                                                gsize            len,
                                                GError         **error);
gboolean        tb_virtual_board_debug_write   (TbVirtualBoard  *self,
                                                guint32          address,
                                                const guint8    *data,
                                                gsize            len,
                                                GError         **error);

JsonObject     *tb_virtual_board_get_otp       (TbVirtualBoard  *self);
guint8         *tb_virtual_board_get_ram       (TbVirtualBoard  *self);
gboolean        tb_virtual_board_save          (TbVirtualBoard  *self,
                                                GError         **error);

GBytes         *tb_virtual_board_build_sbm_image (void);
void            tb_virtual_board_reset         (TbVirtualBoard  *self);
gboolean        tb_virtual_board_is_sbm_running (TbVirtualBoard *self);
int             tb_virtual_board_get_boot_result (TbVirtualBoard *self,
                                                const char     **app_version);
void            tb_virtual_board_doorbell      (TbVirtualBoard  *self);
gboolean        tb_virtual_board_reset_halt    (TbVirtualBoard  *self,
                                                GError         **error);
gboolean        tb_virtual_board_halt          (TbVirtualBoard  *self,
                                                GError         **error);
void            tb_virtual_board_resume        (TbVirtualBoard  *self);
gboolean        tb_virtual_board_is_halted     (TbVirtualBoard  *self);
gboolean        tb_virtual_board_stage_update  (TbVirtualBoard  *self,
                                                const guint8    *upk,
                                                gsize            upk_len,
                                                const guint8    *image,
                                                gsize            image_len,
                                                GError         **error);

G_END_DECLS
