/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Helpers of the fuzz targets (fuzz-common.h); no target logic here. */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz-common.h"
#include "util/util.h"

/* Not a GLib critical's default: that raises SIGTRAP, which libFuzzer does
 * not catch, so the input would be lost. abort() it catches. */
static GLogWriterOutput
fatal_writer (GLogLevelFlags level, const GLogField *fields, gsize n_fields, gpointer data)
{
  GLogWriterOutput out = g_log_writer_standard_streams (level, fields, n_fields, data);

  if (level & (G_LOG_LEVEL_ERROR | G_LOG_LEVEL_CRITICAL | G_LOG_LEVEL_WARNING))
    abort ();
  return out;
}

void
hutch_fuzz_setup (void)
{
  g_log_set_writer_func (fatal_writer, NULL, NULL);
}

static char *scratch_dir; /* this process's; one per process, removed at exit */

static void
remove_scratch (void)
{
  if (scratch_dir != NULL)
    (void) hutch_fuzz_remove_tree_at (AT_FDCWD, scratch_dir);
}

const char *
hutch_fuzz_scratch (void)
{
  const char *env = g_getenv ("HUTCH_FUZZ_TMPDIR");
  g_autofree char *tmpl = NULL;

  if (scratch_dir != NULL)
    return scratch_dir;
  if (env != NULL && *env != '\0')
    tmpl = g_build_filename (env, "hutch-fuzz-XXXXXX", NULL);
  else if (access ("/dev/shm", W_OK | X_OK) == 0)
    tmpl = g_strdup ("/dev/shm/hutch-fuzz-XXXXXX");
  else
    tmpl = g_build_filename (g_get_tmp_dir (), "hutch-fuzz-XXXXXX", NULL);
  if (g_mkdtemp (tmpl) == NULL)
    hutch_fuzz_fail ("making a scratch directory %s: %s", tmpl, g_strerror (errno));
  scratch_dir = g_steal_pointer (&tmpl);
  atexit (remove_scratch);
  return scratch_dir;
}

void
hutch_fuzz_fail (const char *format, ...)
{
  va_list ap;

  va_start (ap, format);
  fputs ("hutch fuzz: property broken: ", stderr);
  vfprintf (stderr, format, ap);
  fputc ('\n', stderr);
  va_end (ap);
  abort ();
}

char *
hutch_fuzz_cstring (const uint8_t *data, size_t size)
{
  return g_strndup ((const char *) data, size);
}

gboolean
hutch_fuzz_remove_tree_at (int dfd, const char *name)
{
  struct stat st;
  DIR *dir;
  struct dirent *e;
  int fd;

  if (fstatat (dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
    return errno == ENOENT;
  if (!S_ISDIR (st.st_mode))
    return unlinkat (dfd, name, 0) == 0;
  if (fchmodat (dfd, name, 0700, 0) < 0)
    return FALSE;
  fd = openat (dfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return FALSE;
  if ((dir = fdopendir (fd)) == NULL)
    return close (fd), FALSE;
  while ((e = readdir (dir)) != NULL)
    if (strcmp (e->d_name, ".") != 0 && strcmp (e->d_name, "..") != 0
        && !hutch_fuzz_remove_tree_at (dirfd (dir), e->d_name))
      {
        closedir (dir);
        return FALSE;
      }
  closedir (dir);
  return unlinkat (dfd, name, AT_REMOVEDIR) == 0;
}

static guint64
octal_field (const uint8_t *p, gsize len)
{
  guint64 v = 0;
  gsize i = 0;

  if (p[0] & 0x80)
    {
      /* GNU base-256: big-endian, the top bit of the first byte the flag */
      v = p[0] & 0x3f;
      for (i = 1; i < len; i++)
        v = (v << 8) | p[i];
      return v;
    }
  while (i < len && p[i] == ' ')
    i++;
  for (; i < len && p[i] >= '0' && p[i] <= '7'; i++)
    v = (v << 3) | (guint64) (p[i] - '0');
  return v;
}

void
hutch_fuzz_tar_fix_checksums (uint8_t *data, size_t size)
{
  size_t off = 0;

  if (size >= 2 && data[0] == 0x1f && data[1] == 0x8b)
    return;
  if (size >= 4 && data[0] == 0x28 && data[1] == 0xb5 && data[2] == 0x2f && data[3] == 0xfd)
    return;
  while (off + 512 <= size)
    {
      uint8_t *h = data + off;
      unsigned sum = 0;
      guint64 len;
      gboolean zero = TRUE;

      for (int i = 0; i < 512 && zero; i++)
        zero = h[i] == 0;
      if (zero)
        {
          off += 512;
          continue;
        }
      memset (h + 148, ' ', 8);
      for (int i = 0; i < 512; i++)
        sum += h[i];
      /* six octal digits, NUL, space: what tar(1) writes */
      for (int i = 5; i >= 0; i--, sum >>= 3)
        h[148 + i] = (uint8_t) ('0' + (sum & 7));
      h[154] = '\0';
      len = octal_field (h + 124, 12);
      if (len > size - off - 512)
        break;
      off += 512 + (size_t) ((len + 511) & ~(guint64) 511);
    }
}

void
hutch_fuzz_tar_add (GByteArray *out, const char *name, char type, const char *link,
                    const void *data, gsize len)
{
  static const guint8 zeros[512];
  guint8 h[512] = { 0 };
  unsigned sum = 0;

  g_strlcpy ((char *) h, name, 100);
  g_snprintf ((char *) h + 100, 8, "%07o", type == '5' ? 0755 : type == '2' ? 0777 : 0644);
  g_snprintf ((char *) h + 108, 8, "%07o", 0);
  g_snprintf ((char *) h + 116, 8, "%07o", 0);
  g_snprintf ((char *) h + 124, 12, "%011llo", (unsigned long long) len);
  g_snprintf ((char *) h + 136, 12, "%011o", 1700000000u);
  memset (h + 148, ' ', 8);
  h[156] = (guint8) type;
  if (link != NULL)
    g_strlcpy ((char *) h + 157, link, 100);
  memcpy (h + 257, "ustar", 6);
  memcpy (h + 263, "00", 2);
  for (int i = 0; i < 512; i++)
    sum += h[i];
  g_snprintf ((char *) h + 148, 8, "%06o", sum);
  g_byte_array_append (out, h, 512);
  if (len > 0)
    {
      g_byte_array_append (out, data, (guint) len);
      if (len % 512 != 0)
        g_byte_array_append (out, zeros, (guint) (512 - len % 512));
    }
}

void
hutch_fuzz_tar_end (GByteArray *out)
{
  static const guint8 zeros[1024];

  g_byte_array_append (out, zeros, sizeof zeros);
}
