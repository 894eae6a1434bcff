/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbVirtualBoard:
 *
 * A virtual microcontroller that behaves like a lab board: flash with
 * page-erase / program semantics (erased 0xFF; programming only clears
 * bits), RAM holding the SBM mailbox, an OTP/key store, a unique ID, a
 * device type and a lifecycle (blank → SBM installed → provisioned →
 * locked). It is born with a P-256 device key pair generated inside; the
 * private key stays in the board's OTP and is used only by code running
 * "on" the board (the SBM). A locked board limits debug access to the
 * mailbox.
 *
 * State lives in a board directory: `board.json` (identity, lifecycle,
 * OTP) written atomically, and `flash.bin` (the raw flash) updated in
 * place at every flash operation, like real flash. docs/board.md
 * documents both. Fault injection: power is lost after the N-th flash
 * operation from the moment it is armed; the board then refuses
 * everything until it is power-cycled, keeping the flash as it was.
 */

#include "config.h"

#include "tb-virtual-board.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <glib/gstdio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <string.h>
#include <unistd.h>

#include "tb-error.h"
#include "sbm/tb-sbm.h"
#include "tb-crypto.h"
#include "tb-file.h"
#include "tb-name.h"
#include "tb-sbm-crypto-openssl.h"
#include "tb-sbm-image.h"
#include "tb-secret.h"

G_STATIC_ASSERT (TB_BOARD_RAM_BASE == TB_MB_ADDRESS);

#define BOARD_FILE "board.json"
#define FLASH_FILE "flash.bin"
#define LOCK_FILE ".lock"
#define MAX_FLASH_SIZE (64u * 1024u * 1024u)

struct _TbVirtualBoard {
  GObject parent_instance;

  char *path;
  char *json_path;
  TbLock *lock;               /* held while the object lives: one user at a time */
  JsonObject *root;
  guint8 *flash;
  guint32 flash_size;
  guint32 page_size;
  int flash_fd;
  guint8 *ram;                /* TB_BOARD_RAM_SIZE bytes, not persisted */
  guint64 flash_ops;
  gint64 power_loss_after;    /* ops left before power is lost; -1 = never */
  TbPowerCut power_cut;       /* how the operation that loses power ends */
  guint32 power_cut_seed;     /* draws what a torn operation leaves */
  gboolean powered;

  /* the SBM, running "on" the board once a genuine SBM image is in flash */
  TbSbm *sbm;
  TbSbmPlatform platform;
  gboolean sbm_running;
  gboolean halted;            /* the core is stopped by the debugger */
  gboolean boot_pending;      /* halted at reset: the ROM has not run yet */
  gboolean doorbell_pending;  /* the command word was written while halted */
  gboolean otp_dirty;
};

G_STATIC_ASSERT (TB_BOARD_FLASH_BASE == TB_SBM_IMAGE_ADDRESS);

G_DEFINE_FINAL_TYPE (TbVirtualBoard, tb_virtual_board, G_TYPE_OBJECT)

static void
tb_virtual_board_finalize (GObject *object)
{
  TbVirtualBoard *self = TB_VIRTUAL_BOARD (object);

  if (self->flash_fd >= 0)
    close (self->flash_fd);
  g_free (self->flash);
  g_free (self->ram);
  if (self->sbm_running)
    tb_sbm_shutdown (self->sbm);
  g_free (self->sbm);
  g_clear_pointer (&self->root, json_object_unref);
  g_free (self->json_path);
  g_free (self->path);
  g_clear_pointer (&self->lock, tb_lock_release);
  G_OBJECT_CLASS (tb_virtual_board_parent_class)->finalize (object);
}

static void
tb_virtual_board_class_init (TbVirtualBoardClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_virtual_board_finalize;
}

static void
tb_virtual_board_init (TbVirtualBoard *self)
{
  self->flash_fd = -1;
  self->ram = g_malloc0 (TB_BOARD_RAM_SIZE);
  self->sbm = g_new0 (TbSbm, 1);
  self->power_loss_after = -1;
  self->powered = TRUE;
}

