/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry/auth.c: a WWW-Authenticate value as a registry (any server a
 * user pulls from) sends it. The realm of a Bearer challenge is where
 * hutch then sends the user's credentials, so what it parses to matters
 * as much as not crashing. */
#include "config.h"

#include <string.h>

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
  g_autofree char *value = hutch_fuzz_cstring (data, size);
  g_autoptr (HutchAuthChallenge) c = hutch_auth_challenge_parse (value);

  if (c == NULL)
    return 0;
  if (strcmp (c->scheme, "bearer") != 0 && strcmp (c->scheme, "basic") != 0)
    hutch_fuzz_fail ("a challenge of scheme \"%s\" was accepted", c->scheme);
  if (strcmp (c->scheme, "bearer") == 0 && (c->realm == NULL || c->realm[0] == '\0'))
    hutch_fuzz_fail ("a bearer challenge without a realm was accepted");
  return 0;
}
