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
-- A source is a forwarder when most of its named channels are DNS-only (at least $forwarder_share of
-- them: stage 23, names it looked up and never connected to; generated labels grouped under their
-- parent, stage 24, so that a host running a DNS tunnel itself counts its tunnel once), and either
--   many: at least $forwarder_min_names of them, or
--   served: at least $forwarder_min_served of them, $forwarder_served_share of them or more being names
--           other hosts of the window connect to. A resolver on a quiet day (a weekend, a small site, a
--           few hours' slice of a big day) looks up a few dozen names, and they are the names its
--           clients use; a host whose own connections the sensor misses looks up names nobody here
--           connects to. (A quiet resolver of 42 names made 24 findings, 10 high, of its clients'
--           pollers and fleets.)
-- Only when the window holds connections at all: with dns logs alone, every host's names are DNS-only.
-- Counted on the channel and name numbers of the parts (integers), not on their key strings.
--   scan_forwarders (src, dns_only_names, connected_names)
-- Parameters: $forwarder_min_names, $forwarder_share, $forwarder_min_served, $forwarder_served_share.
CREATE OR REPLACE TEMP TABLE scan_forwarders AS
WITH per_src AS (
    SELECT src,
           count(DISTINCT CASE WHEN by_dns THEN chan_id END) AS dns_only_names,
           count(DISTINCT CASE WHEN NOT by_dns AND raw_id IS NOT NULL THEN chan_id END) AS connected_names
    FROM scan_parts
    WHERE NOT rotated                              -- (a rotation channel's parts are its tenants' again)
    GROUP BY src
), cand AS (
    -- mostly DNS-only, and enough names for either rule (few sources: the served count is theirs alone)
    SELECT * FROM per_src
    WHERE dns_only_names >= $forwarder_share * (dns_only_names + connected_names)
      AND dns_only_names >= least($forwarder_min_names, $forwarder_min_served)
), connected AS (
    -- the names connections of the window were made to, with the least and greatest source that made
    -- them (two sources or more when they differ; no count(DISTINCT) over every part)
    SELECT name_id, min(src) AS lo_src, max(src) AS hi_src
    FROM scan_parts
    WHERE NOT by_dns AND name_id IS NOT NULL
    GROUP BY name_id
), served AS (
    -- each candidate's DNS-only names that another source connects to
    SELECT p.src, count(DISTINCT p.chan_id) AS served
    FROM scan_parts p
    JOIN cand c ON c.src = p.src
    JOIN connected n ON n.name_id = p.name_id
    WHERE p.by_dns AND NOT p.rotated AND (n.lo_src <> n.hi_src OR n.lo_src <> p.src)
    GROUP BY p.src
)
SELECT c.src, c.dns_only_names, c.connected_names
FROM cand c
LEFT JOIN served s ON s.src = c.src
WHERE (c.dns_only_names >= $forwarder_min_names
       OR (coalesce(s.served, 0) >= $forwarder_min_served
           AND coalesce(s.served, 0) >= $forwarder_served_share * c.dns_only_names))
  AND EXISTS (SELECT 1 FROM scan_parts WHERE NOT by_dns);