static gboolean
uid_is_valid (const char *uid)
{
  gsize len = uid != NULL ? strlen (uid) : 0;

  if (len < 2 || len > 64 || len % 2 != 0)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (uid[i]))
      return FALSE;
  return TRUE;
}

/* The device key is born inside the board: a P-256 pair whose private
 * scalar goes into the OTP and never out through the debug port. */
static gboolean
generate_device_key (JsonObject *otp, GError **error)
{
  EVP_PKEY *pkey = EVP_PKEY_Q_keygen (NULL, NULL, "EC", "P-256");
  BIGNUM *priv = NULL;
  guint8 scalar[32];
  guint8 point[65];
  size_t point_len = 0;
  g_autofree char *priv_hex = NULL;
  g_autofree char *pub_hex = NULL;
  gboolean ok;

  ok = pkey != NULL && EVP_PKEY_get_bn_param (pkey, OSSL_PKEY_PARAM_PRIV_KEY, &priv) &&
       BN_bn2binpad (priv, scalar, sizeof scalar) == sizeof scalar &&
       EVP_PKEY_get_octet_string_param (pkey, OSSL_PKEY_PARAM_ENCODED_PUBLIC_KEY, point, sizeof point, &point_len) &&
       point_len == sizeof point;
  BN_clear_free (priv);
  EVP_PKEY_free (pkey);
  if (!ok)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("The board cannot generate its device key"));
      return FALSE;
    }
  priv_hex = tb_hex_encode (scalar, sizeof scalar);
  pub_hex = tb_hex_encode (point, sizeof point);
  OPENSSL_cleanse (scalar, sizeof scalar);
  json_object_set_string_member (otp, "device_private_key", priv_hex);
  json_object_set_string_member (otp, "device_public_key", pub_hex);
  tb_secret_wipe (priv_hex, strlen (priv_hex));
  return TRUE;
}

/**
 * tb_virtual_board_save:
 *
 * Writes board.json atomically (the flash is written at each operation).
 */
gboolean
tb_virtual_board_save (TbVirtualBoard *self, GError **error)
{
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) node = json_node_new (JSON_NODE_OBJECT);
  g_autofree char *data = NULL;
  gsize len = 0;

  json_node_set_object (node, self->root);
  json_generator_set_root (gen, node);
  json_generator_set_pretty (gen, TRUE);
  data = json_generator_to_data (gen, &len);
  return tb_file_write_atomic (self->json_path, data, len, 0600, error);
}

/* One board, one user: a probe (or any other opener) holds the board's
 * lock for as long as it has the board open, so that two operations never
 * work on the same state (two provisionings issuing two certificates for
 * one device). Taken before the state is read. */
static gboolean
lock_board (TbVirtualBoard *self, GError **error)
{
  g_autofree char *lock_path = g_build_filename (self->path, LOCK_FILE, NULL);
  g_autofree char *what = g_strdup_printf (_("The virtual board %s"), self->path);

  self->lock = tb_lock_acquire (lock_path, what, error);
  return self->lock != NULL;
}

/**
 * tb_virtual_board_create:
 * @path: a new or empty directory
 * @device_type: (nullable): default %TB_BOARD_DEFAULT_DEVICE_TYPE
 * @flash_size: bytes, a multiple of @page_size (0: 1 MiB)
 * @page_size: erase page (0: 4 KiB), a power of two
 * @uid_hex: (nullable): the unique ID, else 16 random bytes
 *
 * Makes a blank board, born with its UID and device key.
 */
