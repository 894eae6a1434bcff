/* SPDX-License-Identifier: GPL-3.0-or-later */

/* The reference SBM (core/device/sbm/tb-sbm.c) on a Cortex-M4: QEMU's
 * mps2-an386 (docs/qemu.md). This file is the board: the vector table and
 * startup, the flash and OTP the SBM's platform interface reads and
 * writes, and the loop that answers the mailbox.
 *
 * The board's non-volatile memory is QEMU's PSRAM at 0x21000000, backed by
 * a file (tools/run-qemu-sbm), so it outlives QEMU: flash (1 MiB, pages of
 * 4 KiB) with the rules real flash has — an erased byte is 0xFF, a program
 * operation stays within one page and can only clear bits — and after it
 * the OTP, an append-only list of items. */

#include <stdint.h>
#include <string.h>

#include "tb-sbm-crypto-mbedtls.h"
#include "tb-sbm.h"

#define FLASH_BASE 0x21000000u
#define FLASH_SIZE (1024u * 1024u)
#define PAGE_SIZE 4096u
#define OTP_BASE (FLASH_BASE + FLASH_SIZE)
#define OTP_SIZE 4096u
/* OTP items only the board knows: the factory's secret seed, from which
 * the SBM generates the device key at its first boot */
#define OTP_SEED 0x40

/* SysTick, on the processor clock (25 MHz on the mps2-an386) */
#define CPU_HZ 25000000u
#define SYST_CSR (*(volatile uint32_t *) 0xe000e010u)
#define SYST_RVR (*(volatile uint32_t *) 0xe000e014u)
#define SYST_CVR (*(volatile uint32_t *) 0xe000e018u)
#define SYST_CSR_ENABLE 1u
#define SYST_CSR_TICKINT 2u
#define SYST_CSR_CLKSOURCE 4u

extern uint32_t _data_start, _data_end, _data_load, _bss_start, _bss_end, _stack_top;

static uint8_t mailbox[TB_MB_SIZE] __attribute__ ((section (".mailbox"), aligned (4)));
static TbSbm sbm;

/* ---- flash ---- */

static volatile uint8_t *
flash_at (uint32_t offset)
{
  return (volatile uint8_t *) (FLASH_BASE + offset);
}

static int
flash_read (void *ctx, uint32_t offset, uint8_t *buf, size_t len)
{
  if (offset > FLASH_SIZE || len > FLASH_SIZE - offset)
    return -1;
  for (size_t i = 0; i < len; i++)
    buf[i] = flash_at (offset)[i];
  return 0;
}

static int
flash_erase (void *ctx, uint32_t offset)
{
  if (offset >= FLASH_SIZE || offset % PAGE_SIZE != 0)
    return -1;
  for (uint32_t i = 0; i < PAGE_SIZE; i++)
    flash_at (offset)[i] = 0xff;
  return 0;
}

static int
flash_program (void *ctx, uint32_t offset, const uint8_t *data, size_t len)
{
  if (len == 0 || offset >= FLASH_SIZE || len > PAGE_SIZE - offset % PAGE_SIZE)
    return -1; /* one program operation stays within one page */
  for (size_t i = 0; i < len; i++)
    if ((flash_at (offset)[i] & data[i]) != data[i])
      return -1; /* a 1 over a 0: the page must be erased first */
  for (size_t i = 0; i < len; i++)
    flash_at (offset)[i] = data[i];
  return 0;
}

/* ---- OTP: records `item u8, length u16 (little-endian), data`, appended
 * after each other, 0xFF where none has been written yet; the last record
 * of an item is its value (only the lifecycle is written more than once,
 * and only forward). ---- */

static volatile uint8_t *
otp_at (uint32_t offset)
{
  return (volatile uint8_t *) (OTP_BASE + offset);
}

/* Finds the last record of @item; returns the end of the records. */
static uint32_t
otp_scan (int item, uint32_t *found, uint32_t *found_len)
{
  uint32_t pos = 0;

  *found_len = 0;
  *found = UINT32_MAX;
  while (pos + 3 <= OTP_SIZE && otp_at (pos)[0] != 0xff)
    {
      uint32_t len = otp_at (pos)[1] | (uint32_t) otp_at (pos)[2] << 8;
      if (len > OTP_SIZE - pos - 3)
        break; /* a torn record ends the list */
      if (otp_at (pos)[0] == item)
        {
          *found = pos + 3;
          *found_len = len;
        }
      pos += 3 + len;
    }
  return pos;
}

static int
otp_read (void *ctx, int item, uint8_t *buf, size_t cap)
{
  uint32_t at, len;

  otp_scan (item, &at, &len);
  if (at == UINT32_MAX || len > cap)
    return -1;
  for (uint32_t i = 0; i < len; i++)
    buf[i] = otp_at (at)[i];
  return (int) len;
}

