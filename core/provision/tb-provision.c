/* SPDX-License-Identifier: GPL-3.0-or-later */

/* Provisioning and programming through a probe:
 *
 *   identify → install the SBM if blank → attest (the device signs a
 *   fresh nonce with its own key) → issue the device certificate from the
 *   device's public key (provisioning CA) → wrap the product key to the
 *   device key → provision (trust anchor, certificate, wrapped key) and
 *   lock → program the image if given → reset and check what runs.
 *
 * Secrets never cross the probe in clear: the product key travels wrapped
 * to the device key (ECDH P-256 + HKDF-SHA256 + AES key wrap), the image
 * encrypted under a key only the product key unwraps. */

#include "config.h"

#include "tb-provision.h"

#include <errno.h>
#include <fcntl.h>
#include <glib/gi18n-lib.h>
#include <unistd.h>
#include <openssl/evp.h>
#include <string.h>

#include "sbm/tb-sbm.h"
#include "tb-audit-private.h"
#include "tb-cert.h"
#include "tb-context-private.h"
#include "tb-crypto.h"
#include "tb-device-cert.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-hierarchy.h"
#include "tb-cert-private.h"
#include "tb-key-private.h"
#include "tb-sbm-image.h"
#include "tb-upk.h"

void
tb_provision_result_clear (TbProvisionResult *r)
{
  g_clear_pointer (&r->uid, g_free);
  g_clear_pointer (&r->device_type, g_free);
  g_clear_pointer (&r->device_certificate, g_free);
  g_clear_pointer (&r->device_certificate_serial, g_free);
  g_clear_pointer (&r->lifecycle, g_free);
  g_clear_pointer (&r->app_version, g_free);
  g_clear_pointer (&r->receipt, g_bytes_unref);
  g_clear_pointer (&r->product, g_free);
}

static const char *
lifecycle_name (guint lc)
{
  return tb_lifecycle_to_string (lc <= TB_LIFECYCLE_LOCKED ? (TbLifecycle) lc : TB_LIFECYCLE_BLANK);
}

/* Wraps the product key's scalar to the device key (see docs/mailbox.md). */
static gboolean
wrap_product_key (TbKey *product_key, const TbAttestation *att, guint8 eph_out[65], guint8 wrapped[40],
                  GError **error)
{
  g_autoptr(TbKey) device = tb_key_new_from_point (att->device_public_key, error);
  g_autoptr(TbKey) eph = NULL;
  guint8 scalar[32], shared[64], kek[32], uid[32];
  guint8 info[23 + 65 + 65];
  gsize shared_len = 0, out_len = 0, uid_len = strlen (att->uid) / 2;
  gboolean ok;

  if (device == NULL)
    return FALSE;
  eph = tb_key_generate ("ec-p256", error);
  if (eph == NULL || !tb_key_get_p256_point (eph, eph_out))
    return FALSE;
  for (gsize i = 0; i < uid_len && i < sizeof uid; i++)
    uid[i] = (guint8) (g_ascii_xdigit_value (att->uid[2 * i]) << 4 | g_ascii_xdigit_value (att->uid[2 * i + 1]));
  memcpy (info, "trustbench-provision-v1", 23);
  memcpy (info + 23, eph_out, 65);
  memcpy (info + 23 + 65, att->device_public_key, 65);
  if (tb_key_is_on_token (product_key))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("The product key is on a token: provisioning hands the product key to each device (wrapped to "
                     "the device key), which a key that never leaves its token cannot do. Keep product keys in "
                     "software files; tokens suit the root, mastering and job keys"));
      return FALSE;
    }
  if (!tb_key_get_p256_scalar (product_key, scalar))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED, _("The product key must be an unlocked P-256 key"));
      return FALSE;
    }
  ok = tb_crypto_ecdh (tb_key_get_private_pkey (eph), tb_key_get_public_pkey (device), shared, &shared_len, error) &&
       tb_crypto_hkdf_sha256 (shared, shared_len, uid, MIN (uid_len, sizeof uid), info, sizeof info, kek, 32, error) &&
       tb_crypto_aes256_kw (TRUE, kek, scalar, 32, wrapped, &out_len, error) && out_len == 40;
  OPENSSL_cleanse (scalar, sizeof scalar);
  OPENSSL_cleanse (shared, sizeof shared);
  OPENSSL_cleanse (kek, sizeof kek);
  return ok;
}

