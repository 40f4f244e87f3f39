/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* run and create's --restart: the policy read (container/restart.c knows
 * the names), and what docker refuses alongside it. */
#include "config.h"

#include "run-restart.h"

gboolean
hutch_cli_restart_parse (const char *text, HutchRunOptions *o, GError **error)
{
  if (text == NULL)
    return TRUE;
  if (!hutch_container_restart_policy_parse (text, &o->restart, error))
    return FALSE;
  /* docker: "Conflicting options: --restart and --rm"; a container that
   * goes at its end cannot be started again */
  if (o->rm && o->restart.kind != HUTCH_RESTART_NO)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--restart %s with --rm: a container removed when it ends cannot be "
                        "restarted; drop one of them",
                        text);
  return TRUE;
}
