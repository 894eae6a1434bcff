/* SPDX-License-Identifier: GPL-3.0-or-later */
/* An audit log entry as read (TbAuditEntry): its fields, its details, and
 * the entry in words for the Audit page and `audit show`. The log itself
 * (append, verify, read) is tb-audit.c. */

#include "config.h"

#include "tb-audit-private.h"

#include <glib/gi18n-lib.h>
#include <string.h>

#include "tb-json-private.h"
#include "tb-pkcs11-uri.h"

/* ---- entries ---- */

struct _TbAuditEntry {
  grefcount ref_count;
  JsonObject *object;  /* the line, sealed */
  JsonObject *details; /* NULL when the line has none, or not an object */
};

G_DEFINE_BOXED_TYPE (TbAuditEntry, tb_audit_entry, tb_audit_entry_ref, tb_audit_entry_unref)

/**
 * tb_audit_entry_new_for_object:
 * @object: one line of the log, parsed
 *
 * The entry takes a reference on @object and seals it (json_object_seal()):
 * it must not be changed afterwards.
 *
 * Returns: (transfer full): an entry reading @object
 */
TbAuditEntry *
tb_audit_entry_new_for_object (JsonObject *object)
{
  TbAuditEntry *entry;
  JsonNode *details;

  g_return_val_if_fail (object != NULL, NULL);

  entry = g_new0 (TbAuditEntry, 1);
  g_ref_count_init (&entry->ref_count);
  json_object_seal (object);
  entry->object = json_object_ref (object);
  details = json_object_get_member (object, "details");
  if (details != NULL && JSON_NODE_HOLDS_OBJECT (details))
    entry->details = json_object_ref (json_node_get_object (details));
  return entry;
}

/**
 * tb_audit_entry_ref:
 * @entry: an entry
 *
 * Returns: (transfer full): @entry, with one more reference
 */
TbAuditEntry *
tb_audit_entry_ref (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  g_ref_count_inc (&entry->ref_count);
  return entry;
}

/**
 * tb_audit_entry_unref:
 * @entry: (transfer full): an entry
 *
 * Drops a reference on @entry, freeing it with the last one.
 */
void
tb_audit_entry_unref (TbAuditEntry *entry)
{
  g_return_if_fail (entry != NULL);

  if (!g_ref_count_dec (&entry->ref_count))
    return;
  g_clear_pointer (&entry->details, json_object_unref);
  json_object_unref (entry->object);
  g_free (entry);
}

/**
 * tb_audit_entry_get_seq:
 * @entry: an entry
 *
 * Returns: the entry's 1-based number in the log; 0 when its line has no
 *   `seq`, or one that is not a whole number ≥ 0
 */
guint64
tb_audit_entry_get_seq (TbAuditEntry *entry)
{
  gint64 seq;

  g_return_val_if_fail (entry != NULL, 0);

  seq = tb_json_get_int (entry->object, "seq", 0);
  return seq > 0 ? (guint64) seq : 0;
}

/**
 * tb_audit_entry_get_time:
 * @entry: an entry
 *
 * Returns: (nullable): when the entry was recorded, in ISO 8601 UTC as
 *   stored ("2026-12-04T15:29:57Z"); %NULL when its line has no `time`
 *   string (so for the other string members below)
 */
const char *
tb_audit_entry_get_time (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "time", NULL);
}

/**
 * tb_audit_entry_get_event:
 * @entry: an entry
 *
 * Returns: (nullable): what happened, e.g. "image.master"
 */
const char *
tb_audit_entry_get_event (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "event", NULL);
}

/**
 * tb_audit_entry_get_subject:
 * @entry: an entry
 *
 * Returns: (nullable): what it happened to (a key name, a device UID…)
 */
const char *
tb_audit_entry_get_subject (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "subject", NULL);
}

/**
 * tb_audit_entry_get_prev:
 * @entry: an entry
 *
 * Returns: (nullable): the SHA-256 (hex) of the line before it, 64 zeros
 *   for the first
 */