static char *
pick_product (TbContext *ctx, const char *product, GError **error)
{
  g_autoptr(GPtrArray) products = tb_context_get_entries (ctx, TB_INVENTORY_PRODUCTS);

  if (product != NULL)
    {
      if (!tb_context_check_product (ctx, product, error))
        return NULL;
      return g_strdup (product);
    }
  if (products->len != 1)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("The context has %u products: say which one this device is"), products->len);
      return NULL;
    }
  return g_strdup (json_object_get_string_member (g_ptr_array_index (products, 0), "name"));
}

/* Writes the SBM, then resets through the target, which clears the
 * mailbox's magic word first and waits for the new SBM's boot checks: a
 * real core takes a while (it makes its key at its first boot), and its
 * RAM may still hold an earlier SBM's mailbox until then. */
static gboolean
install_sbm (TbTarget *target, TbProgress *progress, GError **error)
{
  g_autoptr(GBytes) sbm = tb_sbm_image_build ();

  tb_progress_set_stage (progress, _("Installing the secure boot manager"));
  return tb_probe_write_memory (tb_target_get_probe (target), TB_SBM_IMAGE_ADDRESS, g_bytes_get_data (sbm, NULL),
                                g_bytes_get_size (sbm), NULL, error) &&
         tb_target_reset (target, error);
}

void
tb_provision_identity_clear (TbProvisionIdentity *id)
{
  g_clear_pointer (&id->product, g_free);
  g_clear_pointer (&id->organization, g_free);
  g_clear_object (&id->product_key);
  g_clear_object (&id->issuer_cert);
  g_clear_object (&id->issuer_key);
  g_clear_pointer (&id->issuer, tb_device_cert_issuer_free);
}

/**
 * tb_provision_identity_set_anchor:
 * @mastering: the mastering certificate the device will trust
 *
 * The reference SBM anchors the mastering public key (P-256) directly.
 */
