/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/template*.c, the Go templates of --format: a template is what a
 * user (or a script someone handed them) types, run over a row of ours.
 * The input is the template, then a NUL, then the row as JSON (a fixed
 * row when there is none). Whatever parses must run to an output or to a
 * hutch error, within the nesting and output limits, never past them. */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "util/util.h"

/* A row as `ps --format` and `images --format` give one. */
static const char default_row[] =
  "{\"ID\":\"0123456789ab\",\"Names\":[\"web\",\"db\"],\"Image\":\"busybox\","
  "\"Labels\":{\"a\":\"1\",\"b\":\"\"},\"Size\":12345,\"Ratio\":0.5,\"Up\":true,"
  "\"Ports\":null,\"Mounts\":[{\"Source\":\"/x\",\"Destination\":\"/y\"}]}";

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const uint8_t *nul = memchr (data, '\0', size);
  gsize text_len = nul != NULL ? (gsize) (nul - data) : size;
  g_autofree char *text = g_strndup ((const char *) data, text_len);
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchTemplate) t = NULL;
  g_autoptr (HutchJsonNode) row = NULL;
  g_autoptr (GString) out = g_string_new (NULL);

  if (nul != NULL)
    row = hutch_json_parse ((const char *) nul + 1, size - text_len - 1, NULL);
  if (row == NULL)
    row = hutch_json_parse (default_row, strlen (default_row), NULL);
  if (row == NULL)
    hutch_fuzz_fail ("the default row does not parse");

  t = hutch_template_parse (text, &error);
  if (t == NULL)
    {
      if (error == NULL || error->domain != HUTCH_ERROR || error->message[0] == '\0')
        hutch_fuzz_fail ("a refused template without a hutch error");
      return 0;
    }
  if (!hutch_template_execute (t, row, out, &error))
    {
      if (error == NULL || error->domain != HUTCH_ERROR || error->message[0] == '\0')
        hutch_fuzz_fail ("a failed run without a hutch error");
    }
  else if (error != NULL)
    hutch_fuzz_fail ("a run that worked and set an error");
  return 0;
}
