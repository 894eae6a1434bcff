/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

#include "tb-adiv5.h"

G_BEGIN_DECLS

/* System control space debug registers (ARMv7-M / ARMv8-M) */
#define TB_CM_CPUID 0xe000ed00u
#define TB_CM_AIRCR 0xe000ed0cu
#define TB_CM_DHCSR 0xe000edf0u
#define TB_CM_DCRSR 0xe000edf4u
#define TB_CM_DCRDR 0xe000edf8u
#define TB_CM_DEMCR 0xe000edfcu

#define TB_CM_DHCSR_DBGKEY (0xa05fu << 16)
#define TB_CM_DHCSR_C_DEBUGEN (1u << 0)
#define TB_CM_DHCSR_C_HALT (1u << 1)
#define TB_CM_DHCSR_S_REGRDY (1u << 16)
#define TB_CM_DHCSR_S_HALT (1u << 17)
#define TB_CM_AIRCR_VECTKEY (0x05fau << 16)
#define TB_CM_AIRCR_SYSRESETREQ (1u << 2)
#define TB_CM_DEMCR_VC_CORERESET (1u << 0)

gboolean    tb_cortex_m_halt            (TbAdiv5     *adi,
                                         GError     **error);
gboolean    tb_cortex_m_resume          (TbAdiv5     *adi,
                                         GError     **error);
gboolean    tb_cortex_m_reset           (TbAdiv5     *adi,
                                         gboolean     halt,
                                         GError     **error);
gboolean    tb_cortex_m_is_halted       (TbAdiv5     *adi,
                                         gboolean    *halted,
                                         GError     **error);
gboolean    tb_cortex_m_read_register   (TbAdiv5     *adi,
                                         guint        regsel,
                                         guint32     *value,
                                         GError     **error);
const char *tb_cortex_m_core_name       (guint32      cpuid);

G_END_DECLS
