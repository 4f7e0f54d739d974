-- Stage 25, last file: the sources that look DNS names up on behalf of others. A resolver or DNS
-- forwarder (an internal resolver seen on a core link, or the only DNS an edge sensor sees: the
-- resolver's queries upstream) asks for the names its clients ask for, and connects to almost none of
-- them itself. Its queries of one name follow its cache: each expiry of the TTL while clients keep
-- asking is one forwarded query, so they come at the TTL's cadence, as steady as any timer (a simulated
-- resolver of 30 users: script.google.com, a Worker and a Vercel site "beaconing" every TTL at 1.00).
-- Stage 49 does not time such a source's DNS-only channels of a single name, or of the names of one
-- serverless tenant or redirect pair (names whose labels vary, as a tunnel through the resolver makes
-- them, miss the cache every time and keep their client's timing: still timed); the scan names the
-- sources in a warning.
-- A source is a forwarder when at least $forwarder_min_names of its channels are DNS-only (stage 23:
-- names it looked up and never connected to; generated labels grouped under their parent, stage 24,
-- so that a host running a DNS tunnel itself counts its tunnel once), and they are at least
-- $forwarder_share of its named channels. Only when the window holds connections at all: with dns
-- logs alone, every host's names are DNS-only.
-- Counted on the channel numbers of the parts (integers), not on their key strings.
--   scan_forwarders (src, dns_only_names, connected_names)
-- Parameters: $forwarder_min_names, $forwarder_share.
CREATE OR REPLACE TEMP TABLE scan_forwarders AS
SELECT src, dns_only_names, connected_names
FROM (
    SELECT src,
           count(DISTINCT CASE WHEN by_dns THEN chan_id END) AS dns_only_names,
           count(DISTINCT CASE WHEN NOT by_dns AND raw_id IS NOT NULL THEN chan_id END) AS connected_names
    FROM scan_parts
    GROUP BY src
) f
WHERE dns_only_names >= $forwarder_min_names
  AND dns_only_names >= $forwarder_share * (dns_only_names + connected_names)
  AND EXISTS (SELECT 1 FROM scan_parts WHERE NOT by_dns);
