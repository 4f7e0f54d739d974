-- Stage 21 (first of three files): one row per connection start inside the scan window, with the
-- name it was made to.
-- Timing comes from connection starts (Zeek conn.log / Suricata flow), the name from the TLS SNI or
-- the HTTP Host of the same connection (joined by uid = Zeek uid or Suricata flow_id). TLS/HTTP rows
-- whose connection row is not in the window (only ssl.log or http.log was given) still count, with
-- their own ts: the full outer joins keep them, in one pass instead of one anti-join per log.
-- DNS connections are left out here: DNS is scored from dns rows (stage 23 and 47).
-- This table holds every event of the day, so it holds numbers only (stage 20): src_id / dst_id
-- (scan_addrs), raw_id (scan_raw_names: the SNI, else the Host), client_id (scan_clients: JA3, JA4),
-- ua_id (scan_agents). conn and tls are read narrowed (conn_n, tls_n: stage 05, their strings
-- already numbers); http's strings are numbered on its own rows, before the joins on uid, so that
-- those hash tables carry integers, not names and addresses.
-- Join sides: every hash join here is written with the side to build on (the smaller) on the right:
-- the small number tables, the TLS rows (at most one per connection, fewer than the conn rows) and
-- the HTTP connections. DuckDB chooses sides from its estimates, and for 21_events_2_conn it
-- chose the connections; the runner keeps the written sides there (analyzer.scan._STAGE_SETTINGS:
-- a DuckDB setting, so not in this SQL).
-- Bytes: Zeek's payload bytes, or a Suricata flow's bytes on the wire (stage 04 says why).
-- Which logs saw the event is kept as the flags stage 45 reports:
--   by_conn  timed by a Zeek conn row;   by_eve   timed by Suricata, or seen by Suricata at all;
--   by_ssl / by_http  named by a Zeek ssl / http row;   by_dns   a DNS query standing in (stage 23);
--   by_answer  no SNI or Host: named by the address the host itself resolved the name to (first file
--              of stage 21: scan_answer_names), instead of being keyed by the address alone;
--   by_request a later HTTP request on a kept-alive connection (http_c): a check-in, not a connection.
-- Stage 21 runs as two files, each a table: 21_events_1_http (scan_http_c), then 21_events_2_conn
-- (scan_events, joining the HTTP side and tls_n, the TLS handshakes, to the connections). Apart,
-- http is read for the last time by its own file, so that a scan that owns its store
-- (ScanOptions.release_logs) drops it before the connections are joined.
-- This file: the HTTP side of the events, as the table scan_http_c, which 21_events_2_conn joins to
-- the connections by uid.
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $request_gap_s, $two_sensors,
-- $bigint_min, $bigint_max (the range of a 64-bit count).
CREATE OR REPLACE TEMP TABLE scan_http_c AS
WITH http_r AS (
    -- Every HTTP request of the window, its strings numbered (the Host: '' is no name, so it has no
    -- raw_id; 0 marks it, so that min_by below still sees a first request made with Host '').
    SELECT h.uid, h.epoch, CASE WHEN h.host IS NOT NULL THEN coalesce(n.raw_id, 0) END AS host_id,
           u.ua_id, h.request_body_len AS req_bytes, h.response_body_len AS resp_bytes,
           coalesce(s.addr_id, addr_key(h.src)) AS src_id, coalesce(d.addr_id, addr_key(h.dst)) AS dst_id,
           h.dst_port, h.sensor = 'suricata' AS suri
    FROM (
        -- without the requests of Suricata flows that Zeek logged too (scan_dup_flows, read as
        -- 21_events_2_conn reads its logs: no join when $two_sensors is false)
        SELECT * FROM http WHERE NOT $two_sensors OR sensor IS DISTINCT FROM 'suricata'
        UNION ALL
        SELECT * FROM http x
        WHERE $two_sensors AND x.sensor = 'suricata'
          AND NOT EXISTS (SELECT 1 FROM scan_dup_flows d WHERE d.uid = x.uid)
    ) h
    LEFT JOIN scan_raw_names n ON n.raw_name = h.host                -- '' is no name: not in scan_raw_names
    LEFT JOIN scan_agents u ON u.user_agent = h.user_agent
    LEFT JOIN scan_addr_apart s ON s.addr = h.src
    LEFT JOIN scan_addr_apart d ON d.addr = h.dst
    WHERE h.epoch >= $t0 AND h.epoch < $t1 AND h.uid IS NOT NULL
), http_u AS (
    -- HTTP requests grouped per connection (its first request names and times it), aggregating the
    -- numbers of http_r, so the aggregates keep their meaning: the Host of the first request (min_by
    -- skips a NULL; 0, a first request with Host '', becomes NULL: no name); its addresses (all the
    -- requests of one connection have the same). Every Host, User-Agent and address of the window is
    -- numbered, so a NULL number means a NULL string. The body lengths add up as 64-bit counts, as a
    -- connection's bytes are (a sum of BIGINTs is a 128-bit HUGEINT, which the events would carry:
    -- 16 bytes more per event, 160 MB at 10M connections); a crafted sum past 64 bits saturates.
    SELECT uid, nullif(min_by(host_id, epoch), 0) AS raw_id, min_by(ua_id, epoch) AS ua_id,
           CAST(least(greatest(sum(req_bytes), $bigint_min), $bigint_max) AS BIGINT) AS req_bytes,
           CAST(least(greatest(sum(resp_bytes), $bigint_min), $bigint_max) AS BIGINT) AS resp_bytes,
           min(epoch) AS epoch,
           min_by(src_id, epoch) AS src_id, min_by(dst_id, epoch) AS dst_id, min(dst_port) AS dst_port,
           min(suri) AS suri, count(*) AS requests
    FROM http_r
    GROUP BY uid
)
-- The HTTP side of the join below: one row per connection (http_u, later = FALSE), plus one row
-- per later request of a kept-alive connection that comes after $request_gap_s or more of quiet
-- on it (later = TRUE), each an event of its own. An implant whose HTTP client keeps its
-- connection open between check-ins (Go's net/http keeps an idle connection 90 s) makes one
-- connection, hours long, with a request every sleep; timed by connection starts alone it would be
-- one event. A browser's page load sends its requests on one connection within a second or two:
-- those stay part of the request before them, as stage 30 would fold a burst of connections (a
-- page's worth of sub-second gaps on every connection would otherwise be most of the channel's
-- gaps, and set its adaptive burst gap below them). Joined on uid like the first request, a later
-- one gets its connection's TLS client and addresses.
SELECT uid, raw_id, ua_id, req_bytes, resp_bytes, epoch, src_id, dst_id, dst_port, suri, FALSE AS later
FROM http_u
UNION ALL
SELECT uid, coalesce(nullif(host_id, 0), conn_raw_id), ua_id, req_bytes, resp_bytes, epoch,
       src_id, dst_id, dst_port, suri, TRUE
FROM (
    SELECT r.*, u.raw_id AS conn_raw_id,
           r.epoch - lag(r.epoch) OVER (PARTITION BY r.uid ORDER BY r.epoch) AS quiet_s
    FROM http_r r
    JOIN (SELECT uid, raw_id FROM http_u WHERE requests > 1) u ON u.uid = r.uid
) k
WHERE quiet_s >= $request_gap_s          -- NULL for the connection's first request: it is in http_u;