TbVirtualBoard *
tb_virtual_board_create (const char *path, const char *device_type, guint32 flash_size, guint32 page_size,
                         const char *uid_hex, GError **error)
{
  g_autoptr(TbVirtualBoard) self = g_object_new (TB_TYPE_VIRTUAL_BOARD, NULL);
  g_autoptr(JsonObject) flash = json_object_new ();
  g_autoptr(JsonObject) otp = json_object_new ();
  g_autofree char *flash_path = NULL;
  g_autofree char *uid = NULL;
  g_autoptr(GDir) dir = NULL;

  if (flash_size == 0)
    flash_size = TB_BOARD_DEFAULT_FLASH_SIZE;
  if (page_size == 0)
    page_size = TB_BOARD_DEFAULT_PAGE_SIZE;
  if (device_type == NULL)
    device_type = TB_BOARD_DEFAULT_DEVICE_TYPE;
  if (page_size < 256 || page_size > 128 * 1024 || (page_size & (page_size - 1)) != 0 ||
      flash_size < 16 * page_size || flash_size > MAX_FLASH_SIZE || flash_size % page_size != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("A flash of %u bytes in pages of %u bytes is not possible: pages are a power of two from 256 "
                     "bytes to 128 KiB, the flash 16 pages to 64 MiB, a whole number of pages"),
                   flash_size, page_size);
      return NULL;
    }
  if (!tb_name_is_valid (device_type, error))
    return NULL;
  if (uid_hex != NULL && !uid_is_valid (uid_hex))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Invalid UID “%s”: expected 2 to 64 hex digits, an even number of them"), uid_hex);
      return NULL;
    }
  if (uid_hex != NULL)
    uid = g_ascii_strdown (uid_hex, -1);
  else
    {
      guint8 raw[16];
      if (!tb_crypto_random_bytes (raw, sizeof raw, error))
        return NULL;
      uid = tb_hex_encode (raw, sizeof raw);
    }
  if (g_mkdir_with_parents (path, 0700) != 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot create %s: %s"), path, g_strerror (saved_errno));
      return NULL;
    }
  dir = g_dir_open (path, 0, NULL);
  if (dir != NULL && g_dir_read_name (dir) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("%s is not empty; a new board needs a new or empty directory"),
                   path);
      return NULL;
    }

  self->path = g_canonicalize_filename (path, NULL);
  self->json_path = g_build_filename (self->path, BOARD_FILE, NULL);
  if (!lock_board (self, error))
    return NULL;
  self->flash_size = flash_size;
  self->page_size = page_size;
  self->root = json_object_new ();
  json_object_set_int_member (self->root, "schema_version", TB_BOARD_SCHEMA_VERSION);
  json_object_set_string_member (self->root, "uid", uid);
  json_object_set_string_member (self->root, "device_type", device_type);
  json_object_set_string_member (self->root, "lifecycle", tb_lifecycle_to_string (TB_LIFECYCLE_BLANK));
  json_object_set_int_member (flash, "base", TB_BOARD_FLASH_BASE);
  json_object_set_int_member (flash, "size", flash_size);
  json_object_set_int_member (flash, "page_size", page_size);
  json_object_set_string_member (flash, "file", FLASH_FILE);
  json_object_set_object_member (self->root, "flash", g_steal_pointer (&flash));
  if (!generate_device_key (otp, error))
    return NULL;
  json_object_set_object_member (self->root, "otp", g_steal_pointer (&otp));
  {
    /* the silicon vendor fuses the hash of the genuine SBM into ROM */
    g_autoptr(GBytes) sbm = tb_sbm_image_build ();
    g_autofree char *sbm_hash = g_compute_checksum_for_bytes (G_CHECKSUM_SHA256, sbm);
    g_autoptr(JsonObject) rom = json_object_new ();
    json_object_set_string_member (rom, "sbm_sha256", sbm_hash);
    json_object_set_object_member (self->root, "rom", g_steal_pointer (&rom));
  }

  self->flash = g_malloc (flash_size);
  memset (self->flash, 0xff, flash_size);
  flash_path = g_build_filename (self->path, FLASH_FILE, NULL);
  if (!tb_file_write_atomic (flash_path, self->flash, flash_size, 0600, error) || !tb_virtual_board_save (self, error))
    return NULL;
  self->flash_fd = open (flash_path, O_RDWR | O_CLOEXEC);
  if (self->flash_fd < 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_FAILED, _("Cannot open %s"), flash_path);
      return NULL;
    }
  return g_steal_pointer (&self);
}

