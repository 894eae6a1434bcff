/* SPDX-License-Identifier: GPL-3.0-or-later */

/**
 * TbCert:
 *
 * An X.509 certificate of a security context (`certs/NAME.pem`), or one
 * read from a file. Issuance follows fixed profiles (#TbCertProfile) so
 * that every chain the context builds passes `openssl verify -x509_strict`:
 * version 3, random positive 127-bit serials, SKI on every certificate,
 * AKI on every certificate, critical basicConstraints and keyUsage.
 *
 * A key may only issue what its usage allows: the root CA key certifies
 * CAs, the mastering key and product keys; the provisioning CA key issues
 * device and CSR-based certificates; other keys issue nothing.
 *
 * This file: the object, reading, storing in and loading from a context,
 * export (PEM, DER, PKCS#12) and the accessors. Issuing is in
 * tb-cert-issue.c, chain verification and revocation in tb-cert-verify.c.
 */

#include "config.h"

#include "tb-cert-private.h"

#include <glib/gi18n-lib.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>
#include <openssl/x509v3.h>
#include <string.h>

#include "tb-audit-private.h"
#include "tb-context-private.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-json-private.h"
#include "tb-key-private.h"

G_DEFINE_FINAL_TYPE (TbCert, tb_cert, G_TYPE_OBJECT)

static void
tb_cert_finalize (GObject *object)
{
  TbCert *self = TB_CERT (object);

  X509_free (self->x509);
  g_free (self->name);
  g_free (self->key_name);
  g_free (self->sha256);
  g_clear_pointer (&self->not_before, g_date_time_unref);
  g_clear_pointer (&self->not_after, g_date_time_unref);
  G_OBJECT_CLASS (tb_cert_parent_class)->finalize (object);
}

static void
tb_cert_class_init (TbCertClass *klass)
{
  G_OBJECT_CLASS (klass)->finalize = tb_cert_finalize;
}

static void
tb_cert_init (TbCert *self)
{
}

static GDateTime *
asn1_time_to_date_time (const ASN1_TIME *t)
{
  struct tm tm = { 0 };

  if (!ASN1_TIME_to_tm (t, &tm))
    return NULL;
  return g_date_time_new_utc (tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
}

/**
 * tb_cert_new_for_x509: (skip)
 * @x509: a certificate; the new object takes it over
 */
TbCert *
tb_cert_new_for_x509 (X509 *x509)
{
  TbCert *self = g_object_new (TB_TYPE_CERT, NULL);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int md_len = 0;

  self->x509 = x509;
  if (!X509_digest (x509, EVP_sha256 (), md, &md_len))
    md_len = 0;
  self->sha256 = g_malloc (md_len * 2 + 1);
  self->sha256[0] = '\0';
  for (unsigned int i = 0; i < md_len; i++)
    g_snprintf (self->sha256 + 2 * i, 3, "%02x", md[i]);
  self->not_before = asn1_time_to_date_time (X509_get0_notBefore (x509));
  self->not_after = asn1_time_to_date_time (X509_get0_notAfter (x509));
  return self;
}

/**
 * tb_cert_new_from_data:
 * @origin: the file name (or a description) for error messages
 *
 * Parses a PEM or DER certificate.
 */
TbCert *
tb_cert_new_from_data (const void *data, gsize len, const char *origin, GError **error)
{
  X509 *x509 = NULL;

  if (len == 0)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is empty"), origin);
      return NULL;
    }
  if (len > TB_CERT_FILE_MAX_BYTES || len > G_MAXINT)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA, _("%s is too large for a certificate"), origin);
      return NULL;
    }
  if (g_strstr_len (data, (gssize) len, "-----BEGIN CERTIFICATE-----") != NULL)
    {
      g_autoptr(BIO) bio = BIO_new_mem_buf (data, (int) len);
      x509 = PEM_read_bio_X509 (bio, NULL, NULL, NULL);
    }
  else
    {
      const unsigned char *p = data;
      x509 = d2i_X509 (NULL, &p, (long) len);
      if (x509 != NULL && p != (const unsigned char *) data + len)
        {
          X509_free (x509);
          ERR_clear_error ();
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                       _("%s: %" G_GSIZE_FORMAT " bytes of trailing data after the DER certificate"),
                       origin, len - (gsize) (p - (const unsigned char *) data));
          return NULL;
        }
    }
  if (x509 == NULL)
    {
      tb_set_error_from_openssl (error, TB_ERROR_INVALID_DATA,
                                 _("%s is not an X.509 certificate in PEM or DER form"), origin);
      return NULL;
    }
  return tb_cert_new_for_x509 (x509);
}

