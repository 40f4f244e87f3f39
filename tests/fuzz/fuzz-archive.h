/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The two archive targets' common step: a tarball in memory loaded as
 * hutch load reads one (archive/load.c up to, not including, unpacking and
 * recording), into a scratch store, whose new blobs go again afterwards. */
#pragma once

#include "fuzz-common.h"

G_BEGIN_DECLS

/* Once, from LLVMFuzzerInitialize. */
void hutch_fuzz_archive_setup (void);
/* Loads @len bytes of @tar; checks what it found, and undoes it. */
void hutch_fuzz_archive_load (const void *tar, gsize len);

G_END_DECLS
