/* SPDX-License-Identifier: GPL-3.0-or-later */

/* TbVirtualBoard's flash and debug port. The flash has page-erase /
 * program semantics (erased 0xFF; programming only clears bits) and is
 * written to flash.bin in place at every operation, like real flash.
 * Fault injection: power is lost at the N-th flash operation from the
 * moment it is armed, before, after or in the middle of it; the board then
 * refuses everything until it is power-cycled, keeping the flash as it
 * was. Debug access reaches RAM and flash, only the mailbox when the board
 * is locked. */

#include "config.h"

#include "tb-virtual-board-private.h"

#include <errno.h>
#include <glib/gi18n-lib.h>
#include <string.h>
#include <unistd.h>

#include "tb-error.h"

static gboolean
check_range (TbVirtualBoard *self, guint32 offset, gsize len, GError **error)
{
  if (offset > self->flash_size || len > self->flash_size - offset)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Flash access at offset 0x%x, %" G_GSIZE_FORMAT " bytes, is outside the %u-byte flash"), offset,
                   len, self->flash_size);
      return FALSE;
    }
  return TRUE;
}

typedef enum {
  OP_REFUSED,                 /* no power: nothing happens, error set */
  OP_RUNS,                    /* the operation happens */
  OP_CUT_AFTER,               /* it happens, then power is lost */
  OP_TORN,                    /* power is lost in the middle of it */
} FlashOp;

/* Counts a flash operation and says how it goes: refused once power is
 * lost, cut (the way the armed cut says) when it is the one that loses it. */
static FlashOp
begin_flash_op (TbVirtualBoard *self, GError **error)
{
  FlashOp op = OP_RUNS;

  if (self->powered && self->power_loss_after == 0)
    {
      self->power_loss_after = -1; /* a cut happens once */
      if (self->power_cut == TB_POWER_CUT_BEFORE)
        self->powered = FALSE;
      else
        op = self->power_cut == TB_POWER_CUT_AFTER ? OP_CUT_AFTER : OP_TORN;
    }
  if (!self->powered)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The board lost power"));
      return OP_REFUSED;
    }
  if (self->power_loss_after > 0)
    self->power_loss_after--;
  self->flash_ops++;
  return op;
}

/* Power goes away after (or in the middle of) an operation that was
 * persisted as far as it got. */
static gboolean
lose_power (TbVirtualBoard *self, gboolean persisted, GError **error)
{
  self->powered = FALSE;
  if (persisted)
    g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The board lost power"));
  return FALSE;
}

static gboolean
persist (TbVirtualBoard *self, guint32 offset, gsize len, GError **error)
{
  gsize done = 0;

  while (done < len)
    {
      gssize n = pwrite (self->flash_fd, self->flash + offset + done, len - done, (off_t) (offset + done));
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0)
        {
          int saved_errno = errno;
          g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot write the board's flash: %s"),
                       g_strerror (saved_errno));
          return FALSE;
        }
      done += (gsize) n;
    }
  return TRUE;
}

gboolean
tb_virtual_board_flash_read (TbVirtualBoard *self, guint32 offset, guint8 *buf, gsize len, GError **error)
{
  if (!check_range (self, offset, len, error))
    return FALSE;
  if (!self->powered)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The board lost power"));
      return FALSE;
    }
  memcpy (buf, self->flash + offset, len);
  return TRUE;
}

/**
 * tb_virtual_board_flash_erase_page:
 * @offset: any offset inside the page
 *
 * Sets a whole page to 0xFF. One flash operation.
 */
gboolean
tb_virtual_board_flash_erase_page (TbVirtualBoard *self, guint32 offset, GError **error)
{
  guint32 page = offset - offset % self->page_size;

  FlashOp op;

  if (!check_range (self, offset, 1, error) || (op = begin_flash_op (self, error)) == OP_REFUSED)
    return FALSE;
  if (op == OP_TORN)
    {
      /* a part of the page erased: a run of bytes from a random start */
      g_autoptr(GRand) rand = g_rand_new_with_seed (self->power_cut_seed);
      guint32 start = (guint32) g_rand_int_range (rand, 0, (gint32) self->page_size);
      guint32 len = (guint32) g_rand_int_range (rand, 1, (gint32) (self->page_size - start + 1));
      memset (self->flash + page + start, 0xff, len);
      return lose_power (self, persist (self, page, self->page_size, error), error);
    }
  memset (self->flash + page, 0xff, self->page_size);
  if (op == OP_CUT_AFTER)
    return lose_power (self, persist (self, page, self->page_size, error), error);
  return persist (self, page, self->page_size, error);
}

