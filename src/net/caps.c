/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Whether user-mode networking can work here: the tap device must open for
 * the user (udev makes /dev/net/tun 0666 on stock distributions). */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <libslirp-version.h>

#include "net.h"

void
hutch_net_caps_probe (HutchNetCaps *caps)
{
  hutch_autofd int fd = open ("/dev/net/tun", O_RDWR | O_CLOEXEC);

  memset (caps, 0, sizeof *caps);
  caps->tun = fd >= 0;
  caps->tun_errno = fd >= 0 ? 0 : errno;
  /* The version we were built against, from the header: linking libslirp
   * here would load it (and its start-up cost) for every command. */
  caps->slirp_version = g_strdup (SLIRP_VERSION_STRING);
}

void
hutch_net_caps_clear (HutchNetCaps *caps)
{
  g_free (caps->slirp_version);
  memset (caps, 0, sizeof *caps);
}
