/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The parts of config.json that are more than fields: linux.seccomp (the
 * OCI profile into libseccomp's terms, which sandbox/ loads) and the
 * hooks. */
#include "config.h"

#include <errno.h>
#include <seccomp.h>
#include <string.h>

#include "oci-private.h"

static const struct
{
  const char *name;
  enum scmp_compare op;
} operators[] = {
  { "SCMP_CMP_NE", SCMP_CMP_NE }, { "SCMP_CMP_LT", SCMP_CMP_LT },
  { "SCMP_CMP_LE", SCMP_CMP_LE }, { "SCMP_CMP_EQ", SCMP_CMP_EQ },
  { "SCMP_CMP_GE", SCMP_CMP_GE }, { "SCMP_CMP_GT", SCMP_CMP_GT },
  { "SCMP_CMP_MASKED_EQ", SCMP_CMP_MASKED_EQ },
};

/* An action with its errno (ERRNO, TRACE); SCMP_ACT_NOTIFY needs a
 * listener hutch does not have. */
static gboolean
parse_action (const char *name, guint32 ret, const char *field, guint32 *out, GError **error)
{
  if (g_strcmp0 (name, "SCMP_ACT_ALLOW") == 0)
    *out = SCMP_ACT_ALLOW;
  else if (g_strcmp0 (name, "SCMP_ACT_ERRNO") == 0)
    *out = SCMP_ACT_ERRNO (ret);
  else if (g_strcmp0 (name, "SCMP_ACT_KILL") == 0 || g_strcmp0 (name, "SCMP_ACT_KILL_THREAD") == 0)
    *out = SCMP_ACT_KILL_THREAD;
  else if (g_strcmp0 (name, "SCMP_ACT_KILL_PROCESS") == 0)
    *out = SCMP_ACT_KILL_PROCESS;
  else if (g_strcmp0 (name, "SCMP_ACT_TRAP") == 0)
    *out = SCMP_ACT_TRAP;
  else if (g_strcmp0 (name, "SCMP_ACT_TRACE") == 0)
    *out = SCMP_ACT_TRACE (ret);
  else if (g_strcmp0 (name, "SCMP_ACT_LOG") == 0)
    *out = SCMP_ACT_LOG;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "config.json: %s: \"%s\" is not supported by hutch", field,
                        name != NULL ? name : "(none)");
  return TRUE;
}

static gboolean
parse_args (const HutchJsonNode *n, const char *field, GArray **out, GError **error)
{
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_ARRAY, field, error))
    return FALSE;
  *out = g_array_new (FALSE, TRUE, sizeof (HutchSeccompArg));
  for (guint i = 0; i < n->n_members; i++)
    {
      g_autofree char *item = g_strdup_printf ("%s[%u]", field, i);
      g_autofree char *op = NULL;
      HutchSeccompArg a = { 0 };
      gint64 index, v1, v2;
      gboolean found = FALSE;
      if (!hutch_oci_json_want (n->members[i], HUTCH_JSON_OBJECT, item, error)
          || !hutch_oci_json_int (n->members[i], "index", item, 0, 5, &index, NULL, error)
          || !hutch_oci_json_int (n->members[i], "value", item, 0, G_MAXINT64, &v1, NULL, error)
          || !hutch_oci_json_int (n->members[i], "valueTwo", item, 0, G_MAXINT64, &v2, NULL, error)
          || !hutch_oci_json_string (n->members[i], "op", item, &op, error))
        return FALSE;
      for (gsize j = 0; j < G_N_ELEMENTS (operators); j++)
        if (g_strcmp0 (op, operators[j].name) == 0)
          a.op = operators[j].op, found = TRUE;
      if (!found)
        return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE, "config.json: %s.op: unknown %s",
                            item, op != NULL ? op : "(none)");
      a.index = (guint) index;
      a.value = (guint64) v1;
      a.value_two = (guint64) v2;
      g_array_append_val (*out, a);
    }
  return TRUE;
}

static gboolean
parse_syscalls (const HutchJsonNode *n, guint32 default_errno, HutchSeccompProfile *p,
                GError **error)
{
  if (n == NULL || n->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (n, HUTCH_JSON_ARRAY, "linux.seccomp.syscalls", error))
    return FALSE;
  for (guint i = 0; i < n->n_members; i++)
    {
      g_autofree char *field = g_strdup_printf ("linux.seccomp.syscalls[%u]", i);
      g_autofree char *action_field = g_strconcat (field, ".action", NULL);
      g_autofree char *args_field = g_strconcat (field, ".args", NULL);
      g_autofree char *action = NULL;
      HutchSeccompRule *r = g_new0 (HutchSeccompRule, 1);
      gint64 ret;
      gboolean has_ret;
      g_ptr_array_add (p->rules, r);
      if (!hutch_oci_json_want (n->members[i], HUTCH_JSON_OBJECT, field, error)
          || !hutch_oci_json_strv (n->members[i], "names", field, &r->names, error)
          || !hutch_oci_json_string (n->members[i], "action", field, &action, error)
          || !hutch_oci_json_int (n->members[i], "errnoRet", field, 0, 4095, &ret, &has_ret, error)
          || !parse_action (action, has_ret ? (guint32) ret : default_errno, action_field,
                            &r->action, error)
          || !parse_args (hutch_json_node_member (n->members[i], "args"), args_field, &r->args,
                          error))
        return FALSE;
    }
  return TRUE;
}

