/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image/manifest.c and config.c: image manifests, indexes and manifest
 * lists, and image configs, as a registry or an archive serves them. Each
 * input goes to all three parsers. What parses must hold what the rest of
 * hutch then trusts without looking again: valid digests, sizes within
 * bounds, known media types; and the OCI manifest made for a
 * docker-archive image must parse back to the same layers. */
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
check_descriptor (const HutchDescriptor *d)
{
  if (!hutch_digest_validate (d->digest, NULL))
    hutch_fuzz_fail ("a descriptor with digest \"%s\" was accepted", d->digest);
  if (d->size < 0 || d->size > HUTCH_IMAGE_MAX_BLOB_SIZE)
    hutch_fuzz_fail ("a descriptor of %" G_GINT64_FORMAT " bytes was accepted", d->size);
  if (d->kind != hutch_image_media_kind (d->media_type))
    hutch_fuzz_fail ("descriptor %s: kind and media type disagree", d->digest);
}

static void
check_manifest (const char *json, gsize len)
{
  g_autoptr (HutchManifest) m = hutch_image_manifest_parse (json, len, HUTCH_MEDIA_UNKNOWN, NULL);
  g_autoptr (HutchManifest) again = NULL, oci = NULL;
  g_autoptr (GError) error = NULL;
  g_autofree char *made = NULL;

  if (m == NULL)
    return;
  check_descriptor (m->config);
  for (guint i = 0; i < m->layers->len; i++)
    {
      const HutchDescriptor *d = m->layers->pdata[i];
      check_descriptor (d);
      if (!hutch_image_media_is_layer (d->kind))
        hutch_fuzz_fail ("layer %u of media type \"%s\" was accepted", i, d->media_type);
    }
  /* What a descriptor that names its kind must accept too. */
  again = hutch_image_manifest_parse (json, len, m->kind, &error);
  if (again == NULL)
    hutch_fuzz_fail ("a manifest parsed as kind %d, but not when expected as such: %s", m->kind,
                     error->message);
  made = hutch_image_manifest_to_oci_json (m);
  oci = hutch_image_manifest_parse (made, strlen (made), HUTCH_MEDIA_OCI_MANIFEST, &error);
  if (oci == NULL)
    hutch_fuzz_fail ("the OCI manifest made from a manifest does not parse: %s\n%s",
                     error->message, made);
  if (oci->layers->len != m->layers->len || strcmp (oci->config->digest, m->config->digest) != 0)
    hutch_fuzz_fail ("the OCI manifest made from a manifest names other blobs");
  for (guint i = 0; i < m->layers->len; i++)
    if (strcmp (((HutchDescriptor *) oci->layers->pdata[i])->digest,
                ((HutchDescriptor *) m->layers->pdata[i])->digest) != 0)
      hutch_fuzz_fail ("the OCI manifest made from a manifest has another layer %u", i);
}

static void
check_index (const char *json, gsize len)
{
  g_autoptr (HutchIndex) idx = hutch_image_index_parse (json, len, HUTCH_MEDIA_UNKNOWN, NULL);
  static const char *const wants[] = { "linux/amd64", "linux/arm64/v8", "linux/arm/v6",
                                       "windows/amd64" };
  g_autoptr (HutchPlatform) host = hutch_image_platform_host ();
  g_autoptr (GError) error = NULL;

  if (idx == NULL)
    return;
  for (guint i = 0; i < idx->manifests->len; i++)
    {
      const HutchDescriptor *d = idx->manifests->pdata[i];
      check_descriptor (d);
      if (!hutch_image_media_is_manifest (d->kind) && !hutch_image_media_is_index (d->kind))
        hutch_fuzz_fail ("index entry %u of media type \"%s\" was accepted", i, d->media_type);
      if (d->platform != NULL && (d->platform->os == NULL || d->platform->architecture == NULL))
        hutch_fuzz_fail ("index entry %u has a platform without os or architecture", i);
    }
  {
    g_autoptr (HutchIndex) again = hutch_image_index_parse (json, len, idx->kind, &error);
    if (again == NULL)
      hutch_fuzz_fail ("an index parsed as kind %d, but not when expected as such: %s", idx->kind,
                       error->message);
  }
  for (gsize i = 0; i <= G_N_ELEMENTS (wants); i++)
    {
      g_autoptr (HutchPlatform) want = i < G_N_ELEMENTS (wants)
                                           ? hutch_image_platform_parse (wants[i], NULL) : NULL;
      const HutchDescriptor *d = hutch_image_index_select (idx, want != NULL ? want : host, &error);
      if (d == NULL)
        {
          if (!g_error_matches (error, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND))
            hutch_fuzz_fail ("selecting from an index failed with an unexpected error");
          g_clear_error (&error);
        }
      else if (!hutch_image_media_is_manifest (d->kind) || d->platform == NULL)
        hutch_fuzz_fail ("an index entry without a platform or not a manifest was selected");
    }
}

static void
check_config (const char *json, gsize len)
{
  g_autoptr (HutchImageConfig) c = hutch_image_config_parse (json, len, NULL);
  static const char *const keys[] = { "User", "WorkingDir", "StopSignal", "Cmd" };

  if (c == NULL)
    return;
  if (c->os == NULL || c->architecture == NULL)
    hutch_fuzz_fail ("a config without os or architecture was accepted");
  for (guint i = 0; i < c->diff_ids->len; i++)
    if (!hutch_digest_validate (c->diff_ids->pdata[i], NULL))
      hutch_fuzz_fail ("diff_id \"%s\" was accepted", (char *) c->diff_ids->pdata[i]);
  for (gsize i = 0; i < G_N_ELEMENTS (keys); i++)
    (void) hutch_image_config_get_string (c, keys[i]);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  const char *json = (const char *) data;

  check_manifest (json, size);
  check_index (json, size);
  check_config (json, size);
  return 0;
}
