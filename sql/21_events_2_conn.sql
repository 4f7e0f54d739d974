-- Stage 21, last file (see 21_events_1_http.sql): scan_events, the connections of the window (conn_n)
-- joined by uid to the TLS handshakes of the window (tls_n) and the HTTP requests (scan_http_c).
-- Two sensors on one link: a Suricata flow that Zeek logged too (scan_dup_flows, first file of stage
-- 21) is left out, its TLS rows with it, and Zeek's record of it is credited to both sensors (twin:
-- by_eve, so the finding's sources say eve too). Each log is read in three parts: all of it with one
-- sensor ($two_sensors false: the other two parts fold away, so a single sensor's day pays no join);
-- with two, Zeek's rows (twin or not) and the Suricata rows that are no copy.
-- A connection id that repeats (a log concatenated with itself, a crafted file: the scan checks
-- before this stage, analyzer.scan.repeated_ids) would make the join pair every copy with every
-- other: 20k rows sharing one uid were 400M events, and two hosts sharing ids were credited with each
-- other's names. With $repeated_ids, a row that repeats another of its log (same id, addresses, port
-- and time) is left out, and the logs are joined on (id, addresses, port, and the how-manieth time of
-- that key it is in its log): the n-th connection of a key pairs with the n-th handshake, each
-- connection with at most one. (HTTP, grouped per id in the first file of the stage, pairs with the
-- first.) Otherwise the key k is the id itself, and the plan is as before.
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $dns_port, $two_sensors, $repeated_ids,
-- $ech_1 ... $ech_4 (the numbers of ECH outer names, NULL when unused).
CREATE OR REPLACE TEMP TABLE scan_events AS
WITH conn_src AS (
    SELECT uid, uid AS k, epoch, src_id, dst_id, dst_port, duration, orig_bytes, resp_bytes, suri
    FROM conn_n
    WHERE NOT $repeated_ids
    UNION ALL
    SELECT uid, conn_key(uid, src_id, dst_id, dst_port, nth), epoch, src_id, dst_id, dst_port, duration,
           orig_bytes, resp_bytes, suri
    FROM (SELECT c.*, row_number() OVER (PARTITION BY uid, src_id, dst_id, dst_port, epoch
                                         ORDER BY duration, orig_bytes, resp_bytes) AS copy,
                 dense_rank() OVER (PARTITION BY uid, src_id, dst_id, dst_port ORDER BY epoch) AS nth
          FROM conn_n c
          WHERE $repeated_ids) d
    WHERE copy = 1
), tls_src AS (
    -- an Encrypted Client Hello's outer name ($ech_1 ...: analyzer.scan.ECH_OUTER_NAMES, e.g.
    -- cloudflare-ech.com) names no destination: such a handshake is taken as one without SNI, so that
    -- its connection is named from its host's DNS answers (below, and 21_events_3)
    SELECT uid, uid AS k, CASE WHEN raw_id IN ($ech_1, $ech_2, $ech_3, $ech_4) THEN NULL ELSE raw_id END AS raw_id,
           client_id, epoch, src_id, dst_id, dst_port, suri
    FROM tls_n
    WHERE NOT $repeated_ids
    UNION ALL
    SELECT uid, conn_key(uid, src_id, dst_id, dst_port, nth),
           CASE WHEN raw_id IN ($ech_1, $ech_2, $ech_3, $ech_4) THEN NULL ELSE raw_id END, client_id, epoch,
           src_id, dst_id, dst_port, suri
    FROM (SELECT t.*, row_number() OVER (PARTITION BY uid, src_id, dst_id, dst_port, epoch
                                         ORDER BY raw_id, client_id) AS copy,
                 dense_rank() OVER (PARTITION BY uid, src_id, dst_id, dst_port ORDER BY epoch) AS nth
          FROM tls_n t
          WHERE $repeated_ids) d
    WHERE copy = 1
), http_src AS (
    -- one row per connection already (stage 21, first file), and one per later request
    SELECT uid AS k, raw_id, ua_id, req_bytes, resp_bytes, epoch, src_id, dst_id, dst_port, suri, later
    FROM scan_http_c WHERE NOT $repeated_ids
    UNION ALL
    SELECT conn_key(uid, src_id, dst_id, dst_port, 1), raw_id, ua_id, req_bytes, resp_bytes, epoch, src_id, dst_id,
           dst_port, suri, later
    FROM scan_http_c WHERE $repeated_ids
), conn_w AS (
    -- conn_n: the connections already numbered (stage 05), their bytes those stage 04 describes
    SELECT k, epoch, src_id, dst_id, dst_port, duration, orig_bytes, resp_bytes, suri, FALSE AS twin
    FROM conn_src
    WHERE epoch >= $t0 AND epoch < $t1
      AND coalesce(dst_port, -1) <> $dns_port   -- (those whose service is DNS are not in conn_n)
      AND NOT $two_sensors
    UNION ALL
    SELECT c.k, c.epoch, c.src_id, c.dst_id, c.dst_port, c.duration, c.orig_bytes, c.resp_bytes, c.suri,
           w.uid IS NOT NULL                -- Suricata logged it too (scan_zeek_twins)
    FROM conn_src c
    LEFT JOIN scan_zeek_twins w ON w.uid = c.uid
    WHERE c.epoch >= $t0 AND c.epoch < $t1 AND coalesce(c.dst_port, -1) <> $dns_port
      AND $two_sensors AND NOT c.suri
    UNION ALL
    SELECT c.k, c.epoch, c.src_id, c.dst_id, c.dst_port, c.duration, c.orig_bytes, c.resp_bytes, c.suri, FALSE
    FROM conn_src c
    WHERE c.epoch >= $t0 AND c.epoch < $t1 AND coalesce(c.dst_port, -1) <> $dns_port
      AND $two_sensors AND c.suri AND NOT EXISTS (SELECT 1 FROM scan_dup_flows d WHERE d.uid = c.uid)
), tls_w AS (
    -- One TLS handshake per connection (Zeek ssl.log, Suricata tls): no GROUP BY uid, which on a big
    -- day is the most memory-hungry step of the scan. A second handshake row for one uid would add a
    -- same-instant event, which the burst collapse of stage 30 folds into the first.
    SELECT k, raw_id, client_id, epoch, src_id, dst_id, dst_port, suri, FALSE AS twin
    FROM tls_src
    WHERE epoch >= $t0 AND epoch < $t1 AND uid IS NOT NULL
      AND NOT $two_sensors
    UNION ALL
    SELECT t.k, t.raw_id, t.client_id, t.epoch, t.src_id, t.dst_id, t.dst_port, t.suri, w.uid IS NOT NULL
    FROM tls_src t
    LEFT JOIN scan_zeek_twins w ON w.uid = t.uid
    WHERE t.epoch >= $t0 AND t.epoch < $t1 AND t.uid IS NOT NULL
      AND $two_sensors AND NOT t.suri
    UNION ALL
    SELECT t.k, t.raw_id, t.client_id, t.epoch, t.src_id, t.dst_id, t.dst_port, t.suri, FALSE
    FROM tls_src t
    WHERE t.epoch >= $t0 AND t.epoch < $t1 AND t.uid IS NOT NULL
      AND $two_sensors AND t.suri AND NOT EXISTS (SELECT 1 FROM scan_dup_flows d WHERE d.uid = t.uid)
), ev AS (
    -- The connection (c), its handshake (t) and its HTTP side (h), whichever of the three there are,
    -- as one row, each value taken from the first that has it: one projection over the two joins
    -- (a row of connection and handshake coalesced first, then coalesced with h, cost 0.4-0.6 CPU-s
    -- more at 10M connections).
    -- A later request (h.later) is an event at its own time with its own bytes, named and keyed like
    -- its connection; the logs that saw the connection are credited once, by its first row.
    SELECT coalesce(c.src_id, t.src_id, h.src_id) AS src_id, coalesce(c.dst_id, t.dst_id, h.dst_id) AS dst_id,
           coalesce(c.dst_port, t.dst_port, h.dst_port) AS dst_port,
           CASE WHEN h.later THEN h.epoch ELSE coalesce(c.epoch, t.epoch, h.epoch) END AS epoch,
           CASE WHEN h.later THEN NULL ELSE c.duration END AS duration,
           CASE WHEN h.later THEN h.req_bytes ELSE coalesce(c.orig_bytes, h.req_bytes) END AS bytes_out,
           CASE WHEN h.later THEN h.resp_bytes ELSE coalesce(c.resp_bytes, h.resp_bytes) END AS bytes_in,
           coalesce(t.raw_id, h.raw_id) AS named_raw_id, t.client_id, h.ua_id,
           -- a connection with no name of its own is looked up in the answers below (by its
           -- addresses); the key is NULL for every other row, which no answer matches
           CASE WHEN c.k IS NOT NULL AND t.raw_id IS NULL AND h.raw_id IS NULL
                THEN coalesce(c.dst_id, t.dst_id) END AS answer_dst_id,
           c.k IS NOT NULL AND NOT coalesce(h.later, FALSE) AS has_conn,
           t.k IS NOT NULL AND NOT coalesce(h.later, FALSE) AS has_tls,
           h.k IS NOT NULL AS has_http, coalesce(c.suri, t.suri, h.suri, FALSE) AS suri,
           coalesce(h.later, FALSE) AS by_request, coalesce(c.twin, FALSE) OR coalesce(t.twin, FALSE) AS twin
    FROM conn_w c
    FULL OUTER JOIN tls_w t ON t.k = c.k
    FULL OUTER JOIN http_src h ON h.k = coalesce(c.k, t.k)
)
SELECT ev.src_id, ev.dst_id, ev.dst_port, ev.epoch, ev.duration, ev.bytes_out, ev.bytes_in,
       coalesce(ev.named_raw_id, an.raw_id) AS raw_id, ev.client_id, ev.ua_id,
       ev.has_conn AND NOT ev.suri AS by_conn,
       ev.suri OR ev.twin AS by_eve,            -- timed by Suricata, or by Zeek with Suricata's copy left out
       ev.has_tls AND NOT ev.suri AS by_ssl,
       ev.has_http AND NOT ev.suri AS by_http,
       FALSE AS by_dns,
       an.raw_id IS NOT NULL AS by_answer,
       ev.by_request
FROM ev
LEFT JOIN scan_answer_names an ON an.src_id = ev.src_id AND an.dst_id = ev.answer_dst_id;
