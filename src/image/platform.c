/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Platforms: the host's, parsing "os/arch/variant", and which entry of a
 * multi-platform index runs here. The normalisation and the order of
 * preference follow containerd's platforms package (Normalize, Only), which
 * docker and podman users see every day. */
#include "config.h"

#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#include "image.h"

void
hutch_image_platform_free (HutchPlatform *p)
{
  if (p == NULL)
    return;
  g_free (p->os);
  g_free (p->architecture);
  g_free (p->variant);
  g_free (p);
}

/* containerd normalizeArch: canonical architecture names, and the default
 * variants dropped (amd64/v1, arm64/v8) or filled in (arm → v7). */
static void
replace (char **slot, const char *value)
{
  g_free (*slot);
  *slot = g_strdup (value);
}

static void
normalize (const char *arch_in, const char *variant_in, char **out_arch, char **out_variant)
{
  g_autofree char *arch = g_ascii_strdown (arch_in != NULL ? arch_in : "", -1);
  g_autofree char *variant = g_ascii_strdown (variant_in != NULL ? variant_in : "", -1);

  if (strcmp (arch, "i386") == 0 || strcmp (arch, "i686") == 0)
    {
      replace (&arch, "386");
      replace (&variant, "");
    }
  else if (strcmp (arch, "x86_64") == 0 || strcmp (arch, "x86-64") == 0)
    replace (&arch, "amd64");
  else if (strcmp (arch, "aarch64") == 0)
    replace (&arch, "arm64");
  else if (strcmp (arch, "armhf") == 0)
    {
      replace (&arch, "arm");
      replace (&variant, "v7");
    }
  else if (strcmp (arch, "armel") == 0)
    {
      replace (&arch, "arm");
      replace (&variant, "v6");
    }
  if (strcmp (arch, "amd64") == 0 && strcmp (variant, "v1") == 0)
    replace (&variant, "");
  if (strcmp (arch, "arm64") == 0 && (strcmp (variant, "8") == 0 || strcmp (variant, "v8") == 0))
    replace (&variant, "");
  if (strcmp (arch, "arm") == 0)
    {
      if (*variant == '\0' || strcmp (variant, "7") == 0)
        replace (&variant, "v7");
      else if (strlen (variant) == 1 && strchr ("568", variant[0]) != NULL)
        {
          char *v = g_strconcat ("v", variant, NULL);
          g_free (variant);
          variant = v;
        }
    }
  if (*variant == '\0')
    g_clear_pointer (&variant, g_free);
  *out_arch = g_steal_pointer (&arch);
  *out_variant = g_steal_pointer (&variant);
}

static HutchPlatform *
platform_new (const char *os, const char *arch, const char *variant)
{
  HutchPlatform *p = g_new0 (HutchPlatform, 1);

  p->os = g_ascii_strdown (os != NULL && *os != '\0' ? os : "linux", -1);
  normalize (arch, variant, &p->architecture, &p->variant);
  return p;
}

HutchPlatform *
hutch_image_platform_host (void)
{
  struct utsname u;
  const char *machine = "amd64";

  if (uname (&u) == 0)
    machine = u.machine;
  /* armv7l, armv6l, armv5tel: the digit is the variant. */
  if (g_str_has_prefix (machine, "armv") && g_ascii_isdigit (machine[4]))
    {
      char variant[3] = { 'v', machine[4], '\0' };
      return platform_new ("linux", "arm", variant);
    }
  return platform_new ("linux", machine, NULL);
}

HutchPlatform *
hutch_image_platform_parse (const char *text, GError **error)
{
  g_auto (GStrv) parts = g_strsplit (text, "/", -1);
  guint n = g_strv_length (parts);

  for (guint i = 0; i < n; i++)
    if (*parts[i] == '\0')
      n = 0;
  if (n == 1)
    return platform_new ("linux", parts[0], NULL);
  if (n == 2 || n == 3)
    return platform_new (parts[0], parts[1], n == 3 ? parts[2] : NULL);
  return hutch_throw (error, HUTCH_ERROR_USAGE,
                      "invalid platform \"%s\": use os/arch[/variant], e.g. linux/arm64/v8", text),
         NULL;
}

char *
hutch_image_platform_to_string (const HutchPlatform *p)
{
  return g_strconcat (p->os, "/", p->architecture, p->variant != NULL ? "/" : "",
                      p->variant != NULL ? p->variant : "", NULL);
}

static int
variant_number (const char *variant)
{
  if (variant == NULL || variant[0] != 'v' || !g_ascii_isdigit (variant[1]))
    return -1;
  return atoi (variant + 1);
}

int
hutch_image_platform_rank (const HutchPlatform *want, const HutchPlatform *have_in)
{
  g_autoptr (HutchPlatform) have = platform_new (have_in->os, have_in->architecture,
                                                 have_in->variant);
  int want_v, have_v;

  if (g_strcmp0 (want->os, have->os) != 0)
    return -1;
  if (strcmp (want->architecture, have->architecture) == 0)
    {
      if (g_strcmp0 (want->variant, have->variant) == 0)
        return 0;
      want_v = variant_number (want->variant);
      have_v = variant_number (have->variant);
      /* A newer amd64 level or arm version runs the older ones' binaries. */
      if ((strcmp (want->architecture, "amd64") == 0 && want_v > 1 && have->variant == NULL))
        return want_v - 1;
      if (want_v > 0 && have_v > 0 && have_v < want_v
          && (strcmp (want->architecture, "arm") != 0 || have_v >= 5))
        return want_v - have_v;
      return -1;
    }
  if (strcmp (want->architecture, "amd64") == 0 && strcmp (have->architecture, "386") == 0)
    return 20;
  if (strcmp (want->architecture, "arm64") == 0 && strcmp (have->architecture, "arm") == 0)
    {
      have_v = variant_number (have->variant);
      if (have_v >= 5 && have_v <= 8)
        return 20 + (8 - have_v);
    }
  return -1;
}