TbCert *
tb_cert_new_from_file (const char *path, GError **error)
{
  g_autofree char *data = NULL;
  gsize len = 0;

  if (!tb_file_read_bounded (path, TB_CERT_FILE_MAX_BYTES, &data, &len, error))
    return NULL;
  return tb_cert_new_from_data (data, len, path, error);
}

/**
 * tb_cert_load:
 *
 * Loads a certificate of the context's inventory.
 */
TbCert *
tb_cert_load (TbContext *ctx, const char *name, GError **error)
{
  JsonObject *entry = tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, name);
  g_autofree char *path = NULL;
  TbCert *self;
  const char *file;
  const char *sha;

  if (entry == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_NOT_FOUND,
                   _("The context %s has no certificate “%s”"), tb_context_get_path (ctx), name);
      return NULL;
    }
  file = tb_json_get_string (entry, "file", NULL);
  if (file == NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_DATA,
                   _("Certificate “%s” in the context has no “file”"), name);
      return NULL;
    }
  path = tb_context_build_path (ctx, file);
  self = tb_cert_new_from_file (path, error);
  if (self == NULL)
    return NULL;
  sha = tb_json_get_string (entry, "sha256", NULL);
  if (sha != NULL && g_ascii_strcasecmp (sha, self->sha256) != 0)
    {
      g_object_unref (self);
      g_set_error (error, TB_ERROR, TB_ERROR_VERIFY_FAILED,
                   _("%s does not match the fingerprint of certificate “%s” in context.json"), path, name);
      return NULL;
    }
  self->name = g_strdup (name);
  self->key_name = g_strdup (tb_json_get_string (entry, "key", NULL));
  return self;
}

/**
 * tb_cert_load_all:
 *
 * Returns: (transfer container) (element-type TbCert): every certificate
 *   of the context, in inventory order
 */
GPtrArray *
tb_cert_load_all (TbContext *ctx, GError **error)
{
  g_autoptr(GPtrArray) entries = tb_context_get_entries (ctx, TB_INVENTORY_CERTIFICATES);
  g_autoptr(GPtrArray) certs = g_ptr_array_new_with_free_func (g_object_unref);

  for (guint i = 0; i < entries->len; i++)
    {
      const char *name = json_object_get_string_member (g_ptr_array_index (entries, i), "name");
      TbCert *cert = tb_cert_load (ctx, name, error);
      if (cert == NULL)
        return NULL;
      g_ptr_array_add (certs, cert);
    }
  return g_steal_pointer (&certs);
}

static char *
time_to_iso8601 (GDateTime *t)
{
  return t != NULL ? g_date_time_format (t, "%Y-%m-%dT%H:%M:%SZ") : g_strdup ("");
}

/**
 * tb_cert_store:
 * @ctx: a context locked for writing
 * @key_name: (nullable): the context key certified, if any
 *
 * Writes `certs/NAME.pem` and adds the inventory entry.
 */
