/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* -v and --mount as docker reads them, into the mounts of a sandbox spec:
 * a bind of a host path, a named volume (made on first use, elsewhere:
 * volume.c), an anonymous volume, a tmpfs. Pure parsing: nothing is made
 * here, so `run` can refuse a bad flag before it pulls anything. */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "container-private.h"

#define V_OPTIONS "ro, rw, z, Z, U, O, nocopy"
#define MOUNT_KEYS                                                                                 \
  "type, source (src), target (dst, destination), readonly (ro), volume-nocopy, volume-label, "    \
  "tmpfs-size, tmpfs-mode"

void
hutch_container_mount_free (HutchContainerMount *cm)
{
  if (cm == NULL)
    return;
  hutch_sandbox_mount_free (cm->mount);
  g_strfreev (cm->labels);
  g_free (cm);
}

/* A container path: absolute, and not / itself (docker's rule too). */
static gboolean
target_check (const char *flag, const char *text, const char *target, GError **error)
{
  if (target == NULL || *target != '/')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": the container path must be absolute",
                        flag, text);
  if (strspn (target, "/") == strlen (target))
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": the container path cannot be /", flag,
                        text);
  return TRUE;
}

/* The host path of a bind: absolute, or relative starting with "." */
static char *
host_path (const char *flag, const char *text, const char *path, GError **error)
{
  char *real = realpath (path, NULL);
  char *out;

  if (real == NULL)
    {
      int errsv = errno;
      return hutch_throw (error, HUTCH_ERROR_USAGE, "%s \"%s\": the host path %s: %s", flag, text,
                          path, g_strerror (errsv)),
             NULL;
    }
  out = g_strdup (real);
  free (real);
  return out;
}

/* What a source names: a host path when it starts with '/' or '.', else a
 * volume, whose name must be one. */
static gboolean
source_set (HutchSandboxMount *m, const char *flag, const char *text, const char *source,
            GError **error)
{
  if (*source == '/' || *source == '.')
    return (m->source = host_path (flag, text, source, error)) != NULL;
  if (!hutch_store_volume_name_validate (source, error))
    return g_prefix_error (error, "%s \"%s\": ", flag, text), FALSE;
  m->volume = g_strdup (source);
  m->copy_up = TRUE;
  return TRUE;
}

static gboolean
v_options (HutchSandboxMount *m, const char *text, const char *opts, GError **error)
{
  g_auto (GStrv) list = g_strsplit (opts, ",", -1);
  gboolean ro = FALSE, rw = FALSE, nocopy = FALSE;

  for (char **o = list; *o != NULL; o++)
    {
      if (strcmp (*o, "ro") == 0)
        ro = TRUE;
      else if (strcmp (*o, "rw") == 0)
        rw = TRUE;
      else if (strcmp (*o, "z") == 0 || strcmp (*o, "Z") == 0)
        ; /* SELinux relabelling: hutch gives containers no label of their own (hutch-run(1)) */
      else if (strcmp (*o, "U") == 0)
        m->chown = TRUE;
      else if (strcmp (*o, "O") == 0)
        m->overlay = TRUE;
      else if (strcmp (*o, "nocopy") == 0)
        nocopy = TRUE;
      else
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "-v \"%s\": unknown option \"%s\" (the options are " V_OPTIONS
                            ", comma-separated)",
                            text, *o);
    }
  if (ro && rw)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "-v \"%s\": ro and rw at once", text);
  m->readonly = ro;
  if (m->overlay && m->source == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-v \"%s\": O lays an overlay over a host directory, not a volume", text);
  if (m->overlay && m->chown)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-v \"%s\": U and O at once (O leaves the host's directory as it is)",
                        text);
  if (nocopy && m->source != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "-v \"%s\": nocopy is for volumes", text);
  m->copy_up = m->copy_up && !nocopy;
  return TRUE;
}

