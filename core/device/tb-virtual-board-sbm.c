/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The SBM on TbVirtualBoard: the platform it runs on (the board's flash,
 * OTP and mailbox RAM), the ROM's check of the SBM image at reset, the
 * debugger's halt and resume, an update staged by the application, and the
 * mailbox doorbell. */

#include "config.h"

#include "tb-virtual-board-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"
#include "tb-json-private.h"
#include "tb-sbm-crypto-openssl.h"
#include "tb-sbm-image.h"

/**
 * tb_virtual_board_build_sbm_image:
 *
 * Returns: (transfer full): the genuine SBM image, as tb_sbm_image_build()
 *   (kept for callers of the board's API)
 */
GBytes *
tb_virtual_board_build_sbm_image (void)
{
  return tb_sbm_image_build ();
}

static int
plat_flash_read (void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
  return tb_virtual_board_flash_read (ctx, offset, buf, len, NULL) ? 0 : -1;
}

static int
plat_flash_erase (void *ctx, uint32_t offset)
{
  return tb_virtual_board_flash_erase_page (ctx, offset, NULL) ? 0 : -1;
}

static int
plat_flash_program (void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
  return tb_virtual_board_flash_program (ctx, offset, data, len, NULL) ? 0 : -1;
}

static int
hex_to_buf (const char *hex, uint8_t *buf, size_t cap)
{
  size_t len = hex != NULL ? strlen (hex) : 0;

  if (hex == NULL || len % 2 != 0 || len / 2 > cap)
    return -1;
  for (size_t i = 0; i < len / 2; i++)
    {
      int hi = g_ascii_xdigit_value (hex[2 * i]), lo = g_ascii_xdigit_value (hex[2 * i + 1]);
      if (hi < 0 || lo < 0)
        return -1;
      buf[i] = (uint8_t) (hi << 4 | lo);
    }
  return (int) (len / 2);
}

static const char *
otp_member (int item, gboolean *is_hex)
{
  *is_hex = TRUE;
  switch (item)
    {
    case TB_OTP_DEVICE_PRIVATE_KEY: return "device_private_key";
    case TB_OTP_DEVICE_PUBLIC_KEY: return "device_public_key";
    case TB_OTP_ANCHOR: return "anchor";
    case TB_OTP_PRODUCT_KEY: return "product_key";
    case TB_OTP_DEVICE_CERT: return "device_certificate";
    case TB_OTP_PRODUCT: *is_hex = FALSE; return "product";
    default: return NULL;
    }
}

static int
plat_otp_read (void *ctx, int item, uint8_t *buf, size_t cap)
{
  TbVirtualBoard *self = ctx;
  JsonObject *otp = tb_virtual_board_get_otp (self);
  gboolean is_hex;
  const char *member;
  const char *value;

  switch (item)
    {
    case TB_OTP_UID:
      return hex_to_buf (tb_virtual_board_get_uid (self), buf, cap);
    case TB_OTP_DEVICE_TYPE:
      value = tb_virtual_board_get_device_type (self);
      if (strlen (value) > cap)
        return -1;
      memcpy (buf, value, strlen (value));
      return (int) strlen (value);
    case TB_OTP_LIFECYCLE:
      if (cap < 1)
        return -1;
      buf[0] = (uint8_t) tb_virtual_board_get_lifecycle (self);
      return 1;
    default:
      break;
    }
  member = otp_member (item, &is_hex);
  value = member != NULL ? tb_json_get_string (otp, member, NULL) : NULL;
  if (value == NULL)
    return -1;
  if (is_hex)
    return hex_to_buf (value, buf, cap);
  if (strlen (value) > cap)
    return -1;
  memcpy (buf, value, strlen (value));
  return (int) strlen (value);
}

static int
plat_otp_write (void *ctx, int item, const uint8_t *data, size_t len)
{
  TbVirtualBoard *self = ctx;
  JsonObject *otp = tb_virtual_board_get_otp (self);
  gboolean is_hex;
  const char *member;

  if (item == TB_OTP_LIFECYCLE)
    {
      if (len != 1 || data[0] > TB_LIFECYCLE_LOCKED || data[0] < (uint8_t) tb_virtual_board_get_lifecycle (self))
        return -1;
      json_object_set_string_member (self->root, "lifecycle", tb_lifecycle_to_string ((TbLifecycle) data[0]));
      self->otp_dirty = TRUE;
      return 0;
    }
  member = otp_member (item, &is_hex);
  if (member == NULL || item == TB_OTP_DEVICE_PRIVATE_KEY || item == TB_OTP_DEVICE_PUBLIC_KEY)
    return -1;
  if (is_hex)
    {
      g_autofree char *hex = tb_hex_encode (data, len);
      json_object_set_string_member (otp, member, hex);
    }
  else
    {
      g_autofree char *text = g_strndup ((const char *) data, len);
      json_object_set_string_member (otp, member, text);
    }
  self->otp_dirty = TRUE;
  return 0;
}

