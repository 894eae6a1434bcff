/* SPDX-License-Identifier: GPL-3.0-or-later */
#pragma once

/* libtrustbench: all of Trustbench's logic, no GTK. */

#include "tb-audit.h"
#include "tb-cert.h"
#include "tb-context.h"
#include "tb-demo.h"
#include "tb-device-cert.h"
#include "tb-error.h"
#include "tb-file.h"
#include "tb-firmware.h"
#include "tb-hierarchy.h"
#include "tb-key.h"
#include "tb-master.h"
#include "tb-mcuboot.h"
#include "tb-secret.h"
#include "tb-target.h"
#include "tb-trust-graph.h"
#include "tb-trust-layout.h"
#include "tb-trust-render.h"
#include "tb-upk.h"
#include "tb-virtual-board.h"
#include "tb-virtual-probe.h"
#include "tb-policy.h"
#include "tb-probe.h"
#include "tb-progress.h"
#include "tb-provision.h"