static gboolean
fail_board (GError **error, const char *file, const char *message)
{
  g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, "%s: %s", file, message);
  return FALSE;
}

/* TRUE when @name is missing from @o (and not @required), or holds a node of
 * @type; for a value, one of @value_type. */
static gboolean
member_is (JsonObject *o, const char *name, gboolean required, JsonNodeType type, GType value_type)
{
  JsonNode *node = json_object_get_member (o, name);

  if (node == NULL)
    return !required;
  return JSON_NODE_TYPE (node) == type && (type != JSON_NODE_VALUE || json_node_get_value_type (node) == value_type);
}

/* board.json has the shape the accessors below expect, so that they read
 * it without checking again: a string, an object or a number where one is
 * due, every OTP item a string. */
static gboolean
board_has_valid_shape (JsonObject *root)
{
  JsonObject *otp, *rom;
  g_autoptr(GList) items = NULL;

  if (!member_is (root, "schema_version", TRUE, JSON_NODE_VALUE, G_TYPE_INT64) ||
      !member_is (root, "uid", TRUE, JSON_NODE_VALUE, G_TYPE_STRING) ||
      !member_is (root, "device_type", TRUE, JSON_NODE_VALUE, G_TYPE_STRING) ||
      !member_is (root, "lifecycle", TRUE, JSON_NODE_VALUE, G_TYPE_STRING) ||
      !member_is (root, "flash", TRUE, JSON_NODE_OBJECT, G_TYPE_INVALID) ||
      !member_is (root, "otp", TRUE, JSON_NODE_OBJECT, G_TYPE_INVALID) ||
      !member_is (root, "rom", FALSE, JSON_NODE_OBJECT, G_TYPE_INVALID))
    return FALSE;
  if (!member_is (json_object_get_object_member (root, "flash"), "size", TRUE, JSON_NODE_VALUE, G_TYPE_INT64) ||
      !member_is (json_object_get_object_member (root, "flash"), "page_size", TRUE, JSON_NODE_VALUE, G_TYPE_INT64))
    return FALSE;
  rom = json_object_has_member (root, "rom") ? json_object_get_object_member (root, "rom") : NULL;
  if (rom != NULL && !member_is (rom, "sbm_sha256", FALSE, JSON_NODE_VALUE, G_TYPE_STRING))
    return FALSE;
  otp = json_object_get_object_member (root, "otp");
  items = json_object_get_members (otp);
  for (GList *l = items; l != NULL; l = l->next)
    if (!member_is (otp, l->data, TRUE, JSON_NODE_VALUE, G_TYPE_STRING))
      return FALSE;
  return TRUE;
}

/**
 * tb_virtual_board_read_identity:
 * @path: a board directory
 * @uid: (out): its UID (hex)
 * @device_type: (out): its device type
 * @lifecycle: (out): its lifecycle
 *
 * Reads who a board is from board.json without opening the board: no
 * lock, no power-up, nothing written, so listing boards never gets in the
 * way of (or is refused by) the process that has one open. board.json is
 * replaced atomically: what is read is a whole version of it.
 */