/* -v SOURCE:TARGET[:OPTIONS] or -v TARGET (an anonymous volume). */
static HutchContainerMount *
parse_v (const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, ":", -1);
  guint n = g_strv_length (parts);
  g_autoptr (HutchContainerMount) cm = g_new0 (HutchContainerMount, 1);
  HutchSandboxMount *m = cm->mount = g_new0 (HutchSandboxMount, 1);

  if (n == 0 || n > 3)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "-v \"%s\": use SOURCE:CONTAINER-PATH[:OPTIONS] (SOURCE a host path or a "
                        "volume name) or CONTAINER-PATH alone (a new anonymous volume)",
                        text),
           NULL;
  if (n == 1)
    {
      if (!target_check ("-v", text, parts[0], error))
        return NULL;
      m->target = g_strdup (parts[0]);
      m->anonymous = m->copy_up = TRUE;
      return g_steal_pointer (&cm);
    }
  if (*parts[0] == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "-v \"%s\": no source before the ':'", text),
           NULL;
  if (!target_check ("-v", text, parts[1], error) || !source_set (m, "-v", text, parts[0], error)
      || (n == 3 && !v_options (m, text, parts[2], error)))
    return NULL;
  m->target = g_strdup (parts[1]);
  return g_steal_pointer (&cm);
}

static gboolean
bool_value (const char *flag, const char *key, const char *value, gboolean *out, GError **error)
{
  if (value == NULL || strcmp (value, "true") == 0 || strcmp (value, "1") == 0)
    *out = TRUE;
  else if (strcmp (value, "false") == 0 || strcmp (value, "0") == 0)
    *out = FALSE;
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE, "%s: %s=%s: use true or false", flag, key, value);
  return TRUE;
}

typedef struct
{
  const char *type, *source, *target, *size, *mode;
  gboolean readonly, nocopy;
  GPtrArray *labels;
} MountArgs;

static gboolean
mount_key (MountArgs *a, const char *text, const char *key, const char *value, GError **error)
{
  const char *flag = "--mount";

  if (strcmp (key, "readonly") == 0 || strcmp (key, "ro") == 0)
    return bool_value (flag, key, value, &a->readonly, error);
  if (strcmp (key, "volume-nocopy") == 0)
    return bool_value (flag, key, value, &a->nocopy, error);
  if (value == NULL || *value == '\0')
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--mount \"%s\": %s needs a value (%s=...)", text,
                        key, key);
  if (strcmp (key, "type") == 0)
    a->type = value;
  else if (strcmp (key, "source") == 0 || strcmp (key, "src") == 0)
    a->source = value;
  else if (strcmp (key, "target") == 0 || strcmp (key, "dst") == 0
           || strcmp (key, "destination") == 0)
    a->target = value;
  else if (strcmp (key, "tmpfs-size") == 0)
    a->size = value;
  else if (strcmp (key, "tmpfs-mode") == 0)
    a->mode = value;
  else if (strcmp (key, "volume-label") == 0)
    g_ptr_array_add (a->labels, g_strdup (value));
  else
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": unknown key \"%s\" (the keys are " MOUNT_KEYS ")", text,
                        key);
  return TRUE;
}

static HutchContainerMount *
mount_tmpfs (const MountArgs *a, const char *text, GError **error)
{
  g_autoptr (GString) spec = g_string_new (a->target);
  g_autoptr (HutchContainerMount) cm = g_new0 (HutchContainerMount, 1);
  g_autoptr (GError) local = NULL;

  if (a->source != NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--mount \"%s\": a tmpfs has no source", text),
           NULL;
  if (a->size != NULL && strspn (a->size, "0123456789") != strlen (a->size)
      && !(strspn (a->size, "0123456789") == strlen (a->size) - 1
           && strspn (a->size, "0123456789") > 0
           && strchr ("kKmMgG", a->size[strlen (a->size) - 1]) != NULL))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": tmpfs-size=%s: use bytes, or a number with k, m or g",
                        text, a->size),
           NULL;
  if (a->mode != NULL && (strspn (a->mode, "01234567") != strlen (a->mode) || strlen (a->mode) > 4))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": tmpfs-mode=%s: use an octal mode (1777)", text, a->mode),
           NULL;
  g_string_append_c (spec, ':');
  if (a->size != NULL)
    g_string_append_printf (spec, "size=%s,", a->size);
  if (a->mode != NULL)
    g_string_append_printf (spec, "mode=%s,", a->mode);
  if (a->readonly)
    g_string_append (spec, "ro,");
  cm->mount = hutch_container_tmpfs_parse (spec->str, &local);
  if (cm->mount == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--mount \"%s\": %s", text, local->message), NULL;
  return g_steal_pointer (&cm);
}

