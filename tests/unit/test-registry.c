/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* registry/ without a registry: what a registry and its token service
 * answer (WWW-Authenticate challenges and token answers), parsed without a
 * network; and the limit to http and https, which holds with whichever of
 * libcurl's two options the loaded libcurl has (7.85's
 * CURLOPT_PROTOCOLS_STR, or the bitmask of 7.74 to 7.84), proven on the
 * real libcurl by fetching a file:// URL through a handle so limited. */
#include "config.h"

#include <stdarg.h>
#include <string.h>

#include "registry/registry-private.h"

static void
test_challenge (void)
{
  g_autoptr (HutchAuthChallenge) c = hutch_auth_challenge_parse (
      "Bearer realm=\"https://auth.example/token\",service=\"registry.example\","
      "scope=\"repository:a/b:pull\"");
  g_autoptr (HutchAuthChallenge) basic = hutch_auth_challenge_parse ("Basic realm=\"x\"");

  g_assert_nonnull (c);
  g_assert_cmpstr (c->scheme, ==, "bearer");
  g_assert_cmpstr (c->realm, ==, "https://auth.example/token");
  g_assert_cmpstr (c->service, ==, "registry.example");
  g_assert_cmpstr (c->scope, ==, "repository:a/b:pull");
  g_assert_nonnull (basic);
  g_assert_null (hutch_auth_challenge_parse ("Bearer service=\"no realm\""));
  g_assert_null (hutch_auth_challenge_parse ("Negotiate"));
}

