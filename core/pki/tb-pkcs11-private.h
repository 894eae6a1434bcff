/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* Token keys as OpenSSL sees them; core/ only. */

#include <openssl/evp.h>
#include <p11-kit/p11-kit.h>
#include <p11-kit/uri.h>

#include "tb-pkcs11.h"
#include "tb-pkcs11-uri-private.h"

G_BEGIN_DECLS

/* A private key object on a token, with its own logged-in session. */
typedef struct {
  gint refs;
  GMutex lock;
  CK_FUNCTION_LIST *module;
  CK_SESSION_HANDLE session;
  CK_OBJECT_HANDLE object;
  CK_KEY_TYPE key_type;         /* CKK_EC or CKK_RSA */
  int bits;
  EVP_PKEY *public_key;         /* the same key's public half, default provider */
  guint generation;             /* of the modules it was opened with (tb_pkcs11_reset()) */
} TbTokenKey;

TbTokenKey *tb_token_key_ref     (TbTokenKey *key);
void        tb_token_key_unref   (TbTokenKey *key);
gboolean    tb_token_key_sign    (TbTokenKey   *key,
                                  const guint8 *digest,
                                  gsize         digest_len,
                                  int           md_nid,
                                  gboolean      pss,
                                  guint8      **sig,
                                  gsize        *sig_len,
                                  GError      **error);

gboolean    tb_token_key_derive  (TbTokenKey   *key,
                                  const guint8 *peer_point,
                                  gsize         peer_len,
                                  guint8       *shared,
                                  gsize        *shared_len,
                                  GError      **error);

EVP_PKEY   *tb_pkcs11_generate     (const char  *token_uri,
                                    const char  *label,
                                    const char  *algorithm,
                                    gboolean     key_agreement,
                                    char       **key_uri,
                                    GError     **error);
EVP_PKEY   *tb_pkcs11_load_public  (const char  *key_uri,
                                    GError     **error);
EVP_PKEY   *tb_pkcs11_load_private (const char  *key_uri,
                                    GError     **error);

/* modules, tokens and sessions (tb-pkcs11.c), for the keys (tb-pkcs11-keys.c) */
guint       tb_pkcs11_get_modules_generation (void);
void        tb_pkcs11_set_rv_error   (GError     **error,
                                      CK_RV        rv,
                                      const char  *what);
char       *tb_pkcs11_token_uri      (const CK_TOKEN_INFO *info,
                                      const char          *module_path);
gboolean    tb_pkcs11_find_token     (P11KitUri          *uri,
                                      CK_FUNCTION_LIST  **module_out,
                                      CK_SLOT_ID         *slot_out,
                                      CK_TOKEN_INFO      *info_out,
                                      GError            **error);
gboolean    tb_pkcs11_open_logged_in (CK_FUNCTION_LIST    *module,
                                      CK_SLOT_ID           slot,
                                      const CK_TOKEN_INFO *ti,
                                      CK_SESSION_HANDLE   *session,
                                      GError             **error);

/* the provider (tb-pkcs11-provider.c) */
EVP_PKEY   *tb_pkcs11_provider_wrap (TbTokenKey *key,
                                     GError    **error);
TbTokenKey *tb_pkcs11_provider_get_token_key (EVP_PKEY *pkey);

G_END_DECLS