gboolean
tb_provision_identity_set_anchor (TbProvisionIdentity *id, TbCert *mastering, GError **error)
{
  X509 *x = tb_cert_get_x509 (mastering);
  EVP_PKEY *pub = x != NULL ? X509_get0_pubkey (x) : NULL;
  g_autoptr(TbKey) key = pub != NULL ? tb_key_new_for_pkey (pub, FALSE, NULL) : NULL;

  if (key == NULL || !tb_key_get_p256_point (key, id->anchor))
    {
      g_autofree char *alg = tb_cert_dup_key_algorithm (mastering);
      g_set_error (error, TB_ERROR, TB_ERROR_UNSUPPORTED,
                   _("The reference SBM trusts a P-256 mastering key; this one is %s"), alg);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_provision_identity_from_context:
 * @product: (nullable): the product, %NULL for the context's only one
 * @passphrase: unlocks the provisioning CA and product keys
 *
 * What an OEM context provisions with: its provisioning CA issues device
 * certificates; the product key and the mastering anchor come from it.
 */
gboolean
tb_provision_identity_from_context (TbContext *ctx, const char *product, const char *passphrase,
                                    TbProvisionIdentity *id, GError **error)
{
  g_autoptr(TbCert) mastering = NULL;
  g_autofree char *product_key_name = NULL;

  id->product = pick_product (ctx, product, error);
  if (id->product == NULL)
    return FALSE;
  id->organization = g_strdup (tb_context_get_name (ctx));
  id->issuer_cert = tb_cert_load (ctx, TB_KEY_NAME_PROVISIONING_CA, error);
  if (id->issuer_cert == NULL)
    return FALSE;
  id->issuer_key = tb_key_load_unlocked (ctx, tb_cert_get_key_name (id->issuer_cert) != NULL
                                         ? tb_cert_get_key_name (id->issuer_cert) : TB_KEY_NAME_PROVISIONING_CA,
                                  passphrase, error);
  if (id->issuer_key == NULL)
    return FALSE;
  product_key_name = tb_context_dup_product_key_name (ctx, id->product);
  id->product_key = tb_key_load_unlocked (ctx, product_key_name, passphrase, error);
  if (id->product_key == NULL)
    return FALSE;
  mastering = tb_cert_load (ctx, TB_KEY_NAME_MASTERING, error);
  return mastering != NULL && tb_provision_identity_set_anchor (id, mastering, error);
}

/**
 * tb_provision_identify:
 *
 * Installs the SBM on a blank device, then asks it for its attestation
 * (verified with the device key it reports).
 */
TbAttestation *
tb_provision_identify (TbTarget *target, TbProgress *progress, GError **error)
{
  g_autoptr(GError) local = NULL;
  TbAttestation *att;

  tb_progress_set_stage (progress, _("Identifying the device"));
  if (!tb_target_has_sbm (target, &local))
    {
      if (!g_error_matches (local, TB_ERROR, TB_ERROR_NOT_FOUND))
        {
          g_propagate_error (error, g_steal_pointer (&local));
          return NULL;
        }
      if (!install_sbm (target, progress, error))
        return NULL;
    }
  att = tb_target_attest (target, error);
  if (att != NULL)
    tb_progress_log (progress, _("  device %s (%s), %s, its attestation verifies"), att->uid, att->device_type,
                     lifecycle_name (att->lifecycle));
  return att;
}

/**
 * tb_provision_issue_certificate:
 *
 * Issues the device certificate for the attested device key and UID.
 *
 * Returns: (transfer full): the certificate (DER)
 */
GBytes *
tb_provision_issue_certificate (TbProvisionIdentity *id, const TbAttestation *att, GError **error)
{
  if (id->issuer == NULL)
    {
      id->issuer = tb_device_cert_issuer_new (id->issuer_cert, id->issuer_key, id->organization,
                                              TB_CERT_DAYS_DEVICE, error);
      if (id->issuer == NULL)
        return NULL;
    }
  return tb_device_cert_issuer_issue (id->issuer, att->device_public_key, 65, att->uid, error);
}

/**
 * tb_provision_send_identity:
 * @cert_der: the device certificate
 * @lock: lock the debug port
 *
 * Wraps the product key to the device key and sends the OEM identity
 * (PROVISION). Afterwards the device holds it, whatever happens next.
 */
gboolean
tb_provision_send_identity (TbTarget *target, TbProvisionIdentity *id, const TbAttestation *att, GBytes *cert_der,
                            gboolean lock, GError **error)
{
  g_autoptr(GByteArray) req = g_byte_array_new ();
  guint8 eph[65], wrapped[40];
  guint8 plen = (guint8) MIN (strlen (id->product), 255);
  gsize clen = g_bytes_get_size (cert_der);
  guint8 clen_be[2] = { (guint8) (clen >> 8), (guint8) clen };
  guint8 lock_byte = lock ? 1 : 0;

  if (!wrap_product_key (id->product_key, att, eph, wrapped, error))
    return FALSE;
  g_byte_array_append (req, id->anchor, 65);
  g_byte_array_append (req, &plen, 1);
  g_byte_array_append (req, (const guint8 *) id->product, plen);
  g_byte_array_append (req, eph, 65);
  g_byte_array_append (req, wrapped, 40);
  g_byte_array_append (req, clen_be, 2);
  g_byte_array_append (req, g_bytes_get_data (cert_der, NULL), (guint) clen);
  g_byte_array_append (req, &lock_byte, 1);
  return tb_target_command (target, TB_MB_CMD_PROVISION, req->data, req->len, NULL, error);
}

/**
 * tb_provision_check_image:
 * @att: the device's attestation
 * @upk_path: names the image in messages
 *
 * Checks what the SBM would refuse only once the device is provisioned and
 * locked: an image bound to other device types or UIDs (status 0x85,
 * %TB_ERROR_VERIFY_FAILED), linked outside the application slot the
 * device reports (0x8d) or larger than it (0x8c) (%TB_ERROR_INVALID_DATA,
 * naming both address ranges). Call it before the identity is sent.
 */
gboolean
tb_provision_check_image (TbTarget *target, const TbAttestation *att, TbUpk *upk, const char *upk_path,
                          GError **error)
{
  const char *const *types = tb_upk_get_device_types (upk);
  const char *const *uids = tb_upk_get_device_uids (upk);
  g_autofree char *device = NULL;
  TbAppSlot slot;

  if (types[0] != NULL && !g_strv_contains (types, att->device_type))
    {
      g_autofree char *list = g_strjoinv (", ", (char **) types);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s is for devices of type %s; device %s is a %s: not provisioned"), upk_path, list, att->uid,
                   att->device_type);
      return FALSE;
    }
  if (uids[0] != NULL && !g_strv_contains (uids, att->uid))
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s is bound to other devices than %s: not provisioned"), upk_path, att->uid);
      return FALSE;
    }
  device = g_strdup_printf (_("device %s (%s)"), att->uid, att->device_type);
  return tb_target_get_app_slot (target, &slot, error) &&
         tb_app_slot_check_image (&slot, device, upk_path, tb_upk_get_load_address (upk),
                                  tb_upk_get_image_size (upk), error);
}

