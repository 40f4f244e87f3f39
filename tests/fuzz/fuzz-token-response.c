/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry/client.c: the answer of a registry's token service (any server
 * a Bearer challenge names), a JSON object with the token and how long it
 * lasts. A token taken must be a non-empty string, used for a time that
 * is positive and at most a day. */
#include "config.h"

#include "fuzz-common.h"
#include "registry/registry-private.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *token = NULL;
  gint64 lifetime;

  if (!hutch_registry_token_parse ((const char *) data, size, &token, &lifetime, &error))
    {
      if (error == NULL || token != NULL)
        hutch_fuzz_fail ("a refused answer without an error, or with a token");
      return 0;
    }
  if (token != NULL
      && (token[0] == '\0' || lifetime <= 0 || lifetime > (gint64) 24 * 3600 * G_USEC_PER_SEC))
    hutch_fuzz_fail ("token \"%s\" taken for %" G_GINT64_FORMAT " µs", token, lifetime);
  return 0;
}
