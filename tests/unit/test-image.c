/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image/ and the strict JSON reader under it: what is accepted, what is
 * refused and with which words, for references, platforms, manifests,
 * indexes and configs. */
#include "config.h"

#include <string.h>

#include "image/image.h"

#define DIGEST_A "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
#define DIGEST_B "sha256:bbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbbb"

static void
assert_json_refused (const char *text, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchJsonNode) n = hutch_json_parse (text, strlen (text), &error);

  g_assert_null (n);
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_INVALID_IMAGE);
  if (strstr (error->message, fragment) == NULL)
    g_error ("parsing %s: message \"%s\" lacks \"%s\"", text, error->message, fragment);
}

static void
test_json_accepts (void)
{
  const char *text = "{\"a\": [1, -2.5e3, true, false, null, \"x\\u00e9\\ud83d\\ude00\\n\"],"
                     " \"big\": 1099511627776, \"b\": {}}";
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchJsonNode) n = hutch_json_parse (text, strlen (text), &error);
  const HutchJsonNode *a, *big;

  g_assert_no_error (error);
  a = hutch_json_node_member (n, "a");
  g_assert_nonnull (a);
  g_assert_cmpuint (a->n_members, ==, 6);
  g_assert_true (a->members[0]->is_int);
  g_assert_cmpint (a->members[0]->integer, ==, 1);
  g_assert_false (a->members[1]->is_int);
  g_assert_cmpfloat (a->members[1]->number, ==, -2500.0);
  g_assert_cmpstr (a->members[5]->string, ==, "x\xc3\xa9\xf0\x9f\x98\x80\n");
  big = hutch_json_node_member (n, "big");
  g_assert_cmpint (big->integer, ==, G_GINT64_CONSTANT (1099511627776));
  g_assert_null (hutch_json_node_member (n, "missing"));
}

static void
test_json_refuses (void)
{
  g_autoptr (GString) s = g_string_new (NULL);

  assert_json_refused ("{\"a\": 1, \"b\": 2, \"a\": 3}", "duplicate key \"a\"");
  assert_json_refused ("{\"a\": {\"x\": 1, \"x\": 1}}", "duplicate key \"x\"");
  assert_json_refused ("{\"a\": 1,}", "expected a string key");
  assert_json_refused ("[1, 2", "expected ',' or ']'");
  assert_json_refused ("{\"a\": 01}", "expected ',' or '}'");
  assert_json_refused ("01", "trailing data");
  assert_json_refused ("{\"a\": 1} x", "trailing data");
  assert_json_refused ("{\"a\": .5}", "invalid number");
  assert_json_refused ("{\"a\": 'x'}", "invalid number");
  assert_json_refused ("\"\\u0000\"", "\\u0000");
  assert_json_refused ("\"\\ud800\"", "surrogate");
  assert_json_refused ("\"\\udc00\"", "surrogate");
  assert_json_refused ("\"\xff\"", "UTF-8");
  assert_json_refused ("\"a\tb\"", "control character");
  assert_json_refused ("\"abc", "unterminated");
  assert_json_refused ("tru", "unexpected character");
  assert_json_refused ("", "unexpected end");
  {
    const char with_nul[] = "{\"a\": 1}\0";
    g_autoptr (GError) error = NULL;
    g_assert_null (hutch_json_parse (with_nul, sizeof with_nul - 1, &error));
    g_assert_nonnull (strstr (error->message, "NUL"));
  }
  for (int i = 0; i < HUTCH_JSON_MAX_DEPTH + 1; i++)
    g_string_append_c (s, '[');
  for (int i = 0; i < HUTCH_JSON_MAX_DEPTH + 1; i++)
    g_string_append_c (s, ']');
  assert_json_refused (s->str, "nested too deeply");
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *huge = g_malloc0 (HUTCH_JSON_MAX_SIZE + 1);
    g_assert_null (hutch_json_parse (huge, HUTCH_JSON_MAX_SIZE + 1, &error));
    g_assert_nonnull (strstr (error->message, "limit"));
  }
}

static void
test_json_round_trip (void)
{
  const char *text = "{\"b\":[1,2.5,\"s\",null,true],\"a\":{}}";
  g_autoptr (HutchJsonNode) n = hutch_json_parse (text, strlen (text), NULL);
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);
  g_autofree char *out = NULL;

  hutch_json_write_node (w, n);
  out = hutch_json_writer_finish (w);
  g_assert_cmpstr (out, ==, text);
}