/**
 * tb_provision_device:
 * @passphrase: unlocks the provisioning CA and product keys
 *
 * Provisions one device through @probe. Each step is reported through
 * @progress, which can cancel between steps.
 */
gboolean
tb_provision_device (TbContext *ctx, TbProbe *probe, const TbProvisionOptions *options, const char *passphrase,
                     TbProvisionResult *result, TbProgress *progress, GError **error)
{
  g_autoptr(TbTarget) target = tb_target_new (probe);
  g_autoptr(TbAttestation) att = NULL;
  g_auto(TbProvisionIdentity) id = { 0 };
  g_autoptr(GBytes) cert_der = NULL;
  g_autoptr(TbCert) cert = NULL;
  g_autoptr(TbUpk) upk = NULL;
  const char *product = options->product;

  /* the image names its product: a device programmed with it is one */
  if (options->upk_path != NULL)
    {
      upk = tb_upk_load_file (options->upk_path, error);
      if (upk == NULL)
        return FALSE;
      if (product != NULL && g_strcmp0 (product, tb_upk_get_product (upk)) != 0)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                       _("%s is an image for product “%s”, not “%s”: a device provisioned for one product cannot run "
                         "the other's image"), options->upk_path, tb_upk_get_product (upk), product);
          return FALSE;
        }
      product = tb_upk_get_product (upk);
    }

  tb_progress_set_range (progress, 0.0, 0.1);
  att = tb_provision_identify (target, progress, error);
  if (att == NULL)
    return FALSE;
  if (att->lifecycle != TB_LIFECYCLE_SBM_INSTALLED)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("Device %s is already %s: a device is provisioned once"), att->uid, lifecycle_name (att->lifecycle));
      return FALSE;
    }
  if (upk != NULL && !tb_provision_check_image (target, att, upk, options->upk_path, error))
    return FALSE;

  tb_progress_set_range (progress, 0.1, 0.3);
  tb_progress_set_stage (progress, _("Issuing the device certificate"));
  if (tb_progress_set_error_if_cancelled (progress, error) ||
      !tb_provision_identity_from_context (ctx, product, passphrase, &id, error))
    return FALSE;
  cert_der = tb_provision_issue_certificate (&id, att, error);
  if (cert_der == NULL)
    return FALSE;
  cert = tb_cert_new_from_data (g_bytes_get_data (cert_der, NULL), g_bytes_get_size (cert_der), "device", error);
  if (cert == NULL)
    return FALSE;

  tb_progress_set_range (progress, 0.3, 0.5);
  tb_progress_set_stage (progress, options->no_lock ? _("Provisioning the OEM identity for product “%s”")
                                                    : _("Provisioning the OEM identity for product “%s” and locking "
                                                        "the device"), id.product);
  if (tb_progress_set_error_if_cancelled (progress, error) ||
      !tb_provision_send_identity (target, &id, att, cert_der, !options->no_lock, error))
    return FALSE;

  result->uid = g_strdup (att->uid);
  result->product = g_strdup (id.product);
  result->device_type = g_strdup (att->device_type);
  result->device_certificate = tb_cert_dup_pem (cert);
  result->device_certificate_serial = tb_cert_dup_serial (cert);

  if (options->upk_path != NULL)
    {
      tb_progress_set_range (progress, 0.5, 0.95);
      if (!tb_program_device (probe, options->upk_path, options->image_path, &result->app_version, &result->receipt,
                              progress, error))
        return FALSE;
    }

  tb_progress_set_range (progress, 0.95, 1.0);
  tb_progress_set_stage (progress, _("Resetting and checking the device"));
  g_clear_pointer (&att, tb_attestation_free);
  if (!tb_target_reset (target, error) || (att = tb_target_attest (target, error)) == NULL)
    return FALSE;
  result->lifecycle = g_strdup (lifecycle_name (att->lifecycle));
  tb_progress_finish (progress);
  return TRUE;
}

/**
 * tb_program_device:
 * @app_version: (out) (optional): what runs after the reset
 * @receipt: (out) (optional): the install receipt signed by the device
 *
 * Installs (or updates) an image through the SBM, resets the device and
 * checks that the new version runs. A refusal is %TB_ERROR_VERIFY_FAILED.
 */