const char *
tb_audit_entry_get_prev (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return tb_json_get_string (entry->object, "prev", NULL);
}

/**
 * tb_audit_entry_dup_detail_names:
 * @entry: an entry
 *
 * Returns: (transfer full): the names of the entry's details, in the
 *   order of its line; empty when it has none
 */
GStrv
tb_audit_entry_dup_detail_names (TbAuditEntry *entry)
{
  g_autoptr(GStrvBuilder) names = g_strv_builder_new ();

  g_return_val_if_fail (entry != NULL, NULL);

  if (entry->details != NULL)
    {
      g_autoptr(GList) members = json_object_get_members (entry->details);
      for (GList *l = members; l != NULL; l = l->next)
        g_strv_builder_add (names, l->data);
    }
  return g_strv_builder_end (names);
}

/**
 * tb_audit_entry_dup_detail_text:
 * @entry: an entry
 * @name: a detail's name
 *
 * Returns: (transfer full) (nullable): the detail @name for people: a
 *   string as it is, a boolean as "yes" or "no", anything else (number,
 *   null, list, object) as JSON; %NULL when the entry has no such detail
 */
char *
tb_audit_entry_dup_detail_text (TbAuditEntry *entry, const char *name)
{
  g_autoptr(JsonGenerator) gen = NULL;
  JsonNode *node;

  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  node = entry->details != NULL ? json_object_get_member (entry->details, name) : NULL;
  if (node == NULL)
    return NULL;
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_STRING)
    return g_strdup (json_node_get_string (node));
  if (JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == G_TYPE_BOOLEAN)
    return g_strdup (json_node_get_boolean (node) ? _("yes") : _("no"));
  gen = json_generator_new ();
  json_generator_set_root (gen, node);
  return json_generator_to_data (gen, NULL);
}

/**
 * tb_audit_entry_get_detail_string:
 * @entry: an entry
 * @name: a detail's name
 *
 * Returns: (nullable): the detail @name, %NULL when the entry has none or
 *   it is not a string
 */