gboolean
tb_cert_store (TbCert *self, TbContext *ctx, const char *name, const char *key_name, GError **error)
{
  g_autofree char *file = NULL;
  g_autofree char *pem = tb_cert_dup_pem (self);
  g_autoptr(JsonObject) entry = json_object_new ();
  g_autofree char *subject = tb_cert_dup_subject (self);
  g_autofree char *issuer = tb_cert_dup_issuer (self);
  g_autofree char *serial = tb_cert_dup_serial (self);
  g_autofree char *not_before = time_to_iso8601 (self->not_before);
  g_autofree char *not_after = time_to_iso8601 (self->not_after);

  if (!tb_name_is_valid (name, error))
    return FALSE;
  if (tb_context_find_entry (ctx, TB_INVENTORY_CERTIFICATES, name) != NULL)
    {
      g_set_error (error, TB_ERROR, TB_ERROR_EXISTS, _("The context already has a certificate “%s”"), name);
      return FALSE;
    }
  /* a log that takes no entry: refused before the file is written */
  if (!tb_audit_check_appendable (ctx, error))
    return FALSE;
  file = g_strdup_printf ("certs/%s.pem", name);
  if (!tb_context_write_file (ctx, file, pem, strlen (pem), 0644, error))
    return FALSE;
  json_object_set_string_member (entry, "name", name);
  if (key_name != NULL)
    json_object_set_string_member (entry, "key", key_name);
  json_object_set_string_member (entry, "file", file);
  json_object_set_string_member (entry, "subject", subject);
  json_object_set_string_member (entry, "issuer", issuer);
  json_object_set_string_member (entry, "serial", serial);
  json_object_set_string_member (entry, "not_before", not_before);
  json_object_set_string_member (entry, "not_after", not_after);
  json_object_set_string_member (entry, "sha256", self->sha256);
  if (!tb_context_add_entry (ctx, TB_INVENTORY_CERTIFICATES, entry, error))
    return FALSE;
  {
    g_autoptr(JsonObject) details = json_object_new ();
    json_object_set_string_member (details, "subject", subject);
    json_object_set_string_member (details, "issuer", issuer);
    json_object_set_string_member (details, "serial", serial);
    json_object_set_string_member (details, "sha256", self->sha256);
    if (!tb_audit_append (ctx, "cert.issue", name, details, error))
      return FALSE;
  }
  g_free (self->name);
  self->name = g_strdup (name);
  g_free (self->key_name);
  self->key_name = g_strdup (key_name);
  return TRUE;
}

gboolean
tb_cert_format_from_string (const char *text, TbCertFormat *format, GError **error)
{
  if (g_strcmp0 (text, "pem") == 0)
    *format = TB_CERT_FORMAT_PEM;
  else if (g_strcmp0 (text, "der") == 0)
    *format = TB_CERT_FORMAT_DER;
  else if (g_strcmp0 (text, "p12") == 0 || g_strcmp0 (text, "pkcs12") == 0)
    *format = TB_CERT_FORMAT_PKCS12;
  else
    {
      g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                   _("Unknown certificate format “%s”: expected pem, der or p12"), text);
      return FALSE;
    }
  return TRUE;
}

/**
 * tb_cert_export:
 * @chain: (element-type TbCert): certificates, leaf first
 * @key: (nullable): an unlocked key to include (PKCS#12 only)
 * @p12_passphrase: (nullable): the PKCS#12 password (required with @key)
 *
 * Writes PEM (every certificate of @chain), DER (exactly one) or PKCS#12
 * (the leaf, the rest as CA certificates, AES-256 encrypted, SHA-256 MAC).
 */
gboolean
tb_cert_export (GPtrArray *chain, TbCertFormat format, TbKey *key, const char *p12_passphrase,
                const char *path, GError **error)
{
  g_return_val_if_fail (chain != NULL && chain->len > 0, FALSE);

  if (format == TB_CERT_FORMAT_PEM)
    {
      g_autoptr(GString) out = g_string_new (NULL);
      for (guint i = 0; i < chain->len; i++)
        {
          g_autofree char *pem = tb_cert_dup_pem (g_ptr_array_index (chain, i));
          g_string_append (out, pem);
        }
      return tb_file_write_output (path, out->str, out->len, 0644, error);
    }
  if (format == TB_CERT_FORMAT_DER)
    {
      g_autoptr(GBytes) der = NULL;
      if (chain->len > 1)
        {
          g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                       _("DER holds one certificate; export a chain as pem or p12"));
          return FALSE;
        }
      der = tb_cert_get_der (g_ptr_array_index (chain, 0));
      return tb_file_write_output (path, g_bytes_get_data (der, NULL), g_bytes_get_size (der), 0644, error);
    }

  /* PKCS#12 */
  {
    TbCert *leaf = g_ptr_array_index (chain, 0);
    STACK_OF (X509) *cas = sk_X509_new_null ();
    PKCS12 *p12;
    unsigned char *der = NULL;
    int len;
    gboolean ok;

    if (key != NULL && (p12_passphrase == NULL || strlen (p12_passphrase) < 8))
      {
        sk_X509_free (cas);
        g_set_error (error, TB_ERROR, TB_ERROR_INVALID_ARGUMENT,
                     _("A PKCS#12 file holding a private key needs a passphrase of at least 8 characters"));
        return FALSE;
      }
    for (guint i = 1; i < chain->len; i++)
      sk_X509_push (cas, ((TbCert *) g_ptr_array_index (chain, i))->x509);
    p12 = PKCS12_create_ex (p12_passphrase, leaf->name, key != NULL ? tb_key_get_private_pkey (key) : NULL,
                            leaf->x509, cas, NID_aes_256_cbc, NID_aes_256_cbc, 100000, 1, 0, NULL, NULL);
    sk_X509_free (cas);
    if (p12 == NULL)
      {
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot build the PKCS#12 file"));
        return FALSE;
      }
    if (p12_passphrase != NULL &&
        !PKCS12_set_mac (p12, p12_passphrase, -1, NULL, 0, 100000, EVP_sha256 ()))
      {
        PKCS12_free (p12);
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot protect the PKCS#12 file"));
        return FALSE;
      }
    len = i2d_PKCS12 (p12, &der);
    PKCS12_free (p12);
    if (len <= 0)
      {
        tb_set_error_from_openssl (error, TB_ERROR_FAILED, _("Cannot encode the PKCS#12 file"));
        return FALSE;
      }
    ok = tb_file_write_output (path, der, (gsize) len, key != NULL ? 0600 : 0644, error);
    OPENSSL_clear_free (der, (size_t) len);
    return ok;
  }
}