/* --mount type=bind|volume|tmpfs,source=...,target=...,readonly,... as
 * docker takes it (without type: a volume). */
static HutchContainerMount *
parse_mount (const char *text, GError **error)
{
  g_auto (GStrv) items = g_strsplit (text, ",", -1);
  g_autoptr (GPtrArray) labels = g_ptr_array_new_with_free_func (g_free);
  /* the KEY=VALUE pairs, which MountArgs points into */
  g_autoptr (GPtrArray) pairs = g_ptr_array_new_with_free_func ((GDestroyNotify)g_strfreev);
  g_autoptr (HutchContainerMount) cm = NULL;
  MountArgs a = { .type = "volume", .labels = labels };
  HutchSandboxMount *m;

  for (char **i = items; *i != NULL; i++)
    {
      char **kv;
      if (**i == '\0')
        continue;
      kv = g_strsplit (*i, "=", 2);
      g_ptr_array_add (pairs, kv);
      if (!mount_key (&a, text, kv[0], kv[1], error))
        return NULL;
    }
  if (a.target == NULL)
    return hutch_throw (error, HUTCH_ERROR_USAGE, "--mount \"%s\": no target= (the container path)",
                        text),
           NULL;
  if (!target_check ("--mount", text, a.target, error))
    return NULL;
  if (strcmp (a.type, "tmpfs") != 0 && (a.size != NULL || a.mode != NULL))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": tmpfs-size and tmpfs-mode are "
                        "for type=tmpfs",
                        text),
           NULL;
  if (strcmp (a.type, "volume") != 0 && (labels->len > 0 || a.nocopy))
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": volume-label and volume-nocopy "
                        "are for type=volume",
                        text),
           NULL;
  if (strcmp (a.type, "tmpfs") == 0)
    return mount_tmpfs (&a, text, error);
  if (strcmp (a.type, "bind") != 0 && strcmp (a.type, "volume") != 0)
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": unknown type \"%s\" (use bind, volume or tmpfs)", text,
                        a.type),
           NULL;
  cm = g_new0 (HutchContainerMount, 1);
  m = cm->mount = g_new0 (HutchSandboxMount, 1);
  m->target = g_strdup (a.target);
  m->readonly = a.readonly;
  if (strcmp (a.type, "bind") == 0)
    {
      if (a.source == NULL)
        return hutch_throw (error, HUTCH_ERROR_USAGE,
                            "--mount \"%s\": a bind needs source= (the "
                            "host path)",
                            text),
               NULL;
      if ((m->source = host_path ("--mount", text, a.source, error)) == NULL)
        return NULL;
      return g_steal_pointer (&cm);
    }
  if (a.source == NULL)
    m->anonymous = TRUE;
  else if (*a.source == '/' || *a.source == '.')
    return hutch_throw (error, HUTCH_ERROR_USAGE,
                        "--mount \"%s\": a volume's source is its name, "
                        "not a path (type=bind binds a host path)",
                        text),
           NULL;
  else if (!hutch_store_volume_name_validate (a.source, error))
    return g_prefix_error (error, "--mount \"%s\": ", text), NULL;
  else
    m->volume = g_strdup (a.source);
  m->copy_up = !a.nocopy;
  g_ptr_array_add (labels, NULL);
  cm->labels = (char **)g_ptr_array_free (g_steal_pointer (&labels), FALSE);
  return g_steal_pointer (&cm);
}

GPtrArray *
hutch_container_mounts_parse (const HutchRunOptions *o, GError **error)
{
  g_autoptr (GPtrArray) out
      = g_ptr_array_new_with_free_func ((GDestroyNotify)hutch_container_mount_free);

  for (char **v = o->volumes; v != NULL && *v != NULL; v++)
    {
      HutchContainerMount *cm = parse_v (*v, error);
      if (cm == NULL)
        return NULL;
      g_ptr_array_add (out, cm);
    }
  for (char **v = o->mounts; v != NULL && *v != NULL; v++)
    {
      HutchContainerMount *cm = parse_mount (*v, error);
      if (cm == NULL)
        return NULL;
      g_ptr_array_add (out, cm);
    }
  return g_steal_pointer (&out);
}

gboolean
hutch_container_mounts_check (const HutchRunOptions *o, GError **error)
{
  g_autoptr (GPtrArray) mounts = hutch_container_mounts_parse (o, error);

  return mounts != NULL;
}