static gboolean
sbm_is_genuine (TbVirtualBoard *self)
{
  JsonObject *rom = json_object_has_member (self->root, "rom") ? json_object_get_object_member (self->root, "rom") : NULL;
  const char *expected = rom != NULL ? tb_json_get_string (rom, "sbm_sha256", NULL) : NULL;
  g_autofree char *actual = g_compute_checksum_for_data (G_CHECKSUM_SHA256, self->flash, TB_SBM_REGION_SIZE);

  return expected != NULL && self->flash_size > TB_SBM_REGION_SIZE && g_strcmp0 (expected, actual) == 0;
}

static void power_on_reset (TbVirtualBoard *self);
static void start_core (TbVirtualBoard *self);

/**
 * tb_virtual_board_reset:
 *
 * A system reset: power comes back, the ROM checks the SBM image against
 * the hash it holds and runs the SBM only if it is genuine; the SBM then
 * checks the application (tb_sbm_boot()).
 */
void
tb_virtual_board_reset (TbVirtualBoard *self)
{
  power_on_reset (self);
  start_core (self);
}

/* The core held at the reset vector: power is back, nothing has run yet. */
static void
power_on_reset (TbVirtualBoard *self)
{
  if (self->sbm_running)
    tb_sbm_shutdown (self->sbm);
  tb_virtual_board_power_cycle (self);
  self->sbm_running = FALSE;
  self->halted = FALSE;
  self->boot_pending = FALSE;
  self->doorbell_pending = FALSE;
}

/* The core runs from the reset vector: the ROM, then the SBM's boot. */
static void
start_core (TbVirtualBoard *self)
{
  if (!sbm_is_genuine (self))
    return;
  if (tb_virtual_board_get_lifecycle (self) == TB_LIFECYCLE_BLANK)
    tb_virtual_board_set_lifecycle (self, TB_LIFECYCLE_SBM_INSTALLED, NULL);
  self->platform.ctx = self;
  self->platform.flash_size = self->flash_size;
  self->platform.page_size = self->page_size;
  self->platform.flash_base = TB_BOARD_FLASH_BASE;
  self->platform.flash_read = plat_flash_read;
  self->platform.flash_erase = plat_flash_erase;
  self->platform.flash_program = plat_flash_program;
  self->platform.otp_read = plat_otp_read;
  self->platform.otp_write = plat_otp_write;
  self->platform.mailbox = self->ram;
  tb_sbm_init (self->sbm, &self->platform, tb_sbm_crypto_openssl ());
  tb_sbm_boot (self->sbm);
  self->sbm_running = self->powered;
  if (!self->sbm_running)
    tb_sbm_shutdown (self->sbm); /* power was lost while the SBM booted */
}