static void
test_token (void)
{
  static const struct
  {
    const char *body;
    const char *token;
    gint64 lifetime_s;
  } cases[] = {
    { "{\"token\":\"t\",\"expires_in\":300}", "t", 290 },
    { "{\"access_token\":\"a\"}", "a", 50 },
    { "{\"token\":\"\",\"access_token\":\"a\",\"expires_in\":5}", "a", 1 },
    /* a day at most: 2^63-1 s overflowed the expiry (tests/fuzz,
     * regressions/token-response) */
    { "{\"token\":\"t\",\"expires_in\":9223372036854775807}", "t", 24 * 3600 - 10 },
    { "{\"errors\":[]}", NULL, 0 },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr (GError) error = NULL;
      g_autofree char *token = NULL;
      gint64 lifetime;

      g_assert_true (hutch_registry_token_parse (cases[i].body, strlen (cases[i].body), &token,
                                                 &lifetime, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (token, ==, cases[i].token);
      if (token != NULL)
        g_assert_cmpint (lifetime, ==, cases[i].lifetime_s * G_USEC_PER_SEC);
    }
  {
    g_autoptr (GError) error = NULL;
    g_autofree char *token = NULL;
    gint64 lifetime;
    g_assert_false (hutch_registry_token_parse ("<html>", 6, &token, &lifetime, &error));
    g_assert_error (error, HUTCH_ERROR, HUTCH_ERROR_INVALID_IMAGE);
    g_assert_null (token);
  }
}


#define OPT_PROTOCOLS_STR ((CURLoption) (CURLOPTTYPE_STRINGPOINT + 318))
#define OPT_PROTOCOLS ((CURLoption) (CURLOPTTYPE_LONG + 181))

/* The libcurl a test pretends to be: which of the two it knows, what it
 * was given, and the real one to pass the rest on to. */
typedef struct
{
  gboolean knows_str, knows_bitmask;
  char *got_str;
  long got_bitmask;
  const HutchCurl *real;
} Fake;

static Fake fake; /* a test's own: the setopt signature has no user data */

static CURLcode
fake_setopt (CURL *h, CURLoption option, ...)
{
  va_list ap;
  CURLcode res;

  va_start (ap, option);
  if (option == OPT_PROTOCOLS_STR)
    {
      const char *value = va_arg (ap, const char *);
      res = !fake.knows_str ? CURLE_UNKNOWN_OPTION
            : fake.real != NULL ? fake.real->easy_setopt (h, option, value) : CURLE_OK;
      if (res == CURLE_OK)
        fake.got_str = g_strdup (value);
    }
  else if (option == OPT_PROTOCOLS)
    {
      long value = va_arg (ap, long);
      res = !fake.knows_bitmask ? CURLE_UNKNOWN_OPTION
            : fake.real != NULL ? fake.real->easy_setopt (h, option, value) : CURLE_OK;
      if (res == CURLE_OK)
        fake.got_bitmask = value;
    }
  else
    res = CURLE_UNKNOWN_OPTION;
  va_end (ap);
  return res;
}

static void
fake_reset (gboolean knows_str, gboolean knows_bitmask, const HutchCurl *real)
{
  g_clear_pointer (&fake.got_str, g_free);
  fake = (Fake) { knows_str, knows_bitmask, NULL, 0, real };
}

static void
test_protocols_choice (void)
{
  HutchCurl c = { 0 };

  c.easy_setopt = fake_setopt;
  /* 7.85 and later: the string, and nothing else */
  fake_reset (TRUE, TRUE, NULL);
  g_assert_cmpint (hutch_curl_restrict_protocols (&c, NULL), ==, CURLE_OK);
  g_assert_cmpstr (fake.got_str, ==, "http,https");
  g_assert_cmpint (fake.got_bitmask, ==, 0);
  /* 7.74 to 7.84: the bitmask */
  fake_reset (FALSE, TRUE, NULL);
  g_assert_cmpint (hutch_curl_restrict_protocols (&c, NULL), ==, CURLE_OK);
  g_assert_null (fake.got_str);
  g_assert_cmpint (fake.got_bitmask, ==, CURLPROTO_HTTP | CURLPROTO_HTTPS);
  /* neither: said, never taken for success */
  fake_reset (FALSE, FALSE, NULL);
  g_assert_cmpint (hutch_curl_restrict_protocols (&c, NULL), ==, CURLE_UNKNOWN_OPTION);
  fake_reset (FALSE, FALSE, NULL);
}

/* file:// through the real libcurl, limited as a libcurl that knows only
 * @knows_str or the bitmask would be: refused, never read. */
static void
fetch_file_limited (const HutchCurl *real, gboolean knows_str)
{
  HutchCurl c = *real;
  CURL *h = real->easy_init ();
  CURLcode res;

  c.easy_setopt = fake_setopt;
  fake_reset (knows_str, TRUE, real);
  g_assert_nonnull (h);
  g_assert_cmpint (hutch_curl_restrict_protocols (&c, h), ==, CURLE_OK);
  g_assert_cmpint (real->easy_setopt (h, CURLOPT_URL, "file:///etc/hostname"), ==, CURLE_OK);
  /* nothing may be written to our stdout, should it be read after all */
  g_assert_cmpint (real->easy_setopt (h, CURLOPT_NOBODY, 1L), ==, CURLE_OK);
  res = real->easy_perform (h);
  g_assert_cmpint (res, ==, CURLE_UNSUPPORTED_PROTOCOL);
  real->easy_cleanup (h);
  fake_reset (FALSE, FALSE, NULL);
}

static void
test_protocols_real (void)
{
  g_autoptr (GError) error = NULL;
  const HutchCurl *real = hutch_curl_get (&error);
  CURL *h;

  g_assert_no_error (error);
  /* unlimited, libcurl reads the file: what the limit is there to stop */
  h = real->easy_init ();
  g_assert_cmpint (real->easy_setopt (h, CURLOPT_URL, "file:///etc/hostname"), ==, CURLE_OK);
  g_assert_cmpint (real->easy_setopt (h, CURLOPT_NOBODY, 1L), ==, CURLE_OK);
  g_assert_cmpint (real->easy_perform (h), ==, CURLE_OK);
  real->easy_cleanup (h);
  fetch_file_limited (real, TRUE);
  /* the bitmask alone, as 7.74 to 7.84 have it */
  fetch_file_limited (real, FALSE);
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/registry/challenge", test_challenge);
  g_test_add_func ("/registry/token", test_token);
  g_test_add_func ("/registry/curl/protocols-choice", test_protocols_choice);
  g_test_add_func ("/registry/curl/protocols-real", test_protocols_real);
  return g_test_run ();
}
