/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image/reference.c (names from the command line, RepoTags of a
 * docker-archive, ref.name annotations of an oci-archive) and platform.c
 * (--platform): a reference written out must parse again to itself, so
 * that a name stored in the index means the image it named. */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "image/image.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  return 0;
}

static void
check_reference (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (text, &error);
  g_autoptr (HutchImageRef) again = NULL, copy = NULL;
  g_autofree char *s = NULL, *s2 = NULL, *repo = NULL;

  if (ref == NULL)
    {
      if (error == NULL || !g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_USAGE))
        hutch_fuzz_fail ("a refused reference without a usage error");
      return;
    }
  if (ref->domain == NULL || ref->path == NULL || (ref->tag == NULL && ref->digest == NULL))
    hutch_fuzz_fail ("reference \"%s\" parsed without a domain, path, or tag or digest", text);
  s = hutch_image_ref_to_string (ref);
  again = hutch_image_ref_parse (s, &error);
  if (again == NULL)
    hutch_fuzz_fail ("\"%s\" parsed as \"%s\", which does not parse: %s", text, s, error->message);
  s2 = hutch_image_ref_to_string (again);
  if (strcmp (s, s2) != 0)
    hutch_fuzz_fail ("\"%s\" parsed as \"%s\", which parses as \"%s\"", text, s, s2);
  copy = hutch_image_ref_copy (ref);
  repo = hutch_image_ref_repository (copy);
  if (!g_str_has_prefix (s, repo))
    hutch_fuzz_fail ("\"%s\": repository \"%s\" is not the start of \"%s\"", text, repo, s);
}

static void
check_platform (const char *text)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchPlatform) p = hutch_image_platform_parse (text, &error);
  g_autoptr (HutchPlatform) host = hutch_image_platform_host ();
  g_autofree char *s = NULL;

  if (p == NULL)
    return;
  s = hutch_image_platform_to_string (p);
  if (hutch_image_platform_rank (p, p) != 0)
    hutch_fuzz_fail ("platform \"%s\" (%s) does not run its own images", text, s);
  (void) hutch_image_platform_rank (host, p);
  (void) hutch_image_platform_rank (p, host);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *text = hutch_fuzz_cstring (data, size);

  check_reference (text);
  check_platform (text);
  return 0;
}