gboolean
tb_virtual_board_read_identity (const char *path, char **uid, char **device_type, TbLifecycle *lifecycle,
                                GError **error)
{
  g_autofree char *json_path = g_build_filename (path, BOARD_FILE, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *data = NULL;
  gsize len = 0;
  JsonObject *root;
  const char *u, *t;

  if (!tb_file_read_bounded (json_path, 1024 * 1024, &data, &len, error))
    return FALSE;
  if (!json_parser_load_from_data (parser, data, (gssize) len, NULL) || json_parser_get_root (parser) == NULL ||
      !JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)))
    return fail_board (error, json_path, _("the top level must be an object"));
  root = json_node_get_object (json_parser_get_root (parser));
  u = json_object_get_string_member_with_default (root, "uid", NULL);
  t = json_object_get_string_member_with_default (root, "device_type", NULL);
  if (!uid_is_valid (u) || !tb_name_is_valid (t, NULL) ||
      !tb_lifecycle_from_string (json_object_get_string_member_with_default (root, "lifecycle", NULL), lifecycle))
    return fail_board (error, json_path, _("“uid”, “device_type” or “lifecycle” is missing or invalid"));
  *uid = g_strdup (u);
  *device_type = g_strdup (t);
  return TRUE;
}

/**
 * tb_virtual_board_open:
 * @path: a board directory
 *
 * Loads a board, checking board.json and that flash.bin has the flash's size.
 */
TbVirtualBoard *
tb_virtual_board_open (const char *path, GError **error)
{
  g_autoptr(TbVirtualBoard) self = g_object_new (TB_TYPE_VIRTUAL_BOARD, NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *data = NULL;
  g_autofree char *flash_path = NULL;
  g_autoptr(GError) local = NULL;
  gsize len = 0;
  JsonNode *root;
  JsonObject *flash, *otp;
  const char *lifecycle;

  self->path = g_canonicalize_filename (path, NULL);
  self->json_path = g_build_filename (self->path, BOARD_FILE, NULL);
  if (!g_file_test (self->json_path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND, _("%s is not a virtual board: %s does not exist"), self->path,
                   BOARD_FILE);
      return NULL;
    }
  if (!lock_board (self, error) || !tb_file_read_bounded (self->json_path, 1024 * 1024, &data, &len, error))
    return NULL;
  if (!json_parser_load_from_data (parser, data, (gssize) len, &local))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, "%s: %s", self->json_path, local->message);
      return NULL;
    }
  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    return fail_board (error, self->json_path, _("the top level must be an object")), NULL;
  self->root = json_object_ref (json_node_get_object (root));
  if (!board_has_valid_shape (self->root))
    return fail_board (error, self->json_path,
                       _("a member is missing or of the wrong type (uid, device_type, lifecycle: strings; "
                         "flash: an object with a size and a page_size; otp: an object of strings)")), NULL;
  if (json_object_get_int_member_with_default (self->root, "schema_version", 0) != TB_BOARD_SCHEMA_VERSION)
    return fail_board (error, self->json_path, _("unknown schema_version")), NULL;
  if (!uid_is_valid (json_object_get_string_member_with_default (self->root, "uid", NULL)))
    return fail_board (error, self->json_path, _("“uid” is missing or not hex")), NULL;
  if (!tb_name_is_valid (json_object_get_string_member_with_default (self->root, "device_type", NULL), NULL))
    return fail_board (error, self->json_path, _("“device_type” is missing or invalid")), NULL;
  lifecycle = json_object_get_string_member_with_default (self->root, "lifecycle", NULL);
  if (!tb_lifecycle_from_string (lifecycle, NULL))
    return fail_board (error, self->json_path, _("“lifecycle” is not blank, sbm-installed, provisioned or locked")),
           NULL;
  flash = json_object_get_object_member (self->root, "flash");
  otp = json_object_get_object_member (self->root, "otp");
  if (flash == NULL || otp == NULL)
    return fail_board (error, self->json_path, _("“flash” or “otp” is missing")), NULL;
  /* range-checked before the narrowing: 2^32 + 64 KiB is not 64 KiB */
  if (json_object_get_int_member (flash, "size") <= 0 || json_object_get_int_member (flash, "size") > MAX_FLASH_SIZE ||
      json_object_get_int_member (flash, "page_size") <= 0 ||
      json_object_get_int_member (flash, "page_size") > MAX_FLASH_SIZE)
    return fail_board (error, self->json_path, _("the flash geometry is not valid")), NULL;
  self->flash_size = (guint32) json_object_get_int_member (flash, "size");
  self->page_size = (guint32) json_object_get_int_member (flash, "page_size");
  if (self->page_size < 256 || (self->page_size & (self->page_size - 1)) != 0 || self->flash_size == 0 ||
      self->flash_size > MAX_FLASH_SIZE || self->flash_size % self->page_size != 0)
    return fail_board (error, self->json_path, _("the flash geometry is not valid")), NULL;
  if (json_object_get_string_member_with_default (otp, "device_public_key", NULL) == NULL ||
      json_object_get_string_member_with_default (otp, "device_private_key", NULL) == NULL)
    return fail_board (error, self->json_path, _("the device key is missing from the OTP")), NULL;

  flash_path = g_build_filename (self->path, FLASH_FILE, NULL);
  self->flash_fd = open (flash_path, O_RDWR | O_CLOEXEC);
  if (self->flash_fd < 0)
    {
      int saved_errno = errno;
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("Cannot open %s: %s"), flash_path,
                   g_strerror (saved_errno));
      return NULL;
    }
  self->flash = g_malloc (self->flash_size);
  {
    gssize n = pread (self->flash_fd, self->flash, self->flash_size, 0);
    guint8 extra;
    if (n != (gssize) self->flash_size || pread (self->flash_fd, &extra, 1, self->flash_size) != 0)
      {
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s: the flash image must have exactly %u bytes"),
                     flash_path, self->flash_size);
        return NULL;
      }
  }
  return g_steal_pointer (&self);
}

