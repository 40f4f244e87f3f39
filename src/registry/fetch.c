/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* One file from an http(s) URL, for build's ADD: the registry client's
 * libcurl (loaded on first use, http and https only), redirects followed,
 * the body written to an fd as it comes. No registry protocol here. */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "registry-private.h"

typedef struct
{
  int fd;
  guint64 written;
  guint64 max;
  GError *error;
} Fetch;

static size_t
on_body (char *data, size_t size, size_t n, void *user)
{
  Fetch *f = user;
  gsize len = size * n;

  if (f->written + len > f->max)
    {
      g_set_error (&f->error, HUTCH_ERROR, HUTCH_ERROR_FAILED, "it is over %" G_GUINT64_FORMAT
                   " bytes", f->max);
      return 0;
    }
  if (!hutch_util_write_all (f->fd, data, len, &f->error))
    return 0;
  f->written += len;
  return len;
}

gboolean
hutch_registry_fetch_url (const char *url, int fd, guint64 max, gint64 *out_mtime, GError **error)
{
  const HutchCurl *c = hutch_curl_get (error);
  CURL *h;
  CURLcode res;
  long status = 0, filetime = -1;
  Fetch f = { fd, 0, max, NULL };
  char errbuf[CURL_ERROR_SIZE] = "";

  if (c == NULL)
    return FALSE;
  h = c->easy_init ();
  if (h == NULL)
    return hutch_throw (error, HUTCH_ERROR_FAILED, "fetching %s: libcurl could not start", url);
  res = hutch_curl_restrict_protocols (c, h);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_URL, url);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_FOLLOWLOCATION, 1L);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_MAXREDIRS, 10L);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_FILETIME, 1L);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_WRITEFUNCTION, on_body);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_WRITEDATA, &f);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_ERRORBUFFER, errbuf);
  if (res == CURLE_OK)
    res = c->easy_setopt (h, CURLOPT_USERAGENT, "hutch");
  if (res == CURLE_OK)
    res = c->easy_perform (h);
  if (res == CURLE_OK)
    {
      c->easy_getinfo (h, CURLINFO_RESPONSE_CODE, &status);
      c->easy_getinfo (h, CURLINFO_FILETIME, &filetime);
    }
  c->easy_cleanup (h);
  if (f.error != NULL)
    {
      g_propagate_prefixed_error (error, f.error, "fetching %s: ", url);
      return FALSE;
    }
  if (res != CURLE_OK)
    return hutch_throw (error, HUTCH_ERROR_NETWORK, "fetching %s: %s", url,
                        *errbuf != '\0' ? errbuf : c->easy_strerror (res));
  if (status < 200 || status > 299)
    return hutch_throw (error, HUTCH_ERROR_NETWORK, "fetching %s: the server answered HTTP %ld",
                        url, status);
  if (out_mtime != NULL)
    *out_mtime = filetime > 0 ? (gint64) filetime : 0;
  return TRUE;
}
