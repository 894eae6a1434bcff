/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-cmsis-dap.h"

G_BEGIN_DECLS

/* SW-DP registers (A[3:2]) */
#define TB_DP_IDCODE 0x0u      /* read */
#define TB_DP_ABORT 0x0u       /* write */
#define TB_DP_CTRL_STAT 0x4u
#define TB_DP_SELECT 0x8u
#define TB_DP_RDBUFF 0xcu

#define TB_DP_CSYSPWRUPACK (1u << 31)
#define TB_DP_CSYSPWRUPREQ (1u << 30)
#define TB_DP_CDBGPWRUPACK (1u << 29)
#define TB_DP_CDBGPWRUPREQ (1u << 28)
#define TB_DP_STICKYERR (1u << 5)

/* MEM-AP registers */
#define TB_AP_CSW 0x00u
#define TB_AP_TAR 0x04u
#define TB_AP_DRW 0x0cu
#define TB_AP_IDR 0xfcu

#define TB_CSW_SIZE_8 0u
#define TB_CSW_SIZE_16 1u
#define TB_CSW_SIZE_32 2u
#define TB_CSW_ADDRINC_SINGLE (1u << 4)
#define TB_CSW_DBGSWENABLE (1u << 31)
#define TB_CSW_HPROT (0x23u << 24)   /* privileged data access, as debuggers use */

/* the address range TAR auto-increment is guaranteed to cover (ADIv5) */
#define TB_TAR_WRAP 1024u

typedef struct _TbAdiv5 TbAdiv5;

TbAdiv5  *tb_adiv5_new          (TbDap        *dap);
void      tb_adiv5_free         (TbAdiv5      *adi);
gboolean  tb_adiv5_connect      (TbAdiv5      *adi,
                                 GError      **error);
guint32   tb_adiv5_get_idcode   (TbAdiv5      *adi);
guint32   tb_adiv5_get_ap_idr   (TbAdiv5      *adi);
void      tb_adiv5_set_tar_wrap (TbAdiv5      *adi,
                                 guint32       wrap);
gboolean  tb_adiv5_read32       (TbAdiv5      *adi,
                                 guint32       address,
                                 guint32      *value,
                                 GError      **error);
gboolean  tb_adiv5_write32      (TbAdiv5      *adi,
                                 guint32       address,
                                 guint32       value,
                                 GError      **error);
gboolean  tb_adiv5_read16       (TbAdiv5      *adi,
                                 guint32       address,
                                 guint16      *value,
                                 GError      **error);
gboolean  tb_adiv5_write16      (TbAdiv5      *adi,
                                 guint32       address,
                                 guint16       value,
                                 GError      **error);
gboolean  tb_adiv5_read_memory  (TbAdiv5      *adi,
                                 guint32       address,
                                 guint8       *buf,
                                 gsize         len,
                                 GError      **error);
gboolean  tb_adiv5_write_memory (TbAdiv5      *adi,
                                 guint32       address,
                                 const guint8 *data,
                                 gsize         len,
                                 GError      **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (TbAdiv5, tb_adiv5_free)

G_END_DECLS