/**
 * tb_virtual_board_flash_program:
 *
 * Programs bytes, which can only clear bits: a byte whose programming
 * would set a bit that is 0 is refused (erase the page first). One flash
 * operation; it may not cross a page boundary.
 */
gboolean
tb_virtual_board_flash_program (TbVirtualBoard *self, guint32 offset, const guint8 *data, gsize len, GError **error)
{
  FlashOp op;

  if (!check_range (self, offset, len, error))
    return FALSE;
  if (len == 0)
    return TRUE;
  if (offset / self->page_size != (offset + len - 1) / self->page_size)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A flash program operation at 0x%x of %" G_GSIZE_FORMAT " bytes crosses a page boundary"), offset,
                   len);
      return FALSE;
    }
  for (gsize i = 0; i < len; i++)
    if ((data[i] & ~self->flash[offset + i]) != 0)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("Flash at 0x%" G_GSIZE_FORMAT " is not erased: programming only clears bits (erase the page "
                       "first)"), (gsize) offset + i);
        return FALSE;
      }
  op = begin_flash_op (self, error);
  if (op == OP_REFUSED)
    return FALSE;
  if (op == OP_TORN)
    {
      /* the first k bytes written, then some of the bits of byte k */
      g_autoptr(GRand) rand = g_rand_new_with_seed (self->power_cut_seed);
      gsize k = (gsize) g_rand_int_range (rand, 0, (gint32) len);
      for (gsize i = 0; i < k; i++)
        self->flash[offset + i] &= data[i];
      self->flash[offset + k] &= data[k] | (guint8) g_rand_int (rand);
      return lose_power (self, persist (self, offset, len, error), error);
    }
  for (gsize i = 0; i < len; i++)
    self->flash[offset + i] &= data[i];
  if (op == OP_CUT_AFTER)
    return lose_power (self, persist (self, offset, len, error), error);
  return persist (self, offset, len, error);
}

guint64
tb_virtual_board_get_flash_ops (TbVirtualBoard *self)
{
  return self->flash_ops;
}

/**
 * tb_virtual_board_set_power_loss_after:
 * @n_ops: power is lost after this many more flash operations; -1 never
 */
void
tb_virtual_board_set_power_loss_after (TbVirtualBoard *self, gint64 n_ops)
{
  tb_virtual_board_set_power_cut (self, n_ops, TB_POWER_CUT_BEFORE, 0);
}

/**
 * tb_virtual_board_set_power_cut:
 * @n_ops: power is lost at the flash operation after this many more; -1 never
 * @kind: how that operation ends
 * @seed: for %TB_POWER_CUT_TORN, what the torn operation leaves (the same
 *   seed, the same bytes)
 *
 * Arms one power cut, as tb_virtual_board_set_power_loss_after() but
 * also after an operation or in the middle of it.
 */
void
tb_virtual_board_set_power_cut (TbVirtualBoard *self, gint64 n_ops, TbPowerCut kind, guint32 seed)
{
  self->power_loss_after = n_ops;
  self->power_cut = kind;
  self->power_cut_seed = seed;
}

gboolean
tb_virtual_board_is_powered (TbVirtualBoard *self)
{
  return self->powered;
}

/**
 * tb_virtual_board_power_cycle:
 *
 * Power comes back: RAM is cleared, the flash keeps what was written. A
 * power cut armed with tb_virtual_board_set_power_loss_after() that has not
 * happened yet stays armed, so it can hit the boot that follows.
 */