const char *
tb_audit_entry_get_detail_string (TbAuditEntry *entry, const char *name)
{
  g_return_val_if_fail (entry != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  return tb_json_get_string (entry->details, name, NULL);
}

/**
 * tb_audit_entry_get_detail_int:
 * @entry: an entry
 * @name: a detail's name
 * @missing: what to return when there is no such whole number
 *
 * Returns: the detail @name, or @missing when the entry has none or it is
 *   not a whole number
 */
gint64
tb_audit_entry_get_detail_int (TbAuditEntry *entry, const char *name, gint64 missing)
{
  g_return_val_if_fail (entry != NULL, missing);
  g_return_val_if_fail (name != NULL, missing);

  return tb_json_get_int (entry->details, name, missing);
}

/**
 * tb_audit_entry_get_detail_boolean:
 * @entry: an entry
 * @name: a detail's name
 * @missing: what to return when there is no such boolean
 *
 * Returns: the detail @name, or @missing when the entry has none or it is
 *   not a boolean
 */
gboolean
tb_audit_entry_get_detail_boolean (TbAuditEntry *entry, const char *name, gboolean missing)
{
  g_return_val_if_fail (entry != NULL, missing);
  g_return_val_if_fail (name != NULL, missing);

  return tb_json_get_boolean (entry->details, name, missing);
}

/**
 * tb_audit_entry_to_json:
 * @entry: an entry
 *
 * The entry as its line holds it, every member in its order (docs/audit.md),
 * for a machine-readable listing of the log (`audit show --json`).
 *
 * Returns: (transfer full): a JSON object node; the object is the entry's
 *   own, sealed
 */
JsonNode *
tb_audit_entry_to_json (TbAuditEntry *entry)
{
  g_return_val_if_fail (entry != NULL, NULL);

  return json_node_init_object (json_node_alloc (), entry->object);
}

/* ---- entries in words ---- */

/* The detail @name, if it is a non-empty string. */
static const char *
detail_string (TbAuditEntry *entry, const char *name)
{
  const char *value = tb_audit_entry_get_detail_string (entry, name);

  return value != NULL && value[0] != '\0' ? value : NULL;
}

/* A device UID is long hex: its first 8 digits name it well enough in a
 * sentence (the entry's subject keeps it whole). */
static char *
short_uid (const char *uid)
{
  if (g_utf8_strlen (uid, -1) <= 12)
    return g_strdup (uid);
  {
    g_autofree char *head = g_utf8_substring (uid, 0, 8);
    return g_strconcat (head, "…", NULL);
  }
}

/* The CN of a distinguished name ("CN=Demo Root CA, O=Demo"), or the whole
 * name when it has none. */
static char *
common_name (const char *dn)
{
  const char *cn = strstr (dn, "CN=");
  const char *end;

  if (cn == NULL || (cn != dn && cn[-1] != ',' && cn[-1] != ' ' && cn[-1] != '/'))
    return g_strdup (dn);
  cn += 3;
  end = strpbrk (cn, ",/");
  return end != NULL ? g_strndup (cn, (gsize) (end - cn)) : g_strdup (cn);
}

static const char *
usage_words (const char *usage)
{
  static const struct {
    const char *usage;
    const char *words;
  } table[] = {
    { "root-ca", N_("root CA key") },
    { "provisioning-ca", N_("provisioning CA key") },
    { "mastering", N_("mastering key") },
    { "product", N_("product key") },
    { "job", N_("job key") },
  };

  for (guint i = 0; i < G_N_ELEMENTS (table); i++)
    if (g_strcmp0 (usage, table[i].usage) == 0)
      return _(table[i].words);
  return usage != NULL ? usage : _("key");
}

static char *
describe_key_store (TbAuditEntry *entry, const char *name)
{
  const char *storage = detail_string (entry, "storage");
  const char *algorithm = detail_string (entry, "algorithm");
  const char *usage = usage_words (detail_string (entry, "usage"));
  g_autofree char *what = algorithm != NULL ? g_strdup_printf ("%s, %s", usage, algorithm) : g_strdup (usage);

  if (tb_pkcs11_is_uri (storage))
    {
      g_autofree char *label = tb_pkcs11_uri_dup_token_label (storage);
      /* TRANSLATORS: "Stored key mastering (mastering key, ec-p256) on token ui-token" */
      return g_strdup_printf (_("Stored key %s (%s) on token %s"), name, what,
                              label != NULL && label[0] != '\0' ? label : "?");
    }
  /* TRANSLATORS: "Stored key mastering (mastering key, ec-p256) in an encrypted file" */
  return g_strdup_printf (_("Stored key %s (%s) in an encrypted file"), name, what);
}

static char *
describe_cert_issue (TbAuditEntry *entry, const char *name)
{
  const char *subject = detail_string (entry, "subject");
  const char *issuer = detail_string (entry, "issuer");
  g_autofree char *to = subject != NULL ? common_name (subject) : NULL;
  g_autofree char *by = issuer != NULL ? common_name (issuer) : NULL;

  if (to == NULL || by == NULL)
    return g_strdup_printf (_("Issued certificate %s"), name);
  if (g_strcmp0 (subject, issuer) == 0)
    /* TRANSLATORS: "Issued self-signed certificate root-ca for Demo OEM Root CA" */
    return g_strdup_printf (_("Issued self-signed certificate %s for %s"), name, to);
  /* TRANSLATORS: "Issued certificate mastering for Demo Mastering, signed by Demo OEM Root CA" */
  return g_strdup_printf (_("Issued certificate %s for %s, signed by %s"), name, to, by);
}

static char *
describe_image_master (TbAuditEntry *entry, const char *subject)
{
  const char *product = detail_string (entry, "product");
  const char *version = detail_string (entry, "version");
  /* images are signed by the context's "mastering" certificate's key
   * (tb_master_image()); an entry may name it */
  const char *signer = detail_string (entry, "signer") != NULL ? detail_string (entry, "signer") : "mastering";
  g_autofree char *image = product != NULL && version != NULL ? g_strdup_printf ("%s %s", product, version)
                                                              : g_strdup (subject);
  gint64 counter = tb_audit_entry_get_detail_int (entry, "security_counter", -1);

  if (counter >= 0)
    /* TRANSLATORS: "Mastered sensor 1.0.0, signed by mastering (security counter 3)" */
    return g_strdup_printf (_("Mastered %s, signed by %s (security counter %" G_GINT64_FORMAT ")"), image, signer,
                            counter);
  /* TRANSLATORS: "Mastered sensor 1.0.0, signed by mastering" */
  return g_strdup_printf (_("Mastered %s, signed by %s"), image, signer);
}

static char *
describe_device_provision (TbAuditEntry *entry, const char *uid)
{
  g_autofree char *device = short_uid (uid);
  const char *product = detail_string (entry, "product");
  const char *version = detail_string (entry, "app_version");

  if (product != NULL && version != NULL)
    /* TRANSLATORS: "Provisioned device 1a2b3c4d… with sensor 1.0.0" */
    return g_strdup_printf (_("Provisioned device %s with %s %s"), device, product, version);
  if (product != NULL)
    /* TRANSLATORS: "Provisioned device 1a2b3c4d… for sensor" */
    return g_strdup_printf (_("Provisioned device %s for %s"), device, product);
  return g_strdup_printf (_("Provisioned device %s"), device);
}

static char *
describe_device_produce (TbAuditEntry *entry, const char *uid)
{
  g_autofree char *device = short_uid (uid);
  const char *job = detail_string (entry, "job_id") != NULL ? detail_string (entry, "job_id") : "?";
  gint64 slot = tb_audit_entry_get_detail_int (entry, "slot", -1);
  g_autofree char *where = slot >= 0 ? g_strdup_printf (_("job %s, slot %" G_GINT64_FORMAT), job, slot)
                                     : g_strdup_printf (_("job %s"), job);

  if (detail_string (entry, "result") != NULL && g_strcmp0 (detail_string (entry, "result"), "made") != 0)
    /* TRANSLATORS: "Recorded device 1a2b3c4d… in job J-1, slot 3 (reconciled)" */
    return g_strdup_printf (_("Recorded device %s in %s (%s)"), device, where, detail_string (entry, "result"));
  /* TRANSLATORS: "Produced device 1a2b3c4d… in job J-1, slot 3" */
  return g_strdup_printf (_("Produced device %s in %s"), device, where);
}

static char *
describe_production_fail (TbAuditEntry *entry, const char *uid)
{
  const char *job = detail_string (entry, "job_id") != NULL ? detail_string (entry, "job_id") : "?";
  const char *reason = detail_string (entry, "reason");
  g_autofree char *device = g_strcmp0 (uid, "-") != 0 ? short_uid (uid) : NULL;
  g_autofree char *what = device != NULL ? g_strdup_printf (_("Production of device %s failed in job %s"), device, job)
                                         : g_strdup_printf (_("Production failed in job %s"), job);

  return reason != NULL ? g_strdup_printf ("%s: %s", what, reason) : g_steal_pointer (&what);
}

static char *
describe_job (TbAuditEntry *entry, const char *job, gboolean imported)
{
  const char *product = detail_string (entry, "product") != NULL ? detail_string (entry, "product") : "?";
  const char *version = detail_string (entry, "image_version");
  g_autofree char *image = version != NULL ? g_strdup_printf ("%s %s", product, version) : g_strdup (product);
  gint64 count = tb_audit_entry_get_detail_int (entry, "count", 0);
  gint64 total = tb_audit_entry_get_detail_int (entry, "total_count", count);
  gint64 slices = tb_audit_entry_get_detail_int (entry, "slices", 1);

  if (imported)
    /* TRANSLATORS: "Imported job J-1, slice 2: 50 of 100 devices of sensor" */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Imported job %s, slice %" G_GINT64_FORMAT ": %"
                                         G_GINT64_FORMAT " of %" G_GINT64_FORMAT " device of %s",
                                         "Imported job %s, slice %" G_GINT64_FORMAT ": %" G_GINT64_FORMAT " of %"
                                         G_GINT64_FORMAT " devices of %s", (gulong) total),
                            job, tb_audit_entry_get_detail_int (entry, "slice", 0), count, total, image);
  if (slices > 1)
    /* TRANSLATORS: "Created job J-1: 100 devices of sensor 1.0.0, in 2 slices" */
    return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Created job %s: %" G_GINT64_FORMAT " device of %s, in %"
                                         G_GINT64_FORMAT " slices",
                                         "Created job %s: %" G_GINT64_FORMAT " devices of %s, in %" G_GINT64_FORMAT
                                         " slices", (gulong) count),
                            job, count, image, slices);
  /* TRANSLATORS: "Created job J-1: 100 devices of sensor 1.0.0" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Created job %s: %" G_GINT64_FORMAT " device of %s",
                                       "Created job %s: %" G_GINT64_FORMAT " devices of %s", (gulong) count),
                          job, count, image);
}

/**
 * tb_audit_entry_describe:
 * @entry: an entry from tb_audit_read()
 *
 * Says what an entry records, in one sentence for people: "Mastered sensor
 * 1.0.0, signed by mastering", "Provisioned device 1a2b3c4d… with sensor
 * 1.0.0". An event this version does not know reads as its name and
 * subject.
 *
 * Returns: (transfer full): the sentence
 */
