/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* sandbox/ through its headers: the id map lines, default and keep-id, and
 * as written from the user's namespace holder. */
#include "config.h"

#include "sandbox/sandbox-private.h"

static HutchIdMap *
map_new (guint32 uid, const HutchIdRange *ranges, guint n)
{
  HutchIdMap *map = g_new0 (HutchIdMap, 1);

  map->uid = uid;
  map->gid = uid;
  map->uid_ranges = g_array_new (FALSE, FALSE, sizeof (HutchIdRange));
  map->gid_ranges = g_array_new (FALSE, FALSE, sizeof (HutchIdRange));
  g_array_append_vals (map->uid_ranges, ranges, n);
  g_array_append_vals (map->gid_ranges, ranges, n);
  map->single = n == 0;
  return map;
}

static char *
lines_text (const HutchIdMap *map)
{
  g_autoptr (GArray) lines = hutch_sandbox_idmap_lines (map, FALSE);
  GString *s = g_string_new (NULL);

  for (guint i = 0; i < lines->len; i++)
    {
      const HutchIdMapLine *l = &g_array_index (lines, HutchIdMapLine, i);
      g_string_append_printf (s, "%s%u %u %u", i ? ";" : "", l->inside, l->outside, l->count);
    }
  return g_string_free (s, FALSE);
}

static void
test_idmap_lines (void)
{
  const HutchIdRange one[] = { { 100000, 65536 } };
  const HutchIdRange two[] = { { 100000, 500 }, { 300000, 65536 } };
  const HutchIdRange few[] = { { 100000, 100 } };
  g_autoptr (HutchIdMap) m = map_new (1000, one, 1);
  g_autofree char *t1 = lines_text (m);
  g_autofree char *t2 = NULL, *t3 = NULL, *t4 = NULL, *t5 = NULL;
  g_autoptr (HutchIdMap) m2 = map_new (1000, two, 2);
  g_autoptr (HutchIdMap) m3 = map_new (1000, few, 1);
  g_autoptr (HutchIdMap) m4 = map_new (1000, NULL, 0);

  g_assert_cmpstr (t1, ==, "0 1000 1;1 100000 65536");
  g_assert_cmpuint (hutch_sandbox_idmap_size (m), ==, 65537);
  hutch_sandbox_idmap_set_keep_id (m);
  t2 = lines_text (m);
  g_assert_cmpstr (t2, ==, "0 100000 1000;1000 1000 1;1001 101000 64536");
  g_assert_true (hutch_sandbox_idmap_contains (m, FALSE, 0));
  g_assert_true (hutch_sandbox_idmap_contains (m, FALSE, 65536));
  g_assert_false (hutch_sandbox_idmap_contains (m, FALSE, 65537));
  /* the cut falls in the second range */
  hutch_sandbox_idmap_set_keep_id (m2);
  t3 = lines_text (m2);
  g_assert_cmpstr (t3, ==, "0 100000 500;500 300000 500;1000 1000 1;1001 300500 65036");
  /* fewer subordinate ids than the uid: a gap below the user */
  hutch_sandbox_idmap_set_keep_id (m3);
  t4 = lines_text (m3);
  g_assert_cmpstr (t4, ==, "0 100000 100;1000 1000 1");
  g_assert_false (hutch_sandbox_idmap_contains (m3, FALSE, 500));
  g_assert_cmpuint (hutch_sandbox_idmap_size (m3), ==, 1001);
  /* single: the user alone, at its own id */
  hutch_sandbox_idmap_set_keep_id (m4);
  t5 = lines_text (m4);
  g_assert_cmpstr (t5, ==, "1000 1000 1");
}

/* A container's map as the holder's namespace sees it: the holder maps
 * the user's default lines; the container's are translated into its ids. */
static void
test_idmap_nest (void)
{
  const HutchIdRange one[] = { { 100000, 65536 } };
  const HutchIdRange two[] = { { 100000, 500 }, { 300000, 65536 } };
  const HutchIdRange other[] = { { 200000, 65536 } };
  g_autoptr (HutchIdMap) user = map_new (1000, one, 1);
  g_autoptr (HutchIdMap) ctr = map_new (1000, one, 1);
  g_autoptr (HutchIdMap) user2 = map_new (1000, two, 2);
  g_autoptr (HutchIdMap) ctr2 = map_new (1000, two, 2);
  g_autoptr (HutchIdMap) foreign = map_new (1000, other, 1);
  g_autofree char *same = hutch_sandbox_idmap_nest_text (ctr, user, FALSE);
  g_autofree char *keep = NULL, *split = NULL, *none = NULL;

  /* the default map in the holder's: the identity */
  g_assert_cmpstr (same, ==, "0 0 1\n1 1 65536\n");
  /* keep-id: the user (holder's 0) at 1000, subordinate ids around it */
  hutch_sandbox_idmap_set_keep_id (ctr);
  keep = hutch_sandbox_idmap_nest_text (ctr, user, TRUE);
  g_assert_cmpstr (keep, ==, "0 1 1000\n1000 0 1\n1001 1001 64536\n");
  /* two ranges: a container line that crosses from one to the next */
  hutch_sandbox_idmap_set_keep_id (ctr2);
  split = hutch_sandbox_idmap_nest_text (ctr2, user2, FALSE);
  g_assert_cmpstr (split, ==, "0 1 500\n500 501 500\n1000 0 1\n1001 1001 65036\n");
  /* ids the holder does not have: not nested */
  none = hutch_sandbox_idmap_nest_text (foreign, user, FALSE);
  g_assert_null (none);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/sandbox/idmap/lines", test_idmap_lines);
  g_test_add_func ("/sandbox/idmap/nest", test_idmap_nest);
  return g_test_run ();
}
