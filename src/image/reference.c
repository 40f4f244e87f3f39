/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Image references, parsed and normalised with the grammar of docker's
 * distribution/reference package, so that a name means the same image here
 * as in docker and podman. Only sha256 digests are accepted. */
#include "config.h"

#include <string.h>

#include "image.h"

#define NAME_MAX_LEN 255
#define TAG_MAX_LEN 128

static gboolean
fail (GError **error, const char *text, const char *why)
{
  return hutch_throw (error, HUTCH_ERROR_USAGE, "invalid image reference \"%s\": %s", text, why);
}

/* path-component := [a-z0-9]+ (separator [a-z0-9]+)*
 * separator := [_.] | __ | [-]+ */
static gboolean
path_component_valid (const char *s, gsize len)
{
  gsize i = 0;

  if (len == 0)
    return FALSE;
  while (i < len)
    {
      gsize run = i;
      while (run < len && (g_ascii_islower (s[run]) || g_ascii_isdigit (s[run])))
        run++;
      if (run == i)
        return FALSE;
      i = run;
      if (i == len)
        return TRUE;
      if (s[i] == '.')
        i++;
      else if (s[i] == '_')
        i += (i + 1 < len && s[i + 1] == '_') ? 2 : 1;
      else if (s[i] == '-')
        while (i < len && s[i] == '-')
          i++;
      else
        return FALSE;
      if (i == len)
        return FALSE; /* a separator must be followed by alphanumerics */
    }
  return TRUE;
}

static gboolean
domain_component_valid (const char *s, gsize len)
{
  if (len == 0 || !g_ascii_isalnum (s[0]) || !g_ascii_isalnum (s[len - 1]))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isalnum (s[i]) && s[i] != '-')
      return FALSE;
  return TRUE;
}

/* host[:port], host a dotted name (IPv6 literals in brackets too). */
static gboolean
domain_valid (const char *s)
{
  const char *colon;
  const char *host_end;

  if (s[0] == '[')
    {
      const char *close = strchr (s, ']');
      if (close == NULL || close == s + 1)
        return FALSE;
      for (const char *c = s + 1; c < close; c++)
        if (!g_ascii_isxdigit (*c) && *c != ':')
          return FALSE;
      host_end = close + 1;
    }
  else
    {
      colon = strchr (s, ':');
      host_end = colon != NULL ? colon : s + strlen (s);
      for (const char *c = s; c < host_end;)
        {
          const char *dot = memchr (c, '.', (gsize) (host_end - c));
          const char *end = dot != NULL ? dot : host_end;
          if (!domain_component_valid (c, (gsize) (end - c)))
            return FALSE;
          c = dot != NULL ? dot + 1 : host_end;
          if (dot != NULL && c == host_end)
            return FALSE;
        }
    }
  if (*host_end == '\0')
    return TRUE;
  if (*host_end != ':' || host_end[1] == '\0')
    return FALSE;
  for (const char *c = host_end + 1; *c != '\0'; c++)
    if (!g_ascii_isdigit (*c))
      return FALSE;
  return TRUE;
}

static gboolean
tag_valid (const char *s)
{
  gsize len = strlen (s);

  if (len == 0 || len > TAG_MAX_LEN || !(g_ascii_isalnum (s[0]) || s[0] == '_'))
    return FALSE;
  for (gsize i = 1; i < len; i++)
    if (!(g_ascii_isalnum (s[i]) || s[i] == '_' || s[i] == '.' || s[i] == '-'))
      return FALSE;
  return TRUE;
}

/* Splits "name[:tag]" into its parts; the tag's colon is the last one after
 * the last slash (a colon before that belongs to a registry's port). */
static void
split_tag (char *name, char **out_tag)
{
  char *slash = strrchr (name, '/');
  char *colon = strrchr (slash != NULL ? slash : name, ':');

  *out_tag = NULL;
  if (colon != NULL)
    {
      *colon = '\0';
      *out_tag = colon + 1;
    }
}