static void
test_digest (void)
{
  g_autoptr (GError) error = NULL;
  char d[HUTCH_DIGEST_BUFSIZE];

  g_assert_true (hutch_digest_validate (DIGEST_A, NULL));
  g_assert_false (hutch_digest_validate ("sha256:AAAA", NULL));
  g_assert_false (hutch_digest_validate (DIGEST_A "a", NULL));
  g_assert_false (hutch_digest_validate ("sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaA",
                                         NULL));
  g_assert_false (hutch_digest_validate ("sha512:aa", &error));
  g_assert_nonnull (strstr (error->message, "only sha256"));
  hutch_sha256_digest_of ("abc", 3, d);
  g_assert_cmpstr (d, ==, "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

static void
test_reference (void)
{
  static const struct
  {
    const char *in, *out;
  } good[] = {
    { "busybox", "docker.io/library/busybox:latest" },
    { "busybox:1.36", "docker.io/library/busybox:1.36" },
    { "library/busybox", "docker.io/library/busybox:latest" },
    { "user/app", "docker.io/user/app:latest" },
    { "index.docker.io/user/app", "docker.io/user/app:latest" },
    { "docker.io/busybox", "docker.io/library/busybox:latest" },
    { "localhost/app", "localhost/app:latest" },
    { "localhost:5000/a/b:tag", "localhost:5000/a/b:tag" },
    { "quay.io/a/b/c:v1.2_3-x", "quay.io/a/b/c:v1.2_3-x" },
    { "registry.example.com:443/a__b/c-d.e", "registry.example.com:443/a__b/c-d.e:latest" },
    { "busybox@" DIGEST_A, "docker.io/library/busybox@" DIGEST_A },
    { "busybox:1@" DIGEST_A, "docker.io/library/busybox:1@" DIGEST_A },
    { "[::1]:5000/app", "[::1]:5000/app:latest" },
  };
  static const struct
  {
    const char *in, *fragment;
  } bad[] = {
    { "", "empty" },
    { "Busybox", "lowercase" },
    { "user/App", "lowercase" },
    { "busybox:", "a tag is" },
    { "busybox:-x", "a tag is" },
    { "busybox@sha256:abc", "sha256" },
    { "busybox@md5:abc", "only sha256" },
    { "a//b", "each part" },
    { "a/", "ends with" },
    { "docker.io/", "ends with" },
    { "localhost:5000/:tag", "ends with" },
    { "-a", "each part" },
    { "a..b", "each part" },
    { "a_", "each part" },
    { "bad_host.com:x/a", "host" },
    { "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "image ID" },
  };
  g_autofree char *long_name = g_strnfill (260, 'a');

  for (gsize i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (good[i].in, &error);
      g_autofree char *s = NULL;
      g_assert_no_error (error);
      s = hutch_image_ref_to_string (ref);
      g_assert_cmpstr (s, ==, good[i].out);
    }
  for (gsize i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autoptr (HutchImageRef) ref = hutch_image_ref_parse (bad[i].in, &error);
      if (ref != NULL)
        g_error ("\"%s\" was accepted", bad[i].in);
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
      if (strstr (error->message, bad[i].fragment) == NULL)
        g_error ("\"%s\": message \"%s\" lacks \"%s\"", bad[i].in, error->message, bad[i].fragment);
    }
  {
    g_autoptr (GError) error = NULL;
    g_assert_null (hutch_image_ref_parse (long_name, &error));
    g_assert_nonnull (strstr (error->message, "255"));
  }
}

static int
rank (const char *want, const char *have)
{
  g_autoptr (HutchPlatform) w = hutch_image_platform_parse (want, NULL);
  g_autoptr (HutchPlatform) h = hutch_image_platform_parse (have, NULL);
  return hutch_image_platform_rank (w, h);
}

static void
test_platform (void)
{
  g_autoptr (HutchPlatform) host = hutch_image_platform_host ();
  g_autoptr (HutchPlatform) p = hutch_image_platform_parse ("aarch64", NULL);
  g_autofree char *s = hutch_image_platform_to_string (p);

  g_assert_cmpstr (s, ==, "linux/arm64");
  g_assert_cmpstr (host->os, ==, "linux");
  g_assert_nonnull (host->architecture);
  g_assert_cmpint (rank ("linux/amd64", "linux/amd64"), ==, 0);
  g_assert_cmpint (rank ("linux/amd64", "linux/x86_64"), ==, 0);
  g_assert_cmpint (rank ("linux/amd64", "linux/amd64/v1"), ==, 0);
  g_assert_cmpint (rank ("linux/amd64", "linux/386"), >, 0);
  g_assert_cmpint (rank ("linux/amd64", "linux/arm64"), ==, -1);
  g_assert_cmpint (rank ("linux/amd64", "windows/amd64"), ==, -1);
  /* arm64 runs arm64 (v8 is the default variant), then 32-bit arm v8..v5 */
  g_assert_cmpint (rank ("linux/arm64", "linux/arm64/v8"), ==, 0);
  g_assert_cmpint (rank ("linux/arm64/v8", "linux/arm64"), ==, 0);
  g_assert_cmpint (rank ("linux/arm64", "linux/arm/v7"), >, 0);
  g_assert_cmpint (rank ("linux/arm64", "linux/arm/v7"), <, rank ("linux/arm64", "linux/arm/v5"));
  /* arm/v7 runs v7, v6, v5 but not v8; "arm" means v7 */
  g_assert_cmpint (rank ("linux/arm/v7", "linux/arm"), ==, 0);
  g_assert_cmpint (rank ("linux/arm/v7", "linux/arm/v6"), ==, 1);
  g_assert_cmpint (rank ("linux/arm/v7", "linux/arm/v8"), ==, -1);
  g_assert_cmpint (rank ("linux/arm/v6", "linux/arm/v7"), ==, -1);
  g_assert_cmpint (rank ("linux/armhf", "linux/arm/v7"), ==, 0);
  g_assert_null (hutch_image_platform_parse ("linux//v7", NULL));
  g_assert_null (hutch_image_platform_parse ("a/b/c/d", NULL));
}

#define LAYER(type, digest, size) \
  "{\"mediaType\":\"" type "\",\"digest\":\"" digest "\",\"size\":" size "}"
#define MANIFEST(layers) \
  "{\"schemaVersion\":2,\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_MANIFEST "\",\"config\":" \
  LAYER (HUTCH_MEDIA_TYPE_OCI_CONFIG, DIGEST_A, "100") ",\"layers\":[" layers "]}"

static void
assert_manifest_refused (const char *text, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchManifest) m = hutch_image_manifest_parse (text, strlen (text),
                                                            HUTCH_MEDIA_UNKNOWN, &error);
  g_assert_null (m);
  if (strstr (error->message, fragment) == NULL)
    g_error ("%s: message \"%s\" lacks \"%s\"", text, error->message, fragment);
}

static void
test_manifest (void)
{
  const char *good = MANIFEST (LAYER (HUTCH_MEDIA_TYPE_OCI_LAYER_GZIP, DIGEST_B, "5") ","
                               LAYER ("application/vnd.docker.image.rootfs.diff.tar.gzip", DIGEST_A, "0"));
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchManifest) m = hutch_image_manifest_parse (good, strlen (good),
                                                            HUTCH_MEDIA_OCI_MANIFEST, &error);
  g_autofree char *again = NULL;

  g_assert_no_error (error);
  g_assert_cmpuint (m->layers->len, ==, 2);
  g_assert_cmpint (((HutchDescriptor *) m->layers->pdata[0])->kind, ==, HUTCH_MEDIA_LAYER_GZIP);
  again = hutch_image_manifest_to_oci_json (m);
  g_assert_nonnull (strstr (again, HUTCH_MEDIA_TYPE_OCI_LAYER_GZIP));

  assert_manifest_refused (MANIFEST (LAYER ("application/x-tar", DIGEST_B, "5")), "application/x-tar");
  assert_manifest_refused (MANIFEST (LAYER (HUTCH_MEDIA_TYPE_OCI_LAYER, DIGEST_B, "-1")), "out of bounds");
  assert_manifest_refused (MANIFEST (LAYER (HUTCH_MEDIA_TYPE_OCI_LAYER, DIGEST_B, "1099511627777")),
                           "out of bounds");
  assert_manifest_refused (MANIFEST (LAYER (HUTCH_MEDIA_TYPE_OCI_LAYER, DIGEST_B, "1.5")), "integer");
  assert_manifest_refused (MANIFEST (LAYER (HUTCH_MEDIA_TYPE_OCI_LAYER, "sha256:abc", "1")), "sha256:abc");
  assert_manifest_refused ("{\"schemaVersion\":1}", "schema 1");
  assert_manifest_refused ("[]", "not a JSON object");
  assert_manifest_refused ("{\"schemaVersion\":2,\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_INDEX "\"}",
                           "is not an image manifest");
  assert_manifest_refused ("{\"schemaVersion\":2,\"config\":" LAYER (HUTCH_MEDIA_TYPE_OCI_LAYER, DIGEST_A, "1")
                           ",\"layers\":[]}", "not an image config");
  assert_manifest_refused ("{\"schemaVersion\":2,\"config\":" LAYER (HUTCH_MEDIA_TYPE_OCI_CONFIG, DIGEST_A, "1")
                           "}", "\"layers\" is missing");
  {
    g_autoptr (GError) e2 = NULL;
    g_autoptr (HutchManifest) m2 = hutch_image_manifest_parse (good, strlen (good),
                                                               HUTCH_MEDIA_DOCKER_MANIFEST, &e2);
    g_assert_null (m2);
    g_assert_nonnull (strstr (e2->message, "not the one its descriptor names"));
  }
}

static void
test_index_select (void)
{
  const char *text =
    "{\"schemaVersion\":2,\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_INDEX "\",\"manifests\":["
    "{\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_MANIFEST "\",\"digest\":\"" DIGEST_A "\",\"size\":1,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v6\"}},"
    "{\"mediaType\":\"" HUTCH_MEDIA_TYPE_OCI_MANIFEST "\",\"digest\":\"" DIGEST_B "\",\"size\":1,"
    "\"platform\":{\"os\":\"linux\",\"architecture\":\"arm\",\"variant\":\"v7\"}}]}";
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchIndex) idx = hutch_image_index_parse (text, strlen (text), HUTCH_MEDIA_UNKNOWN, &error);
  g_autoptr (HutchPlatform) arm64 = hutch_image_platform_parse ("linux/arm64", NULL);
  g_autoptr (HutchPlatform) armv6 = hutch_image_platform_parse ("linux/arm/v6", NULL);
  g_autoptr (HutchPlatform) s390x = hutch_image_platform_parse ("linux/s390x", NULL);

  g_assert_no_error (error);
  g_assert_cmpstr (hutch_image_index_select (idx, arm64, NULL)->digest, ==, DIGEST_B);
  g_assert_cmpstr (hutch_image_index_select (idx, armv6, NULL)->digest, ==, DIGEST_A);
  g_assert_null (hutch_image_index_select (idx, s390x, &error));
  g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_NOT_FOUND);
  g_assert_nonnull (strstr (error->message, "linux/arm/v6, linux/arm/v7"));
}

