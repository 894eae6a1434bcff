/* SPDX-License-Identifier: GPL-3.0-or-later */

/* ELF, read with elfutils' libelf: PT_LOAD segments with file contents,
 * at their physical address; empty segments (.bss, stacks) add nothing.
 * The entry point comes from the ELF header. */

#include "config.h"

#include "tb-firmware-private.h"

#include <gelf.h>
#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-error.h"

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
  TbFirmwareBuilder b;
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
  tb_firmware_builder_init (&b, self->origin, "program header");
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
      if (!tb_firmware_builder_add (&b, ph.p_paddr, data + ph.p_offset, ph.p_filesz, (guint) i + 1, error))
        goto out;
    }
  self->has_entry = TRUE;
  self->entry = ehdr.e_entry;
  ok = tb_firmware_builder_finish (&b, self, error);
out:
  if (elf != NULL)
    elf_end (elf);
  tb_firmware_builder_clear (&b);
  return ok;
}


static gboolean
probe_elf (const guint8 *head, gsize head_len)
{
  return head_len >= 4 && memcmp (head, "\177ELF", 4) == 0;
}

static const char *const elf_extensions[] = { ".elf", ".axf", ".out", NULL };

const TbFirmwareReader tb_firmware_reader_elf = {
  .format = TB_FIRMWARE_FORMAT_ELF,
  .name = "elf",
  .description = "ELF",
  .extensions = elf_extensions,
  .probe = probe_elf,
  .parse = parse_elf,
};
