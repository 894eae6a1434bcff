/* SPDX-License-Identifier: GPL-3.0-or-later */

/* A minimal PKCS#11 module for the tests: one slot holding the token
 * "locked-out", whose user PIN is locked after too many wrong tries (what
 * SoftHSM cannot show: it never locks). Every login fails with
 * CKR_PIN_LOCKED; whatever else a caller needs is refused as not
 * supported.
 *
 * Built a second time with FAKE_TRUST_STORE, it is instead what p11-kit's
 * trust module shows on a desktop: the read-only "System Trust" token,
 * which holds the system's CA certificates and no keys. */

#include <string.h>

#include <stddef.h>
#include <p11-kit/pkcs11.h>

#ifdef FAKE_TRUST_STORE
#define TOKEN_LABEL "System Trust"
#define TOKEN_MANUFACTURER "PKCS#11 Kit"
#define TOKEN_MODEL "p11-kit-trust"
#define TOKEN_FLAGS (CKF_TOKEN_INITIALIZED | CKF_WRITE_PROTECTED)
#else
#define TOKEN_LABEL "locked-out"
#define TOKEN_MANUFACTURER "Trustbench tests"
#define TOKEN_MODEL "fake"
#define TOKEN_FLAGS (CKF_TOKEN_INITIALIZED | CKF_LOGIN_REQUIRED | CKF_USER_PIN_INITIALIZED | CKF_USER_PIN_LOCKED)
#endif

static CK_FUNCTION_LIST functions;

static CK_RV
not_supported (void)
{
  return CKR_FUNCTION_NOT_SUPPORTED;
}

static void
pad (CK_UTF8CHAR *field, size_t size, const char *text)
{
  memset (field, ' ', size);
  memcpy (field, text, strlen (text) < size ? strlen (text) : size);
}

static CK_RV
fake_initialize (CK_VOID_PTR args)
{
  return CKR_OK;
}

static CK_RV
fake_finalize (CK_VOID_PTR reserved)
{
  return CKR_OK;
}

static CK_RV
fake_get_info (CK_INFO_PTR info)
{
  memset (info, 0, sizeof *info);
  info->cryptokiVersion.major = 2;
  info->cryptokiVersion.minor = 40;
  pad (info->manufacturerID, sizeof info->manufacturerID, "Trustbench tests");
  pad (info->libraryDescription, sizeof info->libraryDescription, "locked-out token");
  return CKR_OK;
}

static CK_RV
fake_get_slot_list (CK_BBOOL present, CK_SLOT_ID_PTR list, CK_ULONG_PTR count)
{
  if (list != NULL)
    {
      if (*count < 1)
        return CKR_BUFFER_TOO_SMALL;
      list[0] = 1;
    }
  *count = 1;
  return CKR_OK;
}

static CK_RV
fake_get_slot_info (CK_SLOT_ID slot, CK_SLOT_INFO_PTR info)
{
  memset (info, 0, sizeof *info);
  pad (info->slotDescription, sizeof info->slotDescription, "slot");
  pad (info->manufacturerID, sizeof info->manufacturerID, "Trustbench tests");
  info->flags = CKF_TOKEN_PRESENT;
  return CKR_OK;
}

static CK_RV
fake_get_token_info (CK_SLOT_ID slot, CK_TOKEN_INFO_PTR info)
{
  memset (info, 0, sizeof *info);
  pad (info->label, sizeof info->label, TOKEN_LABEL);
  pad (info->manufacturerID, sizeof info->manufacturerID, TOKEN_MANUFACTURER);
  pad (info->model, sizeof info->model, TOKEN_MODEL);
  pad (info->serialNumber, sizeof info->serialNumber, "0001");
  info->flags = TOKEN_FLAGS;
  return CKR_OK;
}

static CK_RV
fake_open_session (CK_SLOT_ID slot, CK_FLAGS flags, CK_VOID_PTR app, CK_NOTIFY notify, CK_SESSION_HANDLE_PTR session)
{
  *session = 1;
  return CKR_OK;
}

static CK_RV
fake_close_session (CK_SESSION_HANDLE session)
{
  return CKR_OK;
}

static CK_RV
fake_login (CK_SESSION_HANDLE session, CK_USER_TYPE user, CK_UTF8CHAR_PTR pin, CK_ULONG len)
{
  return CKR_PIN_LOCKED;
}

CK_RV C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list);

CK_RV
C_GetFunctionList (CK_FUNCTION_LIST_PTR_PTR list)
{
  void (**slot) (void) = (void (**) (void)) &functions.C_Initialize;
  size_t n = (sizeof functions - offsetof (CK_FUNCTION_LIST, C_Initialize)) / sizeof (void (*) (void));

  for (size_t i = 0; i < n; i++)
    slot[i] = (void (*) (void)) not_supported;
  functions.version.major = 2;
  functions.version.minor = 40;
  functions.C_Initialize = fake_initialize;
  functions.C_Finalize = fake_finalize;
  functions.C_GetInfo = fake_get_info;
  functions.C_GetFunctionList = C_GetFunctionList;
  functions.C_GetSlotList = fake_get_slot_list;
  functions.C_GetSlotInfo = fake_get_slot_info;
  functions.C_GetTokenInfo = fake_get_token_info;
  functions.C_OpenSession = fake_open_session;
  functions.C_CloseSession = fake_close_session;
  functions.C_Login = fake_login;
  *list = &functions;
  return CKR_OK;
}
