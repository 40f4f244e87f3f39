/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* layer/unpack.c and stream.c: a layer blob (plain tar, or gzip or zstd as
 * its first bytes say) unpacked into a fresh directory, as tests/unit/
 * test-layer.c does it: as an ordinary user with owners squashed, no user
 * namespace needed. The layer directory sits beside a canary file in a
 * directory of its own; after each input that directory must hold exactly
 * the two, the canary unchanged, whatever the layer said. Mutations keep
 * tar header checksums right (hutch_fuzz_tar_fix_checksums), or libarchive
 * would refuse nearly every mutated header before our code saw it. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "layer/layer.h"

#define CANARY "canary: outside the layer\n"

static int base_fd = -1; /* the directory holding "layer" and "canary" */

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  g_autofree char *base = NULL, *canary = NULL;

  hutch_fuzz_setup ();
  base = g_build_filename (hutch_fuzz_scratch (), "base", NULL);
  canary = g_build_filename (base, "canary", NULL);
  if (mkdir (base, 0700) < 0 || !g_file_set_contents (canary, CANARY, -1, NULL))
    hutch_fuzz_fail ("setting up %s: %s", base, g_strerror (errno));
  base_fd = open (base, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (base_fd < 0)
    hutch_fuzz_fail ("opening %s: %s", base, g_strerror (errno));
  return 0;
}

size_t
LLVMFuzzerCustomMutator (uint8_t *data, size_t size, size_t max_size, unsigned int seed)
{
  size = LLVMFuzzerMutate (data, size, max_size);
  hutch_fuzz_tar_fix_checksums (data, size);
  return size;
}

typedef struct
{
  const uint8_t *data;
  gsize len;
  gsize pos;
} Input;

/* In pieces of at most 4 KiB, as a download would come. */
static gssize
read_input (gpointer p, void *buf, gsize len, GError **error)
{
  Input *in = p;
  gsize n = MIN (MIN (len, in->len - in->pos), 4096);

  memcpy (buf, in->data + in->pos, n);
  in->pos += n;
  return (gssize) n;
}

/* Nothing but "layer" and "canary" beside each other, the canary as made. */
static void
check_outside (void)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (GPtrArray) names = hutch_util_list_dir_at (base_fd, &error);
  hutch_autofd int fd = -1;
  char buf[64] = { 0 };
  ssize_t n;

  if (names == NULL)
    hutch_fuzz_fail ("listing the scratch directory: %s", error->message);
  for (guint i = 0; i < names->len; i++)
    if (strcmp (names->pdata[i], "layer") != 0 && strcmp (names->pdata[i], "canary") != 0)
      hutch_fuzz_fail ("the layer wrote \"%s\" beside its directory", (char *) names->pdata[i]);
  fd = openat (base_fd, "canary", O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
  n = fd >= 0 ? read (fd, buf, sizeof buf - 1) : -1;
  if (n != (ssize_t) strlen (CANARY) || strcmp (buf, CANARY) != 0)
    hutch_fuzz_fail ("the canary beside the layer changed or went");
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  /* Small caps: a declared 16 GiB file would be a sparse one, but the
   * fuzzer must not fill the disk through many real ones. */
  HutchLayerOptions opts = { "fuzz layer", 64 << 20, 4 << 20, 1, TRUE };
  HutchLayerStats stats;
  Input in = { data, size, 0 };
  g_autoptr (GError) error = NULL;
  hutch_autofd int layer_fd = -1;
  HutchLayerCompression compression = hutch_layer_sniff (data, size);
  gboolean ok;

  if (mkdirat (base_fd, "layer", 0700) < 0)
    hutch_fuzz_fail ("making the layer directory: %s", g_strerror (errno));
  layer_fd = openat (base_fd, "layer", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (layer_fd < 0)
    hutch_fuzz_fail ("opening the layer directory: %s", g_strerror (errno));
  ok = hutch_layer_unpack_from (layer_fd, read_input, &in, compression, &opts, &stats, &error);
  if (!ok && (error == NULL || error->message[0] == '\0'))
    hutch_fuzz_fail ("a layer was refused without a message");
  if (g_getenv ("HUTCH_FUZZ_VERBOSE") != NULL)
    g_printerr ("%s\n", ok ? "unpacked" : error->message);
  if (ok && compression == HUTCH_LAYER_PLAIN)
    {
      /* The diff_id the config is checked against covers every byte. */
      char digest[HUTCH_DIGEST_BUFSIZE];
      hutch_sha256_digest_of (data, size, digest);
      if (strcmp (digest, stats.diff_id) != 0 || stats.bytes != size)
        hutch_fuzz_fail ("a plain layer of %zu bytes got diff_id %s of %" G_GUINT64_FORMAT
                         " bytes, not %s", size, stats.diff_id, stats.bytes, digest);
    }
  else if (ok && !hutch_digest_validate (stats.diff_id, NULL))
    hutch_fuzz_fail ("a layer was unpacked without a diff_id");
  check_outside ();
  hutch_fd_clear (&layer_fd);
  if (!hutch_fuzz_remove_tree_at (base_fd, "layer"))
    hutch_fuzz_fail ("removing the unpacked layer: %s", g_strerror (errno));
  return 0;
}