char *
tb_audit_entry_describe (TbAuditEntry *entry)
{
  const char *event = tb_audit_entry_get_event (entry) != NULL ? tb_audit_entry_get_event (entry) : "?";
  const char *subject = tb_audit_entry_get_subject (entry) != NULL ? tb_audit_entry_get_subject (entry) : "";

  if (g_str_equal (event, "key.store"))
    return describe_key_store (entry, subject);
  if (g_str_equal (event, "cert.issue"))
    return describe_cert_issue (entry, subject);
  if (g_str_equal (event, "cert.revoke"))
    {
      const char *serial = detail_string (entry, "serial");
      const char *reason = detail_string (entry, "reason");
      g_autofree char *what = serial != NULL ? g_strdup_printf (_("Revoked certificate %s (serial %s)"), subject, serial)
                                             : g_strdup_printf (_("Revoked certificate %s"), subject);
      return reason != NULL ? g_strdup_printf ("%s: %s", what, reason) : g_steal_pointer (&what);
    }
  if (g_str_equal (event, "image.master"))
    return describe_image_master (entry, subject);
  if (g_str_equal (event, "device.provision"))
    return describe_device_provision (entry, subject);
  if (g_str_equal (event, "device.produce"))
    return describe_device_produce (entry, subject);
  if (g_str_equal (event, "production.fail"))
    return describe_production_fail (entry, subject);
  if (g_str_equal (event, "job.create") || g_str_equal (event, "job.import"))
    return describe_job (entry, subject, g_str_equal (event, "job.import"));
  return subject[0] != '\0' ? g_strdup_printf ("%s %s", event, subject) : g_strdup (event);
}

/**
 * tb_audit_event_get_kind:
 * @event: an entry's event, e.g. "image.master"
 *
 * Returns: (nullable): what the event is about, in one word for people
 *   ("Key", "Certificate", "Image", "Device", "Job", "Production"), or
 *   %NULL for an event this version does not know
 */
const char *
tb_audit_event_get_kind (const char *event)
{
  static const struct {
    const char *prefix;
    const char *kind;
  } table[] = {
    { "key.", N_("Key") },       { "cert.", N_("Certificate") },       { "image.", N_("Image") },
    { "device.", N_("Device") }, { "production.", N_("Production") }, { "job.", N_("Job") },
  };

  for (guint i = 0; event != NULL && i < G_N_ELEMENTS (table); i++)
    if (g_str_has_prefix (event, table[i].prefix))
      return _(table[i].kind);
  return NULL;
}
