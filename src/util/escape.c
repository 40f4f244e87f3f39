/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Paths inside mount option strings: overlayfs splits its options at ','
 * and lowerdir at ':', and takes a backslash as "the next character as
 * is" (Documentation/filesystems/overlayfs.rst, fs/overlayfs/params.c);
 * a store under a directory named "a,b:c" must not become two options or
 * three layers. The same syntax keeps a list of paths in one string. */
#include "config.h"

#include <string.h>

#include "util.h"

char *
hutch_util_option_escape (const char *value)
{
  GString *s = g_string_sized_new (strlen (value) + 8);

  for (const char *c = value; *c != '\0'; c++)
    {
      if (*c == ',' || *c == ':' || *c == '\\')
        g_string_append_c (s, '\\');
      g_string_append_c (s, *c);
    }
  return g_string_free (s, FALSE);
}

char *
hutch_util_list_join (char **items, char sep)
{
  GString *s = g_string_new (NULL);

  for (guint i = 0; items != NULL && items[i] != NULL; i++)
    {
      g_autofree char *escaped = hutch_util_option_escape (items[i]);
      if (i > 0)
        g_string_append_c (s, sep);
      g_string_append (s, escaped);
    }
  return g_string_free (s, FALSE);
}

char **
hutch_util_list_split (const char *text, char sep)
{
  GPtrArray *items = g_ptr_array_new ();
  GString *item = g_string_new (NULL);

  for (const char *c = text; *c != '\0'; c++)
    {
      if (*c == '\\' && c[1] != '\0')
        g_string_append_c (item, *++c);
      else if (*c == sep)
        {
          g_ptr_array_add (items, g_string_free (item, FALSE));
          item = g_string_new (NULL);
        }
      else
        g_string_append_c (item, *c);
    }
  if (*text != '\0')
    g_ptr_array_add (items, g_string_free (item, FALSE));
  else
    g_string_free (item, TRUE);
  g_ptr_array_add (items, NULL);
  return (char **) g_ptr_array_free (items, FALSE);
}
