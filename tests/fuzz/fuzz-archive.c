/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* See fuzz-archive.h. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "fuzz-archive.h"
#include "archive/archive-private.h"

static HutchStore *store;
static HutchPlatform *platform;
static int tar_fd = -1;   /* a memfd holding the tarball of the current input */
static char *tar_path;    /* /proc/self/fd/N: opened as hutch load opens a file */

void
hutch_fuzz_archive_setup (void)
{
  g_autofree char *root = g_build_filename (hutch_fuzz_scratch (), "store", NULL);
  g_autoptr (GError) error = NULL;

  store = hutch_store_open (root, TRUE, &error);
  if (store == NULL)
    hutch_fuzz_fail ("opening a scratch store: %s", error->message);
  /* amd64 whatever the machine: the seeds' indexes list it */
  platform = hutch_image_platform_parse ("linux/amd64", NULL);
  tar_fd = memfd_create ("hutch-fuzz-archive", MFD_CLOEXEC);
  if (tar_fd < 0)
    hutch_fuzz_fail ("memfd_create: %s", g_strerror (errno));
  tar_path = g_strdup_printf ("/proc/self/fd/%d", tar_fd);
}

void
hutch_fuzz_archive_load (const void *tar, gsize len)
{
  g_autoptr (GError) error = NULL;
  Load load;
  gboolean ok;

  if (ftruncate (tar_fd, 0) < 0 || (len > 0 && pwrite (tar_fd, tar, len, 0) != (ssize_t) len))
    hutch_fuzz_fail ("writing the memfd: %s", g_strerror (errno));
  hutch_archive_load_init (&load, store, "fuzz archive", platform, 64 << 20);
  ok = hutch_archive_read_and_import (&load, tar_path, HUTCH_ARCHIVE_AUTO, &error);
  if (!ok && (error == NULL || error->message[0] == '\0'))
    hutch_fuzz_fail ("an archive was refused without a message");
  if (g_getenv ("HUTCH_FUZZ_VERBOSE") != NULL)
    g_printerr ("%s\n", ok ? "loaded" : error->message);
  if (ok && load.adds->len == 0)
    hutch_fuzz_fail ("an archive was accepted with no image in it");
  for (guint i = 0; i < load.created->len; i++)
    if (!hutch_store_blob_exists (store, load.created->pdata[i]))
      hutch_fuzz_fail ("blob %s was recorded as made, but is not in the store",
                       (char *) load.created->pdata[i]);
  g_clear_error (&error);
  /* The next input starts from an empty store again. */
  if (!hutch_store_delete_unreferenced (store, load.created, &error))
    hutch_fuzz_fail ("deleting this input's blobs: %s", error->message);
  hutch_archive_load_clear (&load);
}
