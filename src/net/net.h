/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* net/: user-mode networking with libslirp on a tap device. For now: what
 * the host offers for it. */
#pragma once

#include <glib.h>

#include "util/util.h"

G_BEGIN_DECLS

typedef struct
{
  gboolean tun;       /* /dev/net/tun opens read-write for this user */
  int tun_errno;      /* why it does not */
  char *slirp_version;
} HutchNetCaps;

/* Fills @caps; never fails: what is missing is recorded in @caps. */
void hutch_net_caps_probe (HutchNetCaps *caps);
void hutch_net_caps_clear (HutchNetCaps *caps);

G_END_DECLS
