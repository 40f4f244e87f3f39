/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.seccomp of an OCI bundle, compiled by libseccomp in the process
 * that is about to exec (oci/ reads the JSON into a HutchSeccompProfile).
 * A syscall this kernel or architecture does not know is skipped, as runc
 * and crun do: profiles list syscalls of every architecture. Docker's
 * default filter for `run` is seccomp.c's. */
#include "config.h"

#include <errno.h>
#include <seccomp.h>

#include "bundle-private.h"

typedef scmp_filter_ctx HutchBundleSeccomp;
G_DEFINE_AUTO_CLEANUP_FREE_FUNC (HutchBundleSeccomp, seccomp_release, NULL)

void
hutch_sandbox_seccomp_profile_free (HutchSeccompProfile *p)
{
  if (p == NULL)
    return;
  if (p->archs != NULL)
    g_array_unref (p->archs);
  for (guint i = 0; p->rules != NULL && i < p->rules->len; i++)
    {
      HutchSeccompRule *r = p->rules->pdata[i];
      g_strfreev (r->names);
      if (r->args != NULL)
        g_array_unref (r->args);
      g_free (r);
    }
  if (p->rules != NULL)
    g_ptr_array_unref (p->rules);
  g_free (p);
}

static gboolean
add_rule (scmp_filter_ctx ctx, const HutchSeccompRule *r, int nr, GError **error)
{
  struct scmp_arg_cmp cmp[6];
  guint n = r->args != NULL ? MIN (r->args->len, G_N_ELEMENTS (cmp)) : 0;
  int ret;

  for (guint i = 0; i < n; i++)
    {
      const HutchSeccompArg *a = &g_array_index (r->args, HutchSeccompArg, i);
      cmp[i] = (struct scmp_arg_cmp) { a->index, (enum scmp_compare) a->op, a->value, a->value_two };
    }
  ret = seccomp_rule_add_array (ctx, r->action, nr, n, cmp);
  /* the same argument twice: libseccomp wants one rule per comparison */
  if (ret == -EINVAL && n > 1)
    {
      for (guint i = 0; i < n && ret != 0; i++)
        if ((ret = seccomp_rule_add_array (ctx, r->action, nr, 1, &cmp[i])) < 0)
          break;
    }
  if (ret < 0 && ret != -EEXIST)
    return hutch_throw_errno_val (error, -ret, "linux.seccomp: a rule for %s",
                                  r->names != NULL && r->names[0] != NULL ? r->names[0] : "?");
  return TRUE;
}

gboolean
hutch_sandbox_bundle_seccomp_load (const HutchSeccompProfile *p, GError **error)
{
  g_auto (HutchBundleSeccomp) ctx = seccomp_init (p->default_action);
  int ret;

  if (ctx == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "linux.seccomp: defaultAction not accepted");
  for (guint i = 0; p->archs != NULL && i < p->archs->len; i++)
    if ((ret = seccomp_arch_add (ctx, g_array_index (p->archs, guint32, i))) < 0 && ret != -EEXIST)
      return hutch_throw_errno_val (error, -ret, "linux.seccomp.architectures");
  for (guint i = 0; p->rules != NULL && i < p->rules->len; i++)
    {
      const HutchSeccompRule *r = p->rules->pdata[i];
      /* a rule whose action is the default one is no rule to libseccomp */
      if (r->action == p->default_action)
        continue;
      for (char **name = r->names; name != NULL && *name != NULL; name++)
        {
          int nr = seccomp_syscall_resolve_name (*name);
          if (nr == __NR_SCMP_ERROR)
            continue;
          if (!add_rule (ctx, r, nr, error))
            return FALSE;
        }
    }
  if ((ret = seccomp_load (ctx)) < 0)
    return hutch_throw_errno_val (error, -ret, "loading linux.seccomp");
  return TRUE;
}