gboolean
hutch_oci_seccomp_parse (const HutchJsonNode *node, HutchSeccompProfile **out, GError **error)
{
  g_autoptr (HutchSeccompProfile) p = NULL;
  g_autofree char *action = NULL, *listener = NULL;
  g_auto (GStrv) archs = NULL;
  gint64 ret;
  gboolean has_ret;
  guint32 errno_default;

  if (node == NULL || node->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (node, HUTCH_JSON_OBJECT, "linux.seccomp", error))
    return FALSE;
  p = g_new0 (HutchSeccompProfile, 1);
  p->archs = g_array_new (FALSE, FALSE, sizeof (guint32));
  p->rules = g_ptr_array_new ();
  if (!hutch_oci_json_string (node, "defaultAction", "linux.seccomp", &action, error)
      || !hutch_oci_json_int (node, "defaultErrnoRet", "linux.seccomp", 0, 4095, &ret, &has_ret,
                              error)
      || !hutch_oci_json_string (node, "listenerPath", "linux.seccomp", &listener, error)
      || !hutch_oci_json_strv (node, "architectures", "linux.seccomp", &archs, error))
    return FALSE;
  if (listener != NULL && *listener != '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "config.json: linux.seccomp.listenerPath is not supported by hutch");
  errno_default = has_ret ? (guint32) ret : EPERM;
  if (!parse_action (action, errno_default, "linux.seccomp.defaultAction", &p->default_action,
                     error)
      || !parse_syscalls (hutch_json_node_member (node, "syscalls"), EPERM, p, error))
    return FALSE;
  for (char **a = archs; a != NULL && *a != NULL; a++)
    {
      /* "SCMP_ARCH_X86_64" is libseccomp's "x86_64" */
      g_autofree char *name = g_ascii_strdown (g_str_has_prefix (*a, "SCMP_ARCH_") ? *a + 10 : *a, -1);
      guint32 token = seccomp_arch_resolve_name (name);
      if (token != 0)
        g_array_append_val (p->archs, token);
    }
  *out = g_steal_pointer (&p);
  return TRUE;
}

/* ---- hooks ---- */

static const char *const hook_names[HUTCH_OCI_HOOK_N_KINDS] = {
  "prestart", "createRuntime", "createContainer", "startContainer", "poststart", "poststop",
};

gboolean
hutch_oci_hooks_parse (const HutchJsonNode *doc, GPtrArray **out, GError **error)
{
  const HutchJsonNode *hooks = hutch_json_node_member (doc, "hooks");

  if (hooks == NULL || hooks->type == HUTCH_JSON_NULL)
    return TRUE;
  if (!hutch_oci_json_want (hooks, HUTCH_JSON_OBJECT, "hooks", error))
    return FALSE;
  for (int k = 0; k < HUTCH_OCI_HOOK_N_KINDS; k++)
    {
      const HutchJsonNode *list = hutch_json_node_member (hooks, hook_names[k]);
      g_autofree char *field = g_strconcat ("hooks.", hook_names[k], NULL);
      if (list == NULL || list->type == HUTCH_JSON_NULL)
        continue;
      if (!hutch_oci_json_want (list, HUTCH_JSON_ARRAY, field, error))
        return FALSE;
      out[k] = g_ptr_array_new_with_free_func ((GDestroyNotify) hutch_sandbox_hook_free);
      for (guint i = 0; i < list->n_members; i++)
        {
          g_autofree char *item = g_strdup_printf ("%s[%u]", field, i);
          HutchSandboxHook *h = g_new0 (HutchSandboxHook, 1);
          gint64 timeout;
          g_ptr_array_add (out[k], h);
          if (!hutch_oci_json_want (list->members[i], HUTCH_JSON_OBJECT, item, error)
              || !hutch_oci_json_string (list->members[i], "path", item, &h->path, error)
              || !hutch_oci_json_strv (list->members[i], "args", item, &h->args, error)
              || !hutch_oci_json_strv (list->members[i], "env", item, &h->env, error)
              || !hutch_oci_json_int (list->members[i], "timeout", item, 1, G_MAXINT, &timeout,
                                      NULL, error))
            return FALSE;
          if (h->path == NULL || !g_path_is_absolute (h->path))
            return hutch_throw (error, HUTCH_ERROR_INVALID_IMAGE,
                                "config.json: %s.path: expected an absolute path", item);
          h->timeout = (int) timeout;
        }
    }
  return TRUE;
}