void
tb_virtual_board_power_cycle (TbVirtualBoard *self)
{
  self->powered = TRUE;
  memset (self->ram, 0, TB_BOARD_RAM_SIZE);
}

/* ---- debug access ---- */

static gboolean
in_range (guint32 address, gsize len, guint32 base, guint32 size)
{
  return address >= base && len <= size && address - base <= size - len;
}

static gboolean
debug_check (TbVirtualBoard *self, guint32 address, gsize len, gboolean write, GError **error)
{
  gboolean mailbox = in_range (address, len, TB_BOARD_RAM_BASE, TB_BOARD_MAILBOX_SIZE);

  if (!self->powered)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The board does not answer: it lost power"));
      return FALSE;
    }
  if (tb_virtual_board_get_lifecycle (self) == TB_LIFECYCLE_LOCKED && !mailbox)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("The board is locked: debug access is limited to the SBM mailbox (0x%08x, %u bytes); %s at "
                     "0x%08x refused"),
                   TB_BOARD_RAM_BASE, TB_BOARD_MAILBOX_SIZE, write ? _("writing") : _("reading"), address);
      return FALSE;
    }
  if (!in_range (address, len, TB_BOARD_RAM_BASE, TB_BOARD_RAM_SIZE) &&
      !in_range (address, len, TB_BOARD_FLASH_BASE, self->flash_size))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Nothing is mapped at 0x%08x (%" G_GSIZE_FORMAT " bytes): flash is at 0x%08x (%u bytes), RAM at "
                     "0x%08x (%u bytes)"),
                   address, len, TB_BOARD_FLASH_BASE, self->flash_size, TB_BOARD_RAM_BASE, TB_BOARD_RAM_SIZE);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_virtual_board_debug_read:
 *
 * What a debug probe reads: RAM and flash, only the mailbox when locked.
 */
gboolean
tb_virtual_board_debug_read (TbVirtualBoard *self, guint32 address, guint8 *buf, gsize len, GError **error)
{
  if (!debug_check (self, address, len, FALSE, error))
    return FALSE;
  if (address >= TB_BOARD_RAM_BASE && address < TB_BOARD_RAM_BASE + TB_BOARD_RAM_SIZE)
    memcpy (buf, self->ram + (address - TB_BOARD_RAM_BASE), len);
  else
    memcpy (buf, self->flash + (address - TB_BOARD_FLASH_BASE), len);
  return TRUE;
}

/**
 * tb_virtual_board_debug_write:
 *
 * What a debug probe writes: RAM directly; flash through the debugger's
 * flash algorithm (erase the touched pages, program), refused when locked.
 */
gboolean
tb_virtual_board_debug_write (TbVirtualBoard *self, guint32 address, const guint8 *data, gsize len, GError **error)
{
  guint32 offset;

  if (!debug_check (self, address, len, TRUE, error))
    return FALSE;
  if (address >= TB_BOARD_RAM_BASE && address < TB_BOARD_RAM_BASE + TB_BOARD_RAM_SIZE)
    {
      memcpy (self->ram + (address - TB_BOARD_RAM_BASE), data, len);
      return TRUE;
    }
  offset = address - TB_BOARD_FLASH_BASE;
  /* read-modify-write of every touched page */
  for (guint32 page = offset - offset % self->page_size; page < offset + len; page += self->page_size)
    {
      g_autofree guint8 *copy = g_memdup2 (self->flash + page, self->page_size);
      guint32 lo = MAX (page, offset);
      guint32 hi = MIN (page + self->page_size, offset + (guint32) len);

      memcpy (copy + (lo - page), data + (lo - offset), hi - lo);
      if (!tb_virtual_board_flash_erase_page (self, page, error) ||
          !tb_virtual_board_flash_program (self, page, copy, self->page_size, error))
        return FALSE;
    }
  return TRUE;
}

/**
 * tb_virtual_board_get_ram: (skip)
 *
 * Returns: the board's RAM (%TB_BOARD_RAM_SIZE bytes), for code running
 *   on the board
 */
guint8 *
tb_virtual_board_get_ram (TbVirtualBoard *self)
{
  return self->ram;
}
