/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* SHA-256 throughput of GLib's GChecksum and of OpenSSL's libcrypto (the
 * one util/sha256.c uses) over the same 512 MiB in memory: the numbers that
 * chose libcrypto. Prints "glib MB/s" and "openssl MB/s". */
#include "config.h"

#define OPENSSL_API_COMPAT 10101
#include <openssl/sha.h>
#include <stdio.h>
#include <glib.h>

#define CHUNK (1 << 20)
#define CHUNKS 512

int
main (void)
{
  g_autofree guchar *buf = g_malloc (CHUNK);
  g_autoptr (GChecksum) sum = g_checksum_new (G_CHECKSUM_SHA256);
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256_CTX ctx;
  gint64 t0, t1, t2;

  for (gsize i = 0; i < CHUNK; i++)
    buf[i] = (guchar) (i * 7);
  t0 = g_get_monotonic_time ();
  for (int i = 0; i < CHUNKS; i++)
    g_checksum_update (sum, buf, CHUNK);
  (void) g_checksum_get_string (sum);
  t1 = g_get_monotonic_time ();
  SHA256_Init (&ctx);
  for (int i = 0; i < CHUNKS; i++)
    SHA256_Update (&ctx, buf, CHUNK);
  SHA256_Final (md, &ctx);
  t2 = g_get_monotonic_time ();
  printf ("glib %.0f\nopenssl %.0f\n", CHUNKS * 1e6 / (double) (t1 - t0),
          CHUNKS * 1e6 / (double) (t2 - t1));
  return 0;
}