static void
assert_config_refused (const char *text, const char *fragment)
{
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchImageConfig) c = hutch_image_config_parse (text, strlen (text), &error);
  g_assert_null (c);
  if (strstr (error->message, fragment) == NULL)
    g_error ("%s: message \"%s\" lacks \"%s\"", text, error->message, fragment);
}

#define ROOTFS "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" DIGEST_A "\"]}"

static void
test_config (void)
{
  const char *good = "{\"architecture\":\"amd64\",\"os\":\"linux\",\"created\":\"2026-01-02T03:04:05Z\","
                     "\"config\":{\"User\":\"1000\",\"Env\":[\"A=1\"],\"Cmd\":[\"sh\"],\"Entrypoint\":null,"
                     "\"ExposedPorts\":{\"80/tcp\":{}},\"Labels\":{\"a\":\"b\"}}," ROOTFS "}";
  g_autoptr (GError) error = NULL;
  g_autoptr (HutchImageConfig) c = hutch_image_config_parse (good, strlen (good), &error);

  g_assert_no_error (error);
  g_assert_cmpstr (hutch_image_config_get_string (c, "User"), ==, "1000");
  g_assert_cmpint (c->created_unix, ==, 1767323045);
  g_assert_cmpuint (c->diff_ids->len, ==, 1);
  assert_config_refused ("{\"os\":\"linux\"," ROOTFS "}", "architecture");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\"}", "rootfs");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"x\",\"diff_ids\":[]}}",
                         "rootfs.type");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"rootfs\":{\"type\":\"layers\","
                         "\"diff_ids\":[\"sha256:x\"]}}", "diff_ids[0]");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":\"A=1\"}," ROOTFS "}",
                         "config.Env");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Env\":[\"A\"]}," ROOTFS "}",
                         "NAME=VALUE");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"User\":0}," ROOTFS "}",
                         "config.User");
  assert_config_refused ("{\"architecture\":\"amd64\",\"os\":\"linux\",\"config\":{\"Labels\":{\"a\":1}},"
                         ROOTFS "}", "config.Labels");
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/json/accepts", test_json_accepts);
  g_test_add_func ("/json/refuses", test_json_refuses);
  g_test_add_func ("/json/round-trip", test_json_round_trip);
  g_test_add_func ("/image/digest", test_digest);
  g_test_add_func ("/image/reference", test_reference);
  g_test_add_func ("/image/platform", test_platform);
  g_test_add_func ("/image/manifest", test_manifest);
  g_test_add_func ("/image/index-select", test_index_select);
  g_test_add_func ("/image/config", test_config);
  return g_test_run ();
}
