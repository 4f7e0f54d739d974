-- Stage 23: DNS fallback. When a host's queries for a name have no connection with that name in the
-- window (only dns logs were given, or the traffic went elsewhere), the query times stand in for
-- connection starts, so DNS-only beacons are still timed. Queries for names that do have connections
-- are left to stage 47 as corroborating evidence instead (they are bounded by the TTL cache).
-- Connections named only from the host's DNS answers (stage 21, no SNI or Host) stand in for the
-- queries only when they are at least as many: a host that resolves a name far more often than it is
-- seen connecting to what it got (a connectivity check by lookup, flows the sensor missed) is timed
-- by its queries, as before answers named anything (Slips test 6: www.google.com looked up every
-- 78 minutes, 38 times, 12 logged connections). Lookups, not queries, are counted: the queries of one
-- second are one lookup (a stub asks for A and AAAA at once, Chrome and Windows for HTTPS records too),
-- or a host that connected after each of its lookups was timed twice, by its connections and again by
-- its queries (an independent tester's conn-and-dns day: 262 of 433 channels listed twice).
-- The anti-join reads the (host, name) pairs of the connections' parts (stage 22: counted, how many
-- named by an answer among them), not every event: a hash table of a few thousand pairs instead of
-- one of every connection of the day. Names compare case-blind (lname_id numbers lower(raw_name),
-- stage 20); a query without a source never matches (src_id NULL): it is added to the events, and
-- left out of the parts as every event without a source is.
-- The parts of the queries added are appended to scan_parts (the second statement).
-- With two sensors on one link, Suricata's copy of a query Zeek logged too (scan_dup_dns, first file
-- of stage 21) is left out and Zeek's credited to both sensors (suri: the event's by_eve), read in
-- three parts as 21_events_2_conn reads its logs (no join with one sensor).
-- Parameters: $t0, $t1, $two_sensors.
INSERT INTO scan_events
WITH named AS (
    SELECT p.src_id, n.lname_id, sum(p.cnt - p.answered) AS direct, sum(p.answered) AS answered
    FROM scan_parts p
    JOIN scan_raw_names n ON n.raw_id = p.raw_id
    GROUP BY p.src_id, n.lname_id
), q AS (
    SELECT coalesce(s.addr_id, addr_key(d.src)) AS src_id, d.epoch, n.raw_id, n.lname_id,
           d.sensor = 'suricata' OR d.twin AS suri
    FROM (SELECT src, query, epoch, sensor, FALSE AS twin FROM dns WHERE NOT $two_sensors
          UNION ALL
          SELECT x.src, x.query, x.epoch, x.sensor, w.src IS NOT NULL     -- Suricata logged it too
          FROM dns x
          LEFT JOIN scan_zeek_dns_twins w ON w.src = x.src AND w.query = x.query AND w.epoch = x.epoch
          WHERE $two_sensors AND x.sensor IS DISTINCT FROM 'suricata'
          UNION ALL
          SELECT src, query, epoch, sensor, FALSE FROM dns x
          WHERE $two_sensors AND x.sensor = 'suricata'
            AND NOT EXISTS (SELECT 1 FROM scan_dup_dns k
                            WHERE k.src = x.src AND k.query = x.query AND k.epoch = x.epoch)) d
    JOIN scan_raw_names n ON n.raw_name = d.query      -- every query of the window that is not ''
    LEFT JOIN scan_addr_apart s ON s.addr = d.src      -- addresses are numbered as in stage 21
    WHERE d.epoch >= $t0 AND d.epoch < $t1 AND d.query IS NOT NULL AND d.query <> ''
)
SELECT q.src_id, CAST(NULL AS BIGINT), CAST(NULL AS INTEGER), q.epoch, CAST(NULL AS DOUBLE),
       CAST(NULL AS BIGINT), CAST(NULL AS BIGINT), q.raw_id, CAST(NULL AS INTEGER), CAST(NULL AS INTEGER),
       FALSE, coalesce(q.suri, FALSE), FALSE, FALSE, TRUE, FALSE, FALSE
FROM q
LEFT JOIN (SELECT src_id, lname_id, count(DISTINCT floor(epoch)) AS queries FROM q GROUP BY src_id, lname_id) qn
       ON qn.src_id = q.src_id AND qn.lname_id = q.lname_id
WHERE NOT EXISTS (
    SELECT 1 FROM named e
    WHERE e.src_id = q.src_id AND e.lname_id = q.lname_id
      AND (e.direct > 0 OR e.answered >= qn.queries));

-- The parts of the queries just added, grouped as stage 22 groups events: a query has no address,
-- port, client, User-Agent, bytes or duration (NULL), and no conn, ssl or http row saw it (0). The
-- filter on by_dns skips the connections' row groups (by_dns FALSE throughout) by their statistics.
INSERT INTO scan_parts (src_id, raw_id, by_dns, cnt, first_epoch, last_epoch, src_conn, src_eve, src_ssl,
                        src_http, src_answer, later_requests, answered)
SELECT src_id, raw_id, TRUE, count(*), min(epoch), max(epoch), 0, max(CASE WHEN by_eve THEN 1 ELSE 0 END),
       0, 0, 0, 0, 0
FROM scan_events
WHERE by_dns AND src_id IS NOT NULL
GROUP BY src_id, raw_id;
