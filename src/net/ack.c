/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* Pure ACKs that libslirp sends to the container, held back for the rest
 * of one round of the monitor's loop so that one ACK stands for all the
 * segments read in that round. What libslirp's TCP says is not ours to
 * change; which of its frames reach the tap, and when, is. */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <unistd.h>

#include "net-private.h"

#define ETH_HLEN 14
#define TH_ACK 0x10

/* Where the TCP header of @frame starts when it is an IPv4 TCP segment
 * with no payload and no flag but ACK; else 0. */
static gsize
pure_ack (const guint8 *frame, gsize len)
{
  const guint8 *ip = frame + ETH_HLEN;
  gsize ihl, thl;

  if (len < ETH_HLEN + 40 || len > HUTCH_NET_ACK_MAX || hutch_net_get16 (frame + 12) != 0x0800
      || (ip[0] >> 4) != 4 || ip[9] != IPPROTO_TCP || (hutch_net_get16 (ip + 6) & 0x3fff) != 0)
    return 0;
  ihl = (gsize) (ip[0] & 0x0f) * 4;
  if (ihl < 20 || ETH_HLEN + ihl + 20 > len)
    return 0;
  thl = (gsize) (ip[ihl + 12] >> 4) * 4;
  if (thl < 20 || ihl + thl != hutch_net_get16 (ip + 2) || ETH_HLEN + ihl + thl > len
      || ip[ihl + 13] != TH_ACK)
    return 0;
  return ETH_HLEN + ihl;
}

static guint32
get32 (const guint8 *p)
{
  return (guint32) hutch_net_get16 (p) << 16 | hutch_net_get16 (p + 2);
}

/* Whether the ACK @b, of the same flow, says all that the held @a says:
 * it acknowledges as much or more and is not a duplicate, which the
 * container's TCP counts (three of them start a fast retransmit). */
static gboolean
supersedes (const guint8 *a, gsize a_tcp, const guint8 *b, gsize b_tcp)
{
  gint32 ahead = (gint32) (get32 (b + b_tcp + 8) - get32 (a + a_tcp + 8));

  if (memcmp (a + ETH_HLEN + 12, b + ETH_HLEN + 12, 8) != 0    /* addresses */
      || memcmp (a + a_tcp, b + b_tcp, 4) != 0)                /* ports */
    return FALSE;
  return ahead > 0 || (ahead == 0 && hutch_net_get16 (a + a_tcp + 14) != hutch_net_get16 (b + b_tcp + 14));
}

void
hutch_net_ack_flush (HutchNetAckHold *hold, int tap)
{
  ssize_t n;

  if (hold->len == 0)
    return;
  do
    n = write (tap, hold->frame, hold->len);
  while (n < 0 && errno == EINTR);
  /* EAGAIN: lost, as any frame the full tap queue refuses; the next ACK
   * covers it */
  hold->len = 0;
}

gboolean
hutch_net_ack_hold (HutchNetAckHold *hold, int tap, const guint8 *frame, gsize len)
{
  gsize tcp = pure_ack (frame, len);

  if (tcp == 0)
    {
      /* what libslirp sends goes in the order it was sent */
      hutch_net_ack_flush (hold, tap);
      return FALSE;
    }
  if (hold->len != 0 && !supersedes (hold->frame, pure_ack (hold->frame, hold->len), frame, tcp))
    hutch_net_ack_flush (hold, tap);
  memcpy (hold->frame, frame, len);
  hold->len = len;
  return TRUE;
}
