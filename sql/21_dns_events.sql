-- Stage 21: DNS fallback. When a host's queries for a name have no connection with that name in the
-- window (only dns logs were given, or the traffic went elsewhere), the query times stand in for
-- connection starts, so DNS-only beacons are still timed. Queries for names that do have connections
-- are left to stage 45 as corroborating evidence instead (they are bounded by the TTL cache).
-- Parameters: $t0, $t1.
INSERT INTO scan_events
SELECT d.src, CAST(NULL AS VARCHAR), CAST(NULL AS INTEGER), d.epoch, CAST(NULL AS DOUBLE),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), d.query, CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR),
       CAST(NULL AS VARCHAR), 'dns', FALSE, FALSE, d.sensor
FROM dns d
WHERE d.epoch >= $t0 AND d.epoch < $t1 AND d.query IS NOT NULL AND d.query <> ''
  AND NOT EXISTS (
      SELECT 1 FROM scan_events e
      WHERE e.src = d.src AND lower(e.raw_name) = lower(d.query));