const char *
tb_virtual_board_get_path (TbVirtualBoard *self)
{
  return self->path;
}

const char *
tb_virtual_board_get_uid (TbVirtualBoard *self)
{
  return json_object_get_string_member (self->root, "uid");
}

const char *
tb_virtual_board_get_device_type (TbVirtualBoard *self)
{
  return json_object_get_string_member (self->root, "device_type");
}

TbLifecycle
tb_virtual_board_get_lifecycle (TbVirtualBoard *self)
{
  TbLifecycle lifecycle = TB_LIFECYCLE_BLANK;

  tb_lifecycle_from_string (json_object_get_string_member (self->root, "lifecycle"), &lifecycle);
  return lifecycle;
}

/**
 * tb_virtual_board_set_lifecycle:
 *
 * Moves the lifecycle forward (it never goes back) and saves board.json.
 */
gboolean
tb_virtual_board_set_lifecycle (TbVirtualBoard *self, TbLifecycle lifecycle, GError **error)
{
  TbLifecycle current = tb_virtual_board_get_lifecycle (self);

  if (lifecycle < current)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED, _("The board's lifecycle cannot go back from %s to %s"),
                   tb_lifecycle_to_string (current), tb_lifecycle_to_string (lifecycle));
      return FALSE;
    }
  json_object_set_string_member (self->root, "lifecycle", tb_lifecycle_to_string (lifecycle));
  return tb_virtual_board_save (self, error);
}

guint32
tb_virtual_board_get_flash_size (TbVirtualBoard *self)
{
  return self->flash_size;
}

guint32
tb_virtual_board_get_page_size (TbVirtualBoard *self)
{
  return self->page_size;
}

const char *
tb_virtual_board_get_public_key (TbVirtualBoard *self)
{
  return json_object_get_string_member (tb_virtual_board_get_otp (self), "device_public_key");
}

/**
 * tb_virtual_board_get_otp:
 *
 * Returns: (transfer none): the OTP/key store; board-internal (the SBM)
 */
JsonObject *
tb_virtual_board_get_otp (TbVirtualBoard *self)
{
  return json_object_get_object_member (self->root, "otp");
}

/* ---- flash ---- */

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

/* ---- the SBM on the board ---- */

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
  value = member != NULL ? json_object_get_string_member_with_default (otp, member, NULL) : NULL;
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
  const char *expected = rom != NULL ? json_object_get_string_member_with_default (rom, "sbm_sha256", NULL) : NULL;
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
