/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* linux.resources and linux.cgroupsPath (and `update --resources`): which
 * limits a config asks for, named by their fields, and whether this host
 * lets the caller have them, asked of cgroup/. As runc and crun do
 * rootless: nothing asked and no cgroup to be had is a warning; a limit
 * asked that cannot be applied is an error naming the field and the fix.
 * Making the cgroup itself is not done yet: see docs/oci-runtime.md. */
#include "config.h"

#include <string.h>
#include <unistd.h>

#include "cgroup/cgroup.h"
#include "oci-private.h"

/* Whether leaf @n asks for something: runtime-spec uses 0, -1, false, ""
 * and null for "no limit" or "unchanged"; any other value is a limit
 * (but see is_default). */
static gboolean
leaf_asks (const HutchJsonNode *n)
{
  switch (n->type)
    {
    case HUTCH_JSON_NUMBER:
      return n->is_int ? n->integer > 0 : n->number > 0;
    case HUTCH_JSON_BOOL:
      return n->boolean;
    case HUTCH_JSON_STRING:
      return n->string[0] != '\0';
    case HUTCH_JSON_ARRAY:
      return n->n_members > 0;
    default:
      return FALSE;
    }
}

/* Values that ask for what a new cgroup has anyway: cpu.shares 1024 is
 * the kernel's default weight, and ctr run sets it on every container. */
static gboolean
is_default (const char *field, const HutchJsonNode *n)
{
  return g_str_has_suffix (field, ".cpu.shares") && n->type == HUTCH_JSON_NUMBER && n->is_int
         && n->integer == 1024;
}

static void
collect (const HutchJsonNode *n, const char *field, GPtrArray *out)
{
  if (n->type != HUTCH_JSON_OBJECT)
    {
      if (leaf_asks (n) && !is_default (field, n))
        g_ptr_array_add (out, g_strdup (field));
      return;
    }
  for (guint i = 0; i < n->n_members; i++)
    {
      g_autofree char *sub = g_strconcat (field, ".", n->keys[i], NULL);
      collect (n->members[i], sub, out);
    }
}

GPtrArray *
hutch_oci_resources_parse (const HutchJsonNode *node, const char *where, GError **error)
{
  g_autoptr (GPtrArray) asked = g_ptr_array_new_with_free_func (g_free);

  if (node == NULL || node->type == HUTCH_JSON_NULL)
    return g_steal_pointer (&asked);
  if (!hutch_oci_json_want (node, HUTCH_JSON_OBJECT, where, error))
    return NULL;
  for (guint i = 0; i < node->n_members; i++)
    {
      g_autofree char *field = g_strconcat (where, ".", node->keys[i], NULL);
      /* device rules: in a user namespace no device node can be made or
       * opened beyond the ones bound in, which is what they would allow */
      if (strcmp (node->keys[i], "devices") == 0)
        {
          if (!hutch_oci_json_want (node->members[i], HUTCH_JSON_ARRAY, field, error))
            return NULL;
          continue;
        }
      collect (node->members[i], field, asked);
    }
  return g_steal_pointer (&asked);
}

gboolean
hutch_oci_resources_check (GPtrArray *asked, const char *cgroups_path, GError **error)
{
  HutchCgroupCaps caps;
  g_autofree char *fields = NULL;
  gboolean ok;

  hutch_cgroup_caps_probe (&caps);
  if (asked == NULL || asked->len == 0)
    {
      g_autoptr (GError) why = NULL;
      if (cgroups_path != NULL && !hutch_cgroup_caps_check (&caps, "linux.cgroupsPath", &why))
        g_warning ("linux.cgroupsPath %s is ignored: the container stays in the caller's cgroup "
                   "(no limit was asked for; %s)",
                   cgroups_path, why->message);
      else if (cgroups_path != NULL)
        g_debug ("linux.cgroupsPath %s: the container stays in the caller's cgroup", cgroups_path);
      hutch_cgroup_caps_clear (&caps);
      return TRUE;
    }
  g_ptr_array_add (asked, NULL);
  fields = g_strjoinv (", ", (char **) asked->pdata);
  g_ptr_array_remove_index (asked, asked->len - 1);
  ok = hutch_cgroup_caps_check (&caps, fields, error);
  hutch_cgroup_caps_clear (&caps);
  if (!ok)
    return FALSE;
  /* cgroup v2 is delegated here, but making the container's cgroup from a
   * runtime that exits (its caller in the same cgroup, so no controllers
   * can be given below it) is not done yet */
  return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED,
                      "%s cannot be applied: hutch's runtime does not make cgroups yet, even "
                      "where cgroup v2 is delegated (leave the limits out, or use runc or crun "
                      "for this container)",
                      fields);
}

gboolean
hutch_oci_update (const HutchOciContext *ctx, const char *id, const char *resources_path,
                  GError **error)
{
  g_autoptr (HutchOciState) s = hutch_oci_state_load (ctx, id, error);
  g_autoptr (HutchJsonNode) doc = NULL;
  g_autoptr (GPtrArray) asked = NULL;
  g_autofree char *text = NULL;
  gsize len;

  if (s == NULL)
    return FALSE;
  if (s->status == HUTCH_OCI_STOPPED)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "cannot update container %s: it is stopped", id);
  if (resources_path == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "update: give the new limits with --resources FILE (- for stdin)");
  if (strcmp (resources_path, "-") == 0)
    {
      text = hutch_util_read_all (STDIN_FILENO, 1024 * 1024, &len, error);
      if (text == NULL)
        return g_prefix_error (error, "update --resources -: "), FALSE;
    }
  else if (!g_file_get_contents (resources_path, &text, &len, error))
    return g_prefix_error (error, "update --resources: "), FALSE;
  doc = hutch_json_parse (text, len, error);
  if (doc == NULL)
    return g_prefix_error (error, "update --resources %s: ", resources_path), FALSE;
  asked = hutch_oci_resources_parse (doc, "resources", error);
  if (asked == NULL)
    return FALSE;
  if (asked->len == 0)
    return TRUE; /* nothing to change */
  if (!hutch_oci_resources_check (asked, NULL, error))
    return g_prefix_error (error, "update of container %s: ", id), FALSE;
  return TRUE;
}