/* ---- accessors ---- */

const char *
tb_cert_get_name (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->name;
}

const char *
tb_cert_get_key_name (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->key_name;
}

static char *
name_to_string (const X509_NAME *name)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *ptr = NULL;
  long n;

  X509_NAME_print_ex (bio, name, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB);
  n = BIO_get_mem_data (bio, &ptr);
  return g_strndup (ptr, (gsize) n);
}

char *
tb_cert_dup_subject (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return name_to_string (X509_get_subject_name (self->x509));
}

char *
tb_cert_dup_issuer (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return name_to_string (X509_get_issuer_name (self->x509));
}

char *
tb_cert_dup_serial (TbCert *self)
{
  BIGNUM *bn = ASN1_INTEGER_to_BN (X509_get0_serialNumber (self->x509), NULL);
  char *hex = bn != NULL ? BN_bn2hex (bn) : NULL;
  char *out = hex != NULL ? g_ascii_strdown (hex, -1) : g_strdup ("");

  OPENSSL_free (hex);
  BN_free (bn);
  return out;
}

GDateTime *
tb_cert_get_not_before (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->not_before;
}

GDateTime *
tb_cert_get_not_after (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->not_after;
}

const char *
tb_cert_get_sha256 (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), NULL);
  return self->sha256;
}

char *
tb_cert_dup_public_key_sha256 (TbCert *self)
{
  return tb_pkey_public_sha256 (X509_get0_pubkey (self->x509));
}

char *
tb_cert_dup_key_algorithm (TbCert *self)
{
  EVP_PKEY *pkey = X509_get0_pubkey (self->x509);

  return pkey != NULL ? tb_pkey_describe_algorithm (pkey) : g_strdup ("unknown");
}

char *
tb_cert_dup_signature_algorithm (TbCert *self)
{
  return g_strdup (OBJ_nid2ln (X509_get_signature_nid (self->x509)));
}

gboolean
tb_cert_is_ca (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), FALSE);
  return X509_check_ca (self->x509) != 0;
}

gboolean
tb_cert_is_self_signed (TbCert *self)
{
  g_return_val_if_fail (TB_IS_CERT (self), FALSE);
  return X509_self_signed (self->x509, 1) == 1;
}

char *
tb_cert_dup_pem (TbCert *self)
{
  g_autoptr(BIO) bio = BIO_new (BIO_s_mem ());
  char *ptr = NULL;
  long n;

  PEM_write_bio_X509 (bio, self->x509);
  n = BIO_get_mem_data (bio, &ptr);
  return g_strndup (ptr, (gsize) n);
}

GBytes *
tb_cert_get_der (TbCert *self)
{
  unsigned char *der = NULL;
  int len = i2d_X509 (self->x509, &der);
  GBytes *bytes;

  if (len <= 0)
    return g_bytes_new (NULL, 0);
  bytes = g_bytes_new (der, (gsize) len);
  OPENSSL_free (der);
  return bytes;
}

X509 *
tb_cert_get_x509 (TbCert *self)
{
  return self->x509;
}
