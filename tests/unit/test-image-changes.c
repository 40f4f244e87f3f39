/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* image/changes.c: a new config from an old one, -c change by change. */
#include "config.h"

#include <string.h>

#include "image/image.h"

static const char base[] =
  "{\"created\":\"2026-01-01T00:00:00Z\",\"architecture\":\"amd64\",\"os\":\"linux\","
  "\"config\":{\"Env\":[\"PATH=/bin\",\"A=old\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/app\","
  "\"Labels\":{\"keep\":\"1\",\"over\":\"old\"},\"ExposedPorts\":{\"22/tcp\":{}}},"
  "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"sha256:" "1111111111111111111111111111111111111111111111111111111111111111\"]},"
  "\"history\":[{\"created_by\":\"base\"}],\"extra\":{\"x\":1}}";

static const char *const new_ids[] = {
  "sha256:2222222222222222222222222222222222222222222222222222222222222222", NULL
};

/* The derived document, parsed and checked as a pull would check it. */
static HutchImageConfig *
derive (const char *const *changes, gboolean squash)
{
  g_autoptr (HutchJsonNode) root = hutch_json_parse (base, strlen (base), NULL);
  g_autoptr (GError) error = NULL;
  g_autofree char *text = hutch_image_config_derive (
      root, &(HutchImageConfigEdit){ .changes = changes, .diff_ids = new_ids, .author = "me",
                                     .comment = "msg", .created = 1, .squash = squash },
      &error);
  HutchImageConfig *c;

  g_assert_no_error (error);
  c = hutch_image_config_parse (text, strlen (text), &error);
  g_assert_no_error (error);
  return c;
}

static char *
member_text (const HutchImageConfig *c, const char *key)
{
  g_autoptr (HutchJsonWriter) w = hutch_json_writer_new (FALSE);

  hutch_json_write_node (w, hutch_json_node_member (c->config, key));
  return hutch_json_writer_finish (w);
}

static void
test_changes (void)
{
  const char *const changes[] = { "CMD [\"a\", \"b c\"]", "entrypoint /bin/run it",
                                  "ENV A=new B=\"two words\"", "ENV C 3 4",
                                  "WORKDIR sub", "USER 1000:1000", "EXPOSE 80 53/udp",
                                  "LABEL over=new added=\"x y\"", "STOPSIGNAL SIGINT",
                                  "VOLUME /v /w", NULL };
  g_autoptr (HutchImageConfig) c = derive (changes, FALSE);
  struct
  {
    const char *key, *want;
  } rows[] = {
    { "Cmd", "[\"a\",\"b c\"]" },
    { "Entrypoint", "[\"/bin/sh\",\"-c\",\"/bin/run it\"]" },
    { "Env", "[\"PATH=/bin\",\"A=new\",\"B=two words\",\"C=3 4\"]" },
    { "WorkingDir", "\"/app/sub\"" },
    { "User", "\"1000:1000\"" },
    { "ExposedPorts", "{\"22/tcp\":{},\"80/tcp\":{},\"53/udp\":{}}" },
    { "Labels", "{\"keep\":\"1\",\"over\":\"new\",\"added\":\"x y\"}" },
    { "StopSignal", "\"SIGINT\"" },
    { "Volumes", "{\"/v\":{},\"/w\":{}}" },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (rows); i++)
    {
      g_autofree char *got = member_text (c, rows[i].key);
      g_assert_cmpstr (got, ==, rows[i].want);
    }
  g_assert_cmpuint (c->diff_ids->len, ==, 2);
  g_assert_cmpstr (c->diff_ids->pdata[1], ==, new_ids[0]);
  g_assert_cmpstr (c->author, ==, "me");
  g_assert_cmpstr (c->created, ==, "1970-01-01T00:00:01Z");
  g_assert_nonnull (hutch_json_node_member (c->root, "extra"));
  g_assert_cmpuint (hutch_json_node_member (c->root, "history")->n_members, ==, 2);
}

static void
test_squash (void)
{
  g_autoptr (HutchImageConfig) c = derive (NULL, TRUE);

  g_assert_cmpuint (c->diff_ids->len, ==, 1);
  g_assert_cmpuint (hutch_json_node_member (c->root, "history")->n_members, ==, 1);
}

static void
test_refused (void)
{
  const char *const bad[] = { "RUN echo", "FROM x", "ADD a b", "CMD", "CMD [1]", "EXPOSE 0",
                              "EXPOSE 80/xyz", "ENV", "ENV =x", "LABEL novalue", "VOLUME rel",
                              "", NULL };

  for (const char *const *b = bad; *b != NULL; b++)
    {
      const char *one[] = { *b, NULL };
      g_autoptr (GError) error = NULL;
      g_assert_false (hutch_image_changes_check (one, &error));
      g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_USAGE);
      g_assert_nonnull (strstr (error->message, "-c \""));
    }
}

static void
test_fresh (void)
{
  g_autoptr (GError) error = NULL;
  g_autofree char *text = hutch_image_config_derive (
      NULL, &(HutchImageConfigEdit){ .diff_ids = new_ids }, &error);
  g_autoptr (HutchImageConfig) c = NULL;

  g_assert_no_error (error);
  c = hutch_image_config_parse (text, strlen (text), &error);
  g_assert_no_error (error);
  g_assert_cmpstr (c->os, ==, "linux");
  g_assert_cmpuint (c->diff_ids->len, ==, 1);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/image/changes/every-kind", test_changes);
  g_test_add_func ("/image/changes/squash", test_squash);
  g_test_add_func ("/image/changes/refused", test_refused);
  g_test_add_func ("/image/changes/fresh", test_fresh);
  return g_test_run ();
}