gboolean
tb_program_device (TbProbe *probe, const char *upk_path, const char *image_path, char **app_version,
                   GBytes **receipt, TbProgress *progress, GError **error)
{
  g_autoptr(TbTarget) target = tb_target_new (probe);
  g_autoptr(TbAttestation) att = NULL;
  g_autoptr(TbUpk) upk = tb_upk_load_file (upk_path, error);

  if (upk == NULL)
    return FALSE;
  tb_progress_set_stage (progress, _("Programming %s %s"), tb_upk_get_product (upk), tb_upk_get_version (upk));
  if (!tb_target_install (target, upk_path, image_path, receipt, progress, error))
    return FALSE;
  if (!tb_target_reset (target, error) || (att = tb_target_attest (target, error)) == NULL)
    return FALSE;
  if (att->boot != 0 || g_strcmp0 (att->app_version, tb_upk_get_version (upk)) != 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("After the reset the device runs “%s” (boot %u), not %s"), att->app_version, att->boot,
                   tb_upk_get_version (upk));
      return FALSE;
    }
  tb_progress_log (progress, _("  the device boots %s %s"), tb_upk_get_product (upk), att->app_version);
  if (app_version != NULL)
    *app_version = g_strdup (att->app_version);
  return TRUE;
}

/**
 * tb_provision_record:
 * @result: a provisioning result
 *
 * Appends one line to `records/devices.jsonl` in the context (append and
 * fsync: records are never rewritten).
 *
 * Returns: (transfer full): the record id, or %NULL with @error
 */
char *
tb_provision_record (TbContext *ctx, const TbProvisionResult *result, GError **error)
{
  g_autofree char *dir = tb_context_build_path (ctx, "records");
  g_autofree char *path = g_build_filename (dir, "devices.jsonl", NULL);
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *when = g_date_time_format (now, "%Y-%m-%dT%H:%M:%SZ");
  g_autofree char *id = g_strdup_printf ("%s-%" G_GINT64_FORMAT, result->uid, g_date_time_to_unix (now));
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *line = NULL;
  g_autofree char *full = NULL;
  gsize len;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "record_id");
  json_builder_add_string_value (b, id);
  json_builder_set_member_name (b, "uid");
  json_builder_add_string_value (b, result->uid);
  json_builder_set_member_name (b, "device_type");
  json_builder_add_string_value (b, result->device_type);
  if (result->product != NULL)
    {
      json_builder_set_member_name (b, "product");
      json_builder_add_string_value (b, result->product);
    }
  json_builder_set_member_name (b, "device_certificate_serial");
  json_builder_add_string_value (b, result->device_certificate_serial);
  json_builder_set_member_name (b, "app_version");
  if (result->app_version != NULL)
    json_builder_add_string_value (b, result->app_version);
  else
    json_builder_add_null_value (b);
  json_builder_set_member_name (b, "lifecycle");
  json_builder_add_string_value (b, result->lifecycle);
  json_builder_set_member_name (b, "time");
  json_builder_add_string_value (b, when);
  json_builder_set_member_name (b, "result");
  json_builder_add_string_value (b, "provisioned");
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);
  line = json_generator_to_data (gen, &len);
  full = g_strconcat (line, "\n", NULL);

  if (!tb_file_append_durable (path, full, strlen (full), error))
    return NULL;
  {
    g_autoptr(JsonObject) details = json_object_new ();
    json_object_set_string_member (details, "record_id", id);
    json_object_set_string_member (details, "device_type", result->device_type);
    if (result->product != NULL)
      json_object_set_string_member (details, "product", result->product);
    json_object_set_string_member (details, "device_certificate_serial", result->device_certificate_serial);
    if (result->app_version != NULL)
      json_object_set_string_member (details, "app_version", result->app_version);
    json_object_set_string_member (details, "lifecycle", result->lifecycle);
    if (!tb_audit_append (ctx, "device.provision", result->uid, details, error))
      return NULL;
  }
  return g_steal_pointer (&id);
}

/**
 * tb_provision_device_and_record:
 * @record_id: (out) (transfer full): the id of the device's record
 *
 * The whole provisioning of a device, as every front end does it (the
 * `provision` command, the Devices page, the demo): tb_provision_device()
 * and, once it succeeded, tb_provision_record(). On failure @result is
 * cleared and nothing is recorded.
 */
gboolean
tb_provision_device_and_record (TbContext *ctx, TbProbe *probe, const TbProvisionOptions *options,
                                const char *passphrase, TbProvisionResult *result, char **record_id,
                                TbProgress *progress, GError **error)
{
  g_return_val_if_fail (record_id != NULL, FALSE);

  if (!tb_provision_device (ctx, probe, options, passphrase, result, progress, error) ||
      (*record_id = tb_provision_record (ctx, result, error)) == NULL)
    {
      tb_provision_result_clear (result);
      return FALSE;
    }
  return TRUE;
}
