/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/ internals that the unit tests reach directly. */
#pragma once

#include "util.h"

G_BEGIN_DECLS

/* The openat2-free resolution that hutch_util_open_beneath() falls back to.
 * Exposed so that the unit tests run every escape case through both paths in
 * one process, whatever the kernel offers. */
int hutch_util_open_beneath_walk (int root_fd, const char *path, int flags, mode_t mode,
                                  HutchResolveMode resolve, GError **error);

G_END_DECLS
