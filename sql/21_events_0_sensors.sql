-- Stage 21, first of the event files: two sensors on one link. Security Onion and many NSM stacks run
-- Zeek and Suricata side by side on the same tap, so every connection and DNS query of the day is in
-- both logs, under ids that differ (a Zeek uid, a Suricata flow_id). Counted as they are, each would be
-- two events: a beacon's connection count doubled, its DNS evidence doubled, and a client the two
-- sensors fingerprint differently (JA4 in Zeek, JA3 only in Suricata) shown as two channels.
-- The scan keeps Zeek's record of such a connection and leaves Suricata's out: Zeek's conn row carries
-- the payload bytes (Suricata's flow only the bytes on the wire) and its ssl/http rows are the ones the
-- catalogue's fingerprint packages extend. What either sensor saw alone (a flow the other dropped)
-- stays, from whichever saw it.
-- One connection, two records: the same source, destination address and port, starting within
-- $sensor_match_s seconds of each other (both sensors time a connection by its first packet; the
-- source port is left out of a store that ends with the scan, store.SCRATCH_OMITS). A Suricata TLS
-- row is matched the same way, for a flow whose own flow event was not logged. DNS: the same source
-- and query within the tolerance.
-- Each Suricata record is compared with the nearest Zeek record of its (source, destination, port)
-- before and after it, found by window functions over the two sensors' records in time order: one
-- sort, whatever the traffic. A join on (source, destination, port) with the time tolerance as its
-- filter would pair every record of a busy pair with every other (a client's day of connections to one
-- proxy: 50,000 x 50,000), and a log is attacker-controlled.
--   scan_dup_flows  (uid)                Suricata flow_ids whose rows (flow, tls, http) are left out
--                                        by 21_events_1_http and 21_events_2_conn
--   scan_zeek_twins (uid)                Zeek uids of the connections those copied: both sensors saw
--                                        them (the finding's sources say eve too)
--   scan_dup_dns    (src, query, epoch)  Suricata DNS rows left out by stages 23 and 47
--   scan_zeek_dns_twins (src, query, epoch)  Zeek's queries those copied (stage 23 credits both sensors)
-- One link or two: the records are left out only when at least $sensor_match_min_share of Suricata's
-- (flows, or DNS queries) have a Zeek twin. Zeek and Suricata on different links, or with clocks more
-- than the tolerance apart, still meet by chance now and then (a browser's bursts, a steady poller:
-- 0.6-1.7 % of the 5102 flows of a 6 h demo day whose Suricata copy is 5 s, 7.3 s or 30 min off; all
-- of them when it is not); those are two connections, and both are kept.
--   scan_sensor_merge (flows, dns_queries, suricata_flows)  what was left out, of how many, for the warning
-- $two_sensors (scan.py: Zeek and Suricata files of the window cover the same hours) false: all
-- empty, and the filters that read them fold away (no join over a single sensor's day).
-- Clocks apart: two sensors on one link whose clocks differ by more than the tolerance (a sensor without
-- NTP drifts seconds a day) matched nothing, so every connection counted twice, and each pair of copies
-- 3 s apart made a channel look like a 3 s reconnect loop (an outside tester's day: two new medium
-- beacons at "every 2.9 s"). The offset is measured first: for each Suricata record, the signed time to
-- the nearest Zeek record of its (source, destination, port) (or (source, query)) within
-- $sensor_skew_max_s; their median is Suricata's clock less Zeek's, a sharp peak when one link is seen
-- twice. Suricata's times are shifted by it for the matching only (what it alone saw keeps its own
-- time); on two links the median is noise and the share rule below still keeps both.
--   scan_sensor_skew (flows_s, dns_s)   the offsets, 0 when nothing was near enough to measure
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $two_sensors, $sensor_match_s,
-- $sensor_match_min_share, $sensor_skew_max_s.
CREATE OR REPLACE TEMP TABLE scan_sensor_skew AS
WITH both_sensors AS (
    SELECT epoch, src_id, dst_id, dst_port, suri FROM conn_n
    WHERE $two_sensors AND epoch >= $t0 - $sensor_skew_max_s AND epoch < $t1 + $sensor_skew_max_s
    UNION ALL
    SELECT epoch, src_id, dst_id, dst_port, suri FROM tls_n
    WHERE $two_sensors AND epoch >= $t0 - $sensor_skew_max_s AND epoch < $t1 + $sensor_skew_max_s
), flow_near AS (
    SELECT epoch, suri,
           max(CASE WHEN NOT suri THEN epoch END) OVER (
               PARTITION BY src_id, dst_id, dst_port ORDER BY epoch
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS before_z,
           min(CASE WHEN NOT suri THEN epoch END) OVER (
               PARTITION BY src_id, dst_id, dst_port ORDER BY epoch
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS after_z
    FROM both_sensors
), dns_near AS (
    SELECT epoch, sensor = 'suricata' AS suri,
           max(CASE WHEN sensor <> 'suricata' THEN epoch END) OVER (
               PARTITION BY src, query ORDER BY epoch
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS before_z,
           min(CASE WHEN sensor <> 'suricata' THEN epoch END) OVER (
               PARTITION BY src, query ORDER BY epoch
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS after_z
    FROM dns
    WHERE $two_sensors AND epoch >= $t0 - $sensor_skew_max_s AND epoch < $t1 + $sensor_skew_max_s
), deltas AS (
    -- each Suricata record's signed time to the nearest Zeek record (the earlier one on a tie)
    SELECT 'flows' AS what,
           CASE WHEN after_z IS NULL OR epoch - before_z <= after_z - epoch THEN epoch - before_z
                ELSE epoch - after_z END AS d
    FROM flow_near WHERE suri AND epoch >= $t0 AND epoch < $t1
    UNION ALL
    SELECT 'dns',
           CASE WHEN after_z IS NULL OR epoch - before_z <= after_z - epoch THEN epoch - before_z
                ELSE epoch - after_z END
    FROM dns_near WHERE suri AND epoch >= $t0 AND epoch < $t1
)
SELECT coalesce((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM deltas
                 WHERE what = 'flows' AND abs(d) <= $sensor_skew_max_s), 0) AS flows_s,
       coalesce((SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY d) FROM deltas
                 WHERE what = 'dns' AND abs(d) <= $sensor_skew_max_s), 0) AS dns_s;

CREATE OR REPLACE TEMP TABLE scan_flow_twins AS
WITH both_sensors AS (
    SELECT uid, epoch - CASE WHEN suri THEN (SELECT flows_s FROM scan_sensor_skew) ELSE 0 END AS epoch,
           src_id, dst_id, dst_port, suri FROM conn_n
    WHERE $two_sensors AND epoch >= $t0 - $sensor_skew_max_s AND epoch < $t1 + $sensor_skew_max_s
    UNION ALL
    SELECT uid, epoch - CASE WHEN suri THEN (SELECT flows_s FROM scan_sensor_skew) ELSE 0 END,
           src_id, dst_id, dst_port, suri FROM tls_n
    WHERE $two_sensors AND epoch >= $t0 - $sensor_skew_max_s AND epoch < $t1 + $sensor_skew_max_s
), nearest AS (
    -- the nearest record of the other sensor before and after each record
    SELECT uid, epoch, suri,
           max(CASE WHEN NOT suri THEN epoch END) OVER (
               PARTITION BY src_id, dst_id, dst_port ORDER BY epoch
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS zeek_before,
           min(CASE WHEN NOT suri THEN epoch END) OVER (
               PARTITION BY src_id, dst_id, dst_port ORDER BY epoch
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS zeek_after,
           max(CASE WHEN suri THEN epoch END) OVER (
               PARTITION BY src_id, dst_id, dst_port ORDER BY epoch
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS suri_before,
           min(CASE WHEN suri THEN epoch END) OVER (
               PARTITION BY src_id, dst_id, dst_port ORDER BY epoch
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS suri_after
    FROM both_sensors
)
-- every record of the window, with whether the other sensor logged it too (twin)
SELECT uid, suri,
       bool_or(CASE WHEN suri
                    THEN epoch - zeek_before <= $sensor_match_s OR zeek_after - epoch <= $sensor_match_s
                    ELSE epoch - suri_before <= $sensor_match_s OR suri_after - epoch <= $sensor_match_s END) AS twin
FROM nearest
WHERE uid IS NOT NULL AND epoch >= $t0 AND epoch < $t1
GROUP BY uid, suri;

CREATE OR REPLACE TEMP TABLE scan_dup_flows AS
SELECT uid
FROM scan_flow_twins
WHERE suri AND twin
  AND (SELECT count(*) FROM scan_flow_twins WHERE suri AND twin)
      >= $sensor_match_min_share * (SELECT count(*) FROM scan_flow_twins WHERE suri);

-- Zeek's connections that Suricata logged too (when its copies are left out): credited to both
-- sensors in the finding's sources (stage 21, by_eve), since both saw them.
CREATE OR REPLACE TEMP TABLE scan_zeek_twins AS
SELECT DISTINCT uid     -- once each: 21_events_2_conn LEFT JOINs it, and a uid a log repeats would double its rows
FROM scan_flow_twins
WHERE NOT suri AND twin AND EXISTS (SELECT 1 FROM scan_dup_flows);

CREATE OR REPLACE TEMP TABLE scan_dns_twins AS
WITH shifted AS (
    -- Suricata's queries on Zeek's clock (on_zeek: scan_sensor_skew); each keeps its logged time (epoch) too
    SELECT src, query, sensor, epoch,
           epoch - CASE WHEN sensor = 'suricata' THEN (SELECT dns_s FROM scan_sensor_skew) ELSE 0 END AS on_zeek
    FROM dns
    WHERE $two_sensors AND epoch >= $t0 - $sensor_skew_max_s AND epoch < $t1 + $sensor_skew_max_s
), nearest AS (
    SELECT src, query, epoch, on_zeek, sensor = 'suricata' AS suri,
           max(CASE WHEN sensor <> 'suricata' THEN on_zeek END) OVER (
               PARTITION BY src, query ORDER BY on_zeek
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS zeek_before,
           min(CASE WHEN sensor <> 'suricata' THEN on_zeek END) OVER (
               PARTITION BY src, query ORDER BY on_zeek
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS zeek_after,
           max(CASE WHEN sensor = 'suricata' THEN on_zeek END) OVER (
               PARTITION BY src, query ORDER BY on_zeek
               ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS suri_before,
           min(CASE WHEN sensor = 'suricata' THEN on_zeek END) OVER (
               PARTITION BY src, query ORDER BY on_zeek
               ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS suri_after
    FROM shifted
)
-- every query of the window, with whether the other sensor logged it too (twin)
SELECT src, query, epoch, suri,
       bool_or(CASE WHEN suri
                    THEN on_zeek - zeek_before <= $sensor_match_s OR zeek_after - on_zeek <= $sensor_match_s
                    ELSE on_zeek - suri_before <= $sensor_match_s OR suri_after - on_zeek <= $sensor_match_s END) AS twin
FROM nearest
WHERE suri IS NOT NULL AND epoch >= $t0 AND epoch < $t1
GROUP BY src, query, epoch, suri;

CREATE OR REPLACE TEMP TABLE scan_dup_dns AS
SELECT src, query, epoch
FROM scan_dns_twins
WHERE suri AND twin
  AND (SELECT count(*) FROM scan_dns_twins WHERE suri AND twin)
      >= $sensor_match_min_share * (SELECT count(*) FROM scan_dns_twins WHERE suri);

-- Zeek's queries that Suricata logged too (when its copies are left out): a DNS-timed event of both
-- sensors (stage 23, by_eve).
CREATE OR REPLACE TEMP TABLE scan_zeek_dns_twins AS
SELECT src, query, epoch
FROM scan_dns_twins
WHERE NOT suri AND twin AND EXISTS (SELECT 1 FROM scan_dup_dns);

CREATE OR REPLACE TEMP TABLE scan_sensor_merge AS
SELECT (SELECT count(*) FROM scan_dup_flows) AS flows, (SELECT count(*) FROM scan_dup_dns) AS dns_queries,
       (SELECT count(*) FROM scan_flow_twins WHERE suri) AS suricata_flows,
       (SELECT flows_s FROM scan_sensor_skew) AS flows_skew_s, (SELECT dns_s FROM scan_sensor_skew) AS dns_skew_s;

DROP TABLE scan_flow_twins;

DROP TABLE scan_dns_twins;
