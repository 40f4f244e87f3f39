/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* What the files of registry/ share: libcurl's entry points, loaded once. */
#pragma once

#include <curl/curl.h>

#include "registry.h"

G_BEGIN_DECLS

typedef struct
{
  CURL *(*easy_init) (void);
  CURLcode (*easy_setopt) (CURL *curl, CURLoption option, ...);
  CURLcode (*easy_perform) (CURL *curl);
  CURLcode (*easy_getinfo) (CURL *curl, CURLINFO info, ...);
  void (*easy_cleanup) (CURL *curl);
  const char *(*easy_strerror) (CURLcode code);
  struct curl_slist *(*slist_append) (struct curl_slist *list, const char *text);
  void (*slist_free_all) (struct curl_slist *list);
  CURLSH *(*share_init) (void);
  CURLSHcode (*share_setopt) (CURLSH *share, CURLSHoption option, ...);
  CURLSHcode (*share_cleanup) (CURLSH *share);
} HutchCurl;

/* libcurl, loaded and initialised on first use (thread-safe); NULL with
 * HUTCH_ERROR_HOST_UNSUPPORTED naming the package when it cannot be. */
const HutchCurl *hutch_curl_get (GError **error);

/* A challenge from WWW-Authenticate. */
typedef struct
{
  char *scheme; /* "bearer" or "basic", lowercased */
  char *realm;
  char *service;
  char *scope;
} HutchAuthChallenge;

void hutch_auth_challenge_free (HutchAuthChallenge *c);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (HutchAuthChallenge, hutch_auth_challenge_free)

/* Parses a WWW-Authenticate value; NULL when it has no scheme we speak. */
HutchAuthChallenge *hutch_auth_challenge_parse (const char *value);

G_END_DECLS
