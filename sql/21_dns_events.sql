-- Stage 21: DNS fallback. When a host's queries for a name have no connection with that name in the
-- window (only dns logs were given, or the traffic went elsewhere), the query times stand in for
-- connection starts, so DNS-only beacons are still timed. Queries for names that do have connections
-- are left to stage 45 as corroborating evidence instead (they are bounded by the TTL cache).
-- The anti-join reads the distinct (host, name) pairs of the events, not every event: a hash table
-- of a few thousand pairs instead of one of every connection of the day.
-- Parameters: $t0, $t1.
INSERT INTO scan_events
WITH named AS (
    SELECT DISTINCT src, lower(raw_name) AS name FROM scan_events WHERE raw_name IS NOT NULL
)
SELECT d.src, CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER), d.epoch, CAST(NULL AS DOUBLE),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), d.query, CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR),
       'dns', FALSE, FALSE, d.sensor
FROM dns d
WHERE d.epoch >= $t0 AND d.epoch < $t1 AND d.query IS NOT NULL AND d.query <> ''
  AND NOT EXISTS (
      SELECT 1 FROM named e
      WHERE e.src = d.src AND e.name = lower(d.query));
