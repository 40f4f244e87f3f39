/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* container/spec.c: a container's config.json, the OCI runtime config hutch
 * writes when it creates a container and reads back on every start, exec
 * and limits check (a file in the user's own store, which anything running
 * as the user may rewrite). What reads back must write out and read back
 * again. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "fuzz-common.h"
#include "container/container-private.h"

static char *dir_in, *dir_out, *path_in;
/* Not in config.json's reading: create gives it, as the mapping of now. */
static HutchIdMap idmap;

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  dir_in = g_build_filename (hutch_fuzz_scratch (), "in", NULL);
  dir_out = g_build_filename (hutch_fuzz_scratch (), "out", NULL);
  path_in = g_build_filename (dir_in, "config.json", NULL);
  if (mkdir (dir_in, 0700) < 0 || mkdir (dir_out, 0700) < 0)
    hutch_fuzz_fail ("making %s: %s", dir_in, g_strerror (errno));
  idmap.uid = 1000;
  idmap.gid = 1000;
  idmap.uid_ranges = g_array_new (FALSE, FALSE, sizeof (HutchIdRange));
  idmap.gid_ranges = g_array_new (FALSE, FALSE, sizeof (HutchIdRange));
  g_array_append_val (idmap.uid_ranges, ((HutchIdRange){ 100000, 65536 }));
  g_array_append_val (idmap.gid_ranges, ((HutchIdRange){ 100000, 65536 }));
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GError) error = NULL;
  HutchSandboxSpec spec = { 0 }, again = { 0 };
  HutchCgroupLimits limits = { 0 }, limits_again = { 0 };
  gboolean spec_ok, limits_ok;

  if (!g_file_set_contents (path_in, (const char *) data, (gssize) size, &error))
    hutch_fuzz_fail ("writing %s: %s", path_in, error->message);
  spec_ok = hutch_container_spec_read (dir_in, &spec, NULL);
  limits_ok = hutch_container_limits_read (dir_in, &limits, NULL);
  if (limits_ok)
    {
      g_autofree char *what = hutch_cgroup_limits_describe (&limits);
      if (hutch_cgroup_limits_any (&limits) && (what == NULL || what[0] == '\0'))
        hutch_fuzz_fail ("limits were asked for, but describe says none");
      (void) hutch_cgroup_limits_validate (&limits, NULL);
    }
  if (spec_ok && limits_ok)
    {
      spec.idmap = &idmap;
      if (!hutch_container_spec_write (dir_out, &spec, &limits, FALSE, &error))
        hutch_fuzz_fail ("a config.json read could not be written back: %s", error->message);
      if (!hutch_container_spec_read (dir_out, &again, &error)
          || !hutch_container_limits_read (dir_out, &limits_again, &error))
        hutch_fuzz_fail ("a config.json written back does not read: %s", error->message);
    }
  hutch_container_spec_clear (&spec);
  hutch_container_spec_clear (&again);
  hutch_cgroup_limits_clear (&limits);
  hutch_cgroup_limits_clear (&limits_again);
  return 0;
}