static gboolean
check_debug_halt (TbVirtualBoard *self, GError **error)
{
  if (tb_virtual_board_get_lifecycle (self) == TB_LIFECYCLE_LOCKED)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The device is locked: its debug port cannot halt the core, only reach the SBM mailbox"));
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_virtual_board_reset_halt:
 *
 * A reset that leaves the core halted at the reset vector (nothing runs,
 * not even the ROM check) until tb_virtual_board_resume(). Refused by a
 * locked device.
 */
gboolean
tb_virtual_board_reset_halt (TbVirtualBoard *self, GError **error)
{
  if (!check_debug_halt (self, error))
    return FALSE;
  power_on_reset (self);
  self->halted = TRUE;
  self->boot_pending = TRUE;
  return TRUE;
}

/**
 * tb_virtual_board_halt:
 *
 * Stops the core: the SBM answers no mailbox command until
 * tb_virtual_board_resume(). Refused by a locked device.
 */
gboolean
tb_virtual_board_halt (TbVirtualBoard *self, GError **error)
{
  if (!check_debug_halt (self, error))
    return FALSE;
  self->halted = TRUE;
  return TRUE;
}

/**
 * tb_virtual_board_resume:
 *
 * Lets a halted core run again; one halted at reset boots now.
 */
void
tb_virtual_board_resume (TbVirtualBoard *self)
{
  if (!self->halted)
    return;
  self->halted = FALSE;
  if (self->boot_pending)
    {
      self->boot_pending = FALSE;
      start_core (self);
    }
  else if (self->sbm_running && self->doorbell_pending)
    tb_virtual_board_doorbell (self); /* a command rung while halted runs now */
}

gboolean
tb_virtual_board_is_halted (TbVirtualBoard *self)
{
  return self->halted;
}

/* Programs @len bytes at @offset, one page-bounded operation at a time. */
static gboolean
program_span (TbVirtualBoard *self, guint32 offset, const guint8 *data, gsize len, GError **error)
{
  while (len > 0)
    {
      gsize n = MIN (len, self->page_size - offset % self->page_size);
      if (!tb_virtual_board_flash_program (self, offset, data, n, error))
        return FALSE;
      offset += (guint32) n;
      data += n;
      len -= n;
    }
  return TRUE;
}

/**
 * tb_virtual_board_stage_update:
 * @upk: (array length=upk_len): the Update Protection Key file
 * @image: (array length=image_len): the encrypted image (.tbimg)
 *
 * What an application does when it has downloaded an update by its own
 * means: it writes the UPK and the encrypted image into the update region
 * (docs/mailbox.md), header last, so that a power cut while staging leaves
 * nothing for the SBM to act on. The SBM installs it at the next reset
 * (tb_virtual_board_reset()), through the same checks as an install over
 * the mailbox.
 */
gboolean
tb_virtual_board_stage_update (TbVirtualBoard *self, const guint8 *upk, gsize upk_len, const guint8 *image,
                               gsize image_len, GError **error)
{
  TbSbmPlatform geometry = { .flash_size = self->flash_size, .page_size = self->page_size };
  guint32 base = tb_sbm_update_offset (&geometry);
  guint32 region = self->flash_size - base;
  guint8 header[TB_SBM_UPDATE_HEADER] = "TBUPD\0\0\1";

  if (upk_len == 0 || image_len == 0 || upk_len > region || image_len > region - upk_len ||
      TB_SBM_UPDATE_HEADER > region - upk_len - image_len)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The update (%" G_GSIZE_FORMAT " bytes) does not fit the board’s %u-byte update region"),
                   upk_len + image_len + TB_SBM_UPDATE_HEADER, region);
      return FALSE;
    }
  for (guint32 off = base; off < base + TB_SBM_UPDATE_HEADER + upk_len + image_len; off += self->page_size)
    if (!tb_virtual_board_flash_erase_page (self, off, error))
      return FALSE;
  for (guint i = 0; i < 4; i++)
    {
      header[8 + i] = (guint8) (upk_len >> (8 * i));
      header[12 + i] = (guint8) (image_len >> (8 * i));
    }
  return program_span (self, base + TB_SBM_UPDATE_HEADER, upk, upk_len, error) &&
         program_span (self, base + TB_SBM_UPDATE_HEADER + (guint32) upk_len, image, image_len, error) &&
         program_span (self, base, header, sizeof header, error);
}

gboolean
tb_virtual_board_is_sbm_running (TbVirtualBoard *self)
{
  return self->sbm_running;
}

/**
 * tb_virtual_board_get_boot_result:
 *
 * Returns: 0 the application runs, 1 there is none, 2 it was refused; -1
 *   when no SBM runs
 */
int
tb_virtual_board_get_boot_result (TbVirtualBoard *self, const char **app_version)
{
  if (!self->sbm_running)
    return -1;
  if (app_version != NULL)
    *app_version = self->sbm->app_version;
  return (int) self->sbm->boot;
}

/**
 * tb_virtual_board_doorbell:
 *
 * The host wrote a command into the mailbox: the SBM runs it.
 */
void
tb_virtual_board_doorbell (TbVirtualBoard *self)
{
  if (!self->sbm_running || !self->powered)
    return;
  self->doorbell_pending = self->halted;
  if (self->halted)
    return;
  tb_sbm_handle_mailbox (self->sbm);
  if (self->otp_dirty)
    {
      tb_virtual_board_save (self, NULL);
      self->otp_dirty = FALSE;
    }
}
