/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* libcurl through dlopen(): Debian's libcurl maps a dozen libraries (TLS,
 * HTTP/2, SSH, LDAP, IDN, ...), which linked into hutch would be mapped by
 * every command, `hutch run` included, for the few that reach a registry.
 * Loaded once per process and initialised before any thread uses it. */
#include "config.h"

#include <dlfcn.h>

#include "registry-private.h"

typedef struct
{
  HutchCurl api;
  char *error; /* why it could not be loaded, or NULL */
} Loaded;

static gpointer
load (gpointer unused)
{
  Loaded *l = g_new0 (Loaded, 1);
  CURLcode (*global_init) (long flags) = NULL;
  void *lib = dlopen ("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
  const char *names[] = { "curl_easy_init", "curl_easy_setopt", "curl_easy_perform",
                          "curl_easy_getinfo", "curl_easy_cleanup", "curl_easy_strerror",
                          "curl_slist_append", "curl_slist_free_all", "curl_share_init",
                          "curl_share_setopt", "curl_share_cleanup" };
  void **slots[] = { (void **) &l->api.easy_init, (void **) &l->api.easy_setopt,
                     (void **) &l->api.easy_perform, (void **) &l->api.easy_getinfo,
                     (void **) &l->api.easy_cleanup, (void **) &l->api.easy_strerror,
                     (void **) &l->api.slist_append, (void **) &l->api.slist_free_all,
                     (void **) &l->api.share_init, (void **) &l->api.share_setopt,
                     (void **) &l->api.share_cleanup };

  G_STATIC_ASSERT (G_N_ELEMENTS (names) == G_N_ELEMENTS (slots));
  if (lib == NULL)
    {
      l->error = g_strdup_printf ("talking to a registry needs libcurl (%s): install it "
                                  "(apt-get install libcurl4)", dlerror ());
      return l;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (names); i++)
    if ((*slots[i] = dlsym (lib, names[i])) == NULL)
      {
        l->error = g_strdup_printf ("the libcurl found has no %s: hutch needs libcurl 7.74 or "
                                    "later", names[i]);
        return l;
      }
  global_init = (CURLcode (*) (long)) dlsym (lib, "curl_global_init");
  if (global_init == NULL || global_init (CURL_GLOBAL_ALL) != CURLE_OK)
    l->error = g_strdup ("libcurl would not initialise (curl_global_init failed)");
  return l;
}

const HutchCurl *
hutch_curl_get (GError **error)
{
  static GOnce once = G_ONCE_INIT;
  const Loaded *l = g_once (&once, load, NULL);

  if (l->error != NULL)
    return hutch_throw (error, HUTCH_ERROR_HOST_UNSUPPORTED, "%s", l->error), NULL;
  return &l->api;
}

/* CURLOPT_PROTOCOLS_STR came with libcurl 7.85; CURLOPT_PROTOCOLS, the
 * bitmask before it, is deprecated since (its name warns, and warnings
 * are errors here). By number, as the libcurl loaded may be older or newer
 * than the headers we were built with. */
#define OPT_PROTOCOLS_STR ((CURLoption) (CURLOPTTYPE_STRINGPOINT + 318))
#define OPT_PROTOCOLS ((CURLoption) (CURLOPTTYPE_LONG + 181))

CURLcode
hutch_curl_restrict_protocols (const HutchCurl *c, CURL *h)
{
  CURLcode res = c->easy_setopt (h, OPT_PROTOCOLS_STR, "http,https");

  /* 7.74 to 7.84: not known there, which was taken for success and left
   * file://, ftp:// and the rest open to a redirect or a token realm */
  if (res == CURLE_UNKNOWN_OPTION)
    res = c->easy_setopt (h, OPT_PROTOCOLS, (long) (CURLPROTO_HTTP | CURLPROTO_HTTPS));
  return res;
}
