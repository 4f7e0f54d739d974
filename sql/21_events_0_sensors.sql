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
-- row is matched the same way, for a flow whose own flow event was not logged. Two connections of one
-- host to one service inside that tolerance are matched crosswise, which still leaves each counted
-- once, from Zeek. DNS: the same source and query within the tolerance.
--   scan_dup_flows  (uid)                Suricata flow_ids whose rows (flow, tls, http) are left out
--                                        by 21_events_1_http and 21_events_2_conn
--   scan_dup_dns    (src, query, epoch)  Suricata DNS rows left out by stages 22 and 47
--   scan_sensor_merge (flows, dns_queries)  how many of each, for the scan's warning
-- $two_sensors (scan.py: Zeek and Suricata files of the window cover the same hours) false: all
-- empty, and the filters that read them fold away (no join over a single sensor's day).
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $two_sensors, $sensor_match_s.
CREATE OR REPLACE TEMP TABLE scan_dup_flows AS
WITH suri AS (
    SELECT uid, epoch, src_id, dst_id, dst_port FROM conn_n
    WHERE $two_sensors AND suri AND uid IS NOT NULL AND epoch >= $t0 AND epoch < $t1
    UNION ALL
    SELECT uid, epoch, src_id, dst_id, dst_port FROM tls_n
    WHERE $two_sensors AND suri AND uid IS NOT NULL AND epoch >= $t0 AND epoch < $t1
), zeek AS (
    SELECT epoch, src_id, dst_id, dst_port FROM conn_n
    WHERE $two_sensors AND NOT suri AND epoch >= $t0 - $sensor_match_s AND epoch < $t1 + $sensor_match_s
    UNION ALL
    SELECT epoch, src_id, dst_id, dst_port FROM tls_n
    WHERE $two_sensors AND NOT suri AND epoch >= $t0 - $sensor_match_s AND epoch < $t1 + $sensor_match_s
)
SELECT DISTINCT s.uid
FROM suri s
JOIN zeek z ON z.src_id = s.src_id AND z.dst_id = s.dst_id AND z.dst_port = s.dst_port
WHERE s.epoch >= z.epoch - $sensor_match_s AND s.epoch <= z.epoch + $sensor_match_s;

CREATE OR REPLACE TEMP TABLE scan_dup_dns AS
SELECT DISTINCT s.src, s.query, s.epoch
FROM dns s
JOIN dns z ON z.src = s.src AND z.query = s.query
WHERE $two_sensors AND s.sensor = 'suricata' AND z.sensor <> 'suricata'
  AND s.epoch >= $t0 AND s.epoch < $t1
  AND s.epoch >= z.epoch - $sensor_match_s AND s.epoch <= z.epoch + $sensor_match_s;

CREATE OR REPLACE TEMP TABLE scan_sensor_merge AS
SELECT (SELECT count(*) FROM scan_dup_flows) AS flows, (SELECT count(*) FROM scan_dup_dns) AS dns_queries;
