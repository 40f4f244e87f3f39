/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* archive/docker.c and oci.c: the archive's own list of images. The input
 * is a docker-archive's manifest.json, or (when it is a JSON object) an
 * oci-archive's index.json; it is put into a tarball beside the fixed
 * members below, and loaded as hutch load loads one. The members give the
 * names and digests in the input something to resolve to: a config, a
 * layer, an image manifest and an index (under blobs/sha256/ too),
 * symlinks inside and outside the archive, a link loop, a hard link.
 * tests/fuzz/corpus/archive-manifest/ names them; their digests there are
 * those of the contents below, so change both together. */
#include "config.h"

#include <string.h>

#include "fuzz-archive.h"
#include "image/image.h"

static GByteArray *members; /* the fixed part of every tarball */

#define LAYER_FILE "fuzz\n"

static char *
blob_name (const char *digest)
{
  return g_strconcat ("blobs/sha256/", digest + 7, NULL);
}

static void
add_file (const char *name, const char *data, gsize len)
{
  hutch_fuzz_tar_add (members, name, '0', NULL, data, len);
}

/* Writes the fixed members, and with HUTCH_FUZZ_PRINT_DIGESTS set prints
 * their digests (for writing seeds). */
static void
make_members (void)
{
  g_autoptr (GByteArray) layer = g_byte_array_new ();
  char layer_digest[HUTCH_DIGEST_BUFSIZE], config_digest[HUTCH_DIGEST_BUFSIZE];
  char manifest_digest[HUTCH_DIGEST_BUFSIZE], index_digest[HUTCH_DIGEST_BUFSIZE];
  g_autofree char *config = NULL, *manifest = NULL, *index = NULL;
  g_autofree char *n1 = NULL, *n2 = NULL, *n3 = NULL, *n4 = NULL;

  hutch_fuzz_tar_add (layer, "etc/", '5', NULL, NULL, 0);
  hutch_fuzz_tar_add (layer, "etc/hostname", '0', NULL, LAYER_FILE, strlen (LAYER_FILE));
  hutch_fuzz_tar_end (layer);
  hutch_sha256_digest_of (layer->data, layer->len, layer_digest);
  config = g_strdup_printf ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Cmd\":"
                            "[\"sh\"]},\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"%s\"]}}",
                            layer_digest);
  hutch_sha256_digest_of (config, strlen (config), config_digest);
  manifest = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_MANIFEST "\","
      "\"config\":{\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_CONFIG "\",\"digest\":\"%s\","
      "\"size\":%zu},\"layers\":[{\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_LAYER "\","
      "\"digest\":\"%s\",\"size\":%u}]}",
      config_digest, strlen (config), layer_digest, layer->len);
  hutch_sha256_digest_of (manifest, strlen (manifest), manifest_digest);
  index = g_strdup_printf (
      "{\"schemaVersion\":2,\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_INDEX "\",\"manifests\":["
      "{\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"amd64\"}},"
      "{\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_MANIFEST "\",\"digest\":\"%s\",\"size\":%zu,"
      "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm64\",\"variant\":\"v8\"}}]}",
      manifest_digest, strlen (manifest), manifest_digest, strlen (manifest));
  hutch_sha256_digest_of (index, strlen (index), index_digest);

  members = g_byte_array_new ();
  hutch_fuzz_tar_add (members, "oci-layout", '0', NULL, "{\"imageLayoutVersion\":\"1.0.0\"}", 30);
  hutch_fuzz_tar_add (members, "blobs/", '5', NULL, NULL, 0);
  add_file ((n1 = blob_name (layer_digest)), (const char *) layer->data, layer->len);
  add_file ((n2 = blob_name (config_digest)), config, strlen (config));
  add_file ((n3 = blob_name (manifest_digest)), manifest, strlen (manifest));
  add_file ((n4 = blob_name (index_digest)), index, strlen (index));
  add_file ("config.json", config, strlen (config));
  add_file ("layer.tar", (const char *) layer->data, layer->len);
  add_file ("repositories", "{}", 2);
  add_file ("notjson", "not json", 8);
  hutch_fuzz_tar_add (members, "abc/", '5', NULL, NULL, 0);
  hutch_fuzz_tar_add (members, "abc/layer.tar", '2', "../layer.tar", NULL, 0);
  hutch_fuzz_tar_add (members, "abc/json", '2', "../config.json", NULL, 0);
  hutch_fuzz_tar_add (members, "up.tar", '2', "../outside.tar", NULL, 0);
  hutch_fuzz_tar_add (members, "abs.tar", '2', "/etc/passwd", NULL, 0);
  hutch_fuzz_tar_add (members, "loop-a", '2', "loop-b", NULL, 0);
  hutch_fuzz_tar_add (members, "loop-b", '2', "loop-a", NULL, 0);
  hutch_fuzz_tar_add (members, "hard.tar", '1', "layer.tar", NULL, 0);
  hutch_fuzz_tar_add (members, "hard-dir", '1', "abc", NULL, 0);
  if (g_getenv ("HUTCH_FUZZ_PRINT_DIGESTS") != NULL)
    g_printerr ("layer %s %u\nconfig %s %zu\nmanifest %s %zu\nindex %s %zu\n", layer_digest,
                layer->len, config_digest, strlen (config), manifest_digest, strlen (manifest),
                index_digest, strlen (index));
}

int
LLVMFuzzerInitialize (int *argc, char ***argv)
{
  hutch_fuzz_setup ();
  hutch_fuzz_archive_setup ();
  make_members ();
  return 0;
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr (GByteArray) tar = g_byte_array_sized_new (members->len + (guint) size + 2048);
  gsize skip = 0;

  while (skip < size && g_ascii_isspace (data[skip]))
    skip++;
  g_byte_array_append (tar, members->data, members->len);
  hutch_fuzz_tar_add (tar, skip < size && data[skip] == '{' ? "index.json" : "manifest.json", '0',
                      NULL, data, size);
  hutch_fuzz_tar_end (tar);
  hutch_fuzz_archive_load (tar->data, tar->len);
  return 0;
}
