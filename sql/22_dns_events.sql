-- Stage 22: DNS fallback. When a host's queries for a name have no connection with that name in the
-- window (only dns logs were given, or the traffic went elsewhere), the query times stand in for
-- connection starts, so DNS-only beacons are still timed. Queries for names that do have connections
-- are left to stage 47 as corroborating evidence instead (they are bounded by the TTL cache).
-- The anti-join reads the distinct (host, name) pairs of the events, not every event: a hash table
-- of a few thousand pairs instead of one of every connection of the day. Names compare case-blind
-- (lname_id numbers lower(raw_name), stage 20); a query without a source never matches (src_id NULL),
-- so it is added, and left out with every other event without a source at stage 24.
-- Parameters: $t0, $t1.
INSERT INTO scan_events
WITH named AS (
    SELECT DISTINCT p.src_id, n.lname_id
    FROM (SELECT DISTINCT src_id, raw_id FROM scan_events WHERE raw_id IS NOT NULL) p
    JOIN scan_raw_names n ON n.raw_id = p.raw_id
), q AS (
    SELECT s.addr_id AS src_id, d.epoch, n.raw_id, n.lname_id, d.sensor = 'suricata' AS suri
    FROM dns d
    JOIN scan_raw_names n ON n.raw_name = d.query      -- every query of the window that is not ''
    LEFT JOIN scan_addrs s ON s.addr = d.src
    WHERE d.epoch >= $t0 AND d.epoch < $t1 AND d.query IS NOT NULL AND d.query <> ''
)
SELECT q.src_id, CAST(NULL AS INTEGER), CAST(NULL AS INTEGER), q.epoch, CAST(NULL AS DOUBLE),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), q.raw_id, CAST(NULL AS INTEGER), CAST(NULL AS INTEGER),
       FALSE, coalesce(q.suri, FALSE), FALSE, FALSE, TRUE
FROM q
WHERE NOT EXISTS (
    SELECT 1 FROM named e
    WHERE e.src_id = q.src_id AND e.lname_id = q.lname_id);