static int
otp_write (void *ctx, int item, const uint8_t *data, size_t len)
{
  uint32_t at, old_len;
  uint32_t end = otp_scan (item, &at, &old_len);

  if (item == TB_OTP_LIFECYCLE)
    {
      if (len != 1 || data[0] > 3 || (at != UINT32_MAX && data[0] < otp_at (at)[0]))
        return -1; /* the lifecycle never goes back */
    }
  else if (at != UINT32_MAX || item == OTP_SEED)
    return -1; /* written once */
  if (len > 0xffff || end + 3 + len > OTP_SIZE)
    return -1;
  /* data first, the item byte last: a torn write leaves no record */
  otp_at (end)[1] = (uint8_t) len;
  otp_at (end)[2] = (uint8_t) (len >> 8);
  for (size_t i = 0; i < len; i++)
    otp_at (end + 3)[i] = data[i];
  otp_at (end)[0] = (uint8_t) item;
  return 0;
}

static const TbSbmPlatform platform = {
  .ctx = NULL,
  .flash_size = FLASH_SIZE,
  .page_size = PAGE_SIZE,
  .flash_base = FLASH_BASE,
  .flash_read = flash_read,
  .flash_erase = flash_erase,
  .flash_program = flash_program,
  .otp_read = otp_read,
  .otp_write = otp_write,
  .mailbox = mailbox,
};

/* At the first boot the device generates its key from the factory seed
 * and the SBM counts as installed (it is the board's boot ROM here). */
static void
birth (void)
{
  uint8_t seed[64], priv[32], pub[65];
  uint8_t lifecycle = 1;
  int seed_len = otp_read (NULL, OTP_SEED, seed, sizeof seed);

  if (seed_len < 32 || tb_sbm_crypto_mbedtls_seed (seed, (size_t) seed_len) != 0)
    return; /* no seed: the device stays without a key and refuses to attest */
  memset (seed, 0, sizeof seed);
  if (otp_read (NULL, TB_OTP_DEVICE_PRIVATE_KEY, priv, sizeof priv) == 32)
    {
      memset (priv, 0, sizeof priv);
      return;
    }
  if (tb_sbm_crypto_mbedtls_generate_key (priv, pub) == 0 &&
      otp_write (NULL, TB_OTP_DEVICE_PRIVATE_KEY, priv, 32) == 0 &&
      otp_write (NULL, TB_OTP_DEVICE_PUBLIC_KEY, pub, 65) == 0)
    otp_write (NULL, TB_OTP_LIFECYCLE, &lifecycle, 1);
  memset (priv, 0, sizeof priv);
}

static uint32_t
read_command (void)
{
  return *(volatile uint32_t *) (mailbox + TB_MB_OFF_COMMAND);
}

int main (void);

int
main (void)
{
  tb_sbm_crypto_mbedtls_init ();
  /* the magic word says "ready": a host polls it after a reset, so it
   * stays cleared until tb_sbm_boot() has done the boot checks and writes
   * it (the host may stop the core between any two instructions) */
  memset (mailbox, 0, TB_MB_HEADER);
  birth ();
  tb_sbm_init (&sbm, &platform, tb_sbm_crypto_mbedtls ());
  tb_sbm_boot (&sbm);
  /* between commands the core sleeps, woken each millisecond by SysTick
   * to look at the doorbell (a debugger's write raises no interrupt):
   * QEMU then idles instead of spinning */
  SYST_RVR = CPU_HZ / 1000 - 1;
  SYST_CVR = 0;
  SYST_CSR = SYST_CSR_ENABLE | SYST_CSR_TICKINT | SYST_CSR_CLKSOURCE;
  for (;;)
    {
      if (read_command () != TB_MB_CMD_NONE)
        tb_sbm_handle_mailbox (&sbm);
      else
        __asm__ volatile ("wfi" ::: "memory");
    }
}

/* ---- startup ---- */

void tb_fw_reset (void);
void tb_fw_fault (void);
void tb_fw_tick (void);

/* SysTick only wakes the core from its wfi */
void
tb_fw_tick (void)
{
}

void
tb_fw_reset (void)
{
  uint32_t *src = &_data_load;

  for (uint32_t *dst = &_data_start; dst < &_data_end;)
    *dst++ = *src++;
  for (uint32_t *dst = &_bss_start; dst < &_bss_end;)
    *dst++ = 0;
  main ();
  for (;;)
    ;
}

/* A fault stops here, where a debugger sees it (pc in tb_fw_fault). */
void
tb_fw_fault (void)
{
  for (;;)
    ;
}

__attribute__ ((section (".vectors"), used)) static const void *const vectors[16] = {
  [0] = &_stack_top,
  [1] = (const void *) tb_fw_reset,
  [2] = (const void *) tb_fw_fault, /* NMI */
  [3] = (const void *) tb_fw_fault, /* HardFault */
  [4] = (const void *) tb_fw_fault, /* MemManage */
  [5] = (const void *) tb_fw_fault, /* BusFault */
  [6] = (const void *) tb_fw_fault, /* UsageFault */
  [15] = (const void *) tb_fw_tick, /* SysTick */
};
