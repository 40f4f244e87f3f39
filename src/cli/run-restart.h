/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run and create's --restart (run-restart.c). */
#pragma once

#include "container/container.h"

G_BEGIN_DECLS

/* --restart @text (NULL: not given) into @o->restart; refused with --rm,
 * as docker refuses it. HUTCH_ERROR_USAGE naming the flag. */
gboolean hutch_cli_restart_parse (const char *text, HutchRunOptions *o, GError **error);

G_END_DECLS