static gboolean
parse_name (HutchImageRef *ref, const char *text, char *name, GError **error)
{
  char *slash = strchr (name, '/');
  const char *remote = name;

  /* docker: the first component is a registry when it has a dot, a colon,
   * an uppercase letter or is "localhost". */
  if (slash != NULL)
    {
      g_autofree char *first = g_strndup (name, (gsize) (slash - name));
      g_autofree char *lower = g_ascii_strdown (first, -1);
      if (strpbrk (first, ".:") != NULL || strcmp (first, "localhost") == 0
          || strcmp (lower, first) != 0)
        {
          if (!domain_valid (first))
            return fail (error, text, "the registry part is not a valid host[:port]");
          ref->domain = g_steal_pointer (&first);
          remote = slash + 1;
        }
    }
  /* "docker.io/" leaves no repository at all, and the loop below only
   * checks the parts it finds: it took "docker.io/library/" (found by
   * tests/fuzz, regressions/reference). */
  if (*remote == '\0')
    return fail (error, text, "the name ends with '/'");
  if (ref->domain == NULL || strcmp (ref->domain, "index.docker.io") == 0)
    {
      g_free (ref->domain);
      ref->domain = g_strdup ("docker.io");
    }
  for (const char *c = remote; *c != '\0';)
    {
      const char *next = strchr (c, '/');
      gsize len = next != NULL ? (gsize) (next - c) : strlen (c);
      for (gsize i = 0; i < len; i++)
        if (g_ascii_isupper (c[i]))
          return fail (error, text, "repository names must be lowercase");
      if (!path_component_valid (c, len))
        return fail (error, text,
                     "each part of the repository name must be lowercase letters and digits, "
                     "joined by '.', '_', '__' or '-'");
      if (next == NULL)
        break;
      c = next + 1;
      if (*c == '\0')
        return fail (error, text, "the name ends with '/'");
    }
  if (strcmp (ref->domain, "docker.io") == 0 && strchr (remote, '/') == NULL)
    ref->path = g_strconcat ("library/", remote, NULL);
  else
    ref->path = g_strdup (remote);
  if (strlen (ref->domain) + 1 + strlen (ref->path) > NAME_MAX_LEN)
    return fail (error, text, "the name is longer than 255 characters");
  return TRUE;
}

HutchImageRef *
hutch_image_ref_parse (const char *text, GError **error)
{
  g_autoptr (HutchImageRef) ref = g_new0 (HutchImageRef, 1);
  g_autofree char *name = NULL;
  const char *at;
  char *tag = NULL;

  if (text == NULL || *text == '\0')
    return fail (error, "", "the name is empty"), NULL;
  if (strlen (text) == 64 && strspn (text, "0123456789abcdef") == 64)
    return fail (error, text, "a 64-digit hex string is an image ID, not a name"), NULL;
  at = strchr (text, '@');
  if (at != NULL)
    {
      g_autoptr (GError) local = NULL;
      if (!hutch_digest_validate (at + 1, &local))
        return fail (error, text, local->message), NULL;
      ref->digest = g_strdup (at + 1);
      name = g_strndup (text, (gsize) (at - text));
    }
  else
    name = g_strdup (text);
  split_tag (name, &tag);
  if (tag != NULL)
    {
      if (!tag_valid (tag))
        return fail (error, text,
                     "a tag is up to 128 letters, digits, '_', '.' and '-', not starting "
                     "with '.' or '-'"), NULL;
      ref->tag = g_strdup (tag);
    }
  if (*name == '\0')
    return fail (error, text, "the name is empty"), NULL;
  if (!parse_name (ref, text, name, error))
    return NULL;
  if (ref->tag == NULL && ref->digest == NULL)
    ref->tag = g_strdup ("latest");
  return g_steal_pointer (&ref);
}

HutchImageRef *
hutch_image_ref_copy (const HutchImageRef *ref)
{
  HutchImageRef *copy = g_new0 (HutchImageRef, 1);

  copy->domain = g_strdup (ref->domain);
  copy->path = g_strdup (ref->path);
  copy->tag = g_strdup (ref->tag);
  copy->digest = g_strdup (ref->digest);
  return copy;
}

void
hutch_image_ref_free (HutchImageRef *ref)
{
  if (ref == NULL)
    return;
  g_free (ref->domain);
  g_free (ref->path);
  g_free (ref->tag);
  g_free (ref->digest);
  g_free (ref);
}

char *
hutch_image_ref_repository (const HutchImageRef *ref)
{
  return g_strconcat (ref->domain, "/", ref->path, NULL);
}

char *
hutch_image_ref_to_string (const HutchImageRef *ref)
{
  return g_strconcat (ref->domain, "/", ref->path, ref->tag != NULL ? ":" : "",
                      ref->tag != NULL ? ref->tag : "", ref->digest != NULL ? "@" : "",
                      ref->digest != NULL ? ref->digest : "", NULL);
}
