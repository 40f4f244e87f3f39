/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* util/json.c, the strict parser every image, archive and auth file goes
 * through, and json-writer.c behind it: whatever parses must write out as
 * JSON that parses again, and writing that must give the same text (the
 * auth files are rewritten this way by hutch login and logout). */
#include "config.h"

#include <string.h>

#include "fuzz-common.h"
#include "util/util.h"

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  return 0;
}

static char *
write_out (const HutchJsonNode *node, gboolean pretty)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (pretty);

  hutch_json_write_node (w, node);
  return hutch_json_writer_finish (w);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchJsonNode) root = hutch_json_parse ((const char *) data, size, &error);
  g_autoptr (HutchJsonNode) again = NULL;
  g_autofree char *text = NULL, *text2 = NULL, *pretty = NULL;

  if (root == NULL)
    {
      if (error == NULL || error->domain != HUTCH_ERROR || error->message[0] == '\0')
        hutch_fuzz_fail ("a refused document without a hutch error");
      return 0;
    }
  if (error != NULL)
    hutch_fuzz_fail ("a parsed document with an error set");
  text = write_out (root, FALSE);
  again = hutch_json_parse (text, strlen (text), &error);
  if (again == NULL)
    hutch_fuzz_fail ("what the writer made does not parse: %s\n%s", error->message, text);
  text2 = write_out (again, FALSE);
  if (strcmp (text, text2) != 0)
    hutch_fuzz_fail ("writing a document twice gave two texts:\n%s\n%s", text, text2);
  pretty = write_out (root, TRUE);
  g_clear_pointer (&again, hutch_json_node_free);
  again = hutch_json_parse (pretty, strlen (pretty), &error);
  if (again == NULL)
    hutch_fuzz_fail ("the pretty form does not parse: %s\n%s", error->message, pretty);
  for (guint i = 0; root->type == HUTCH_JSON_OBJECT && i < root->n_members; i++)
    if (hutch_json_node_member (root, root->keys[i]) != root->members[i])
      hutch_fuzz_fail ("member \"%s\" is not found as itself", root->keys[i]);
  return 0;
}
