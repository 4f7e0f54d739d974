-- Stage 21: one row per connection start inside the scan window, with the name it was made to.
-- Timing comes from connection starts (Zeek conn.log / Suricata flow), the name from the TLS SNI or
-- the HTTP Host of the same connection (joined by uid = Zeek uid or Suricata flow_id). TLS/HTTP rows
-- whose connection row is not in the window (only ssl.log or http.log was given) still count, with
-- their own ts: the full outer joins keep them, in one pass instead of one anti-join per log.
-- DNS connections are left out here: DNS is scored from dns rows (stage 22 and 47).
-- This table holds every event of the day, so it holds numbers only (stage 20): src_id / dst_id
-- (scan_addrs: addr_key(addr), computed, not joined, unless scan_addr_apart holds the address), raw_id
-- (scan_raw_names: the SNI, else the Host), client_id (scan_clients: JA3, JA4), ua_id (scan_agents).
-- The strings are mapped to numbers on each log's own rows, before the joins on uid, so that those
-- hash tables carry integers, not names and addresses.
-- Join sides: every hash join here is written with the side to build on (the smaller) on the right:
-- the small number tables, the TLS rows (at most one per connection, fewer than the conn rows) and
-- the HTTP connections. (DuckDB may still choose the other side from its estimates; forcing the
-- written order saved ~1 s at 10M in a memory store, nothing measurable from a file store, and is
-- not done: the hint would be engine-specific.)
-- Bytes: Zeek's payload bytes; a Suricata flow has no payload count, so its bytes on the wire
-- (bytes_toserver/toclient, stored as orig/resp_ip_bytes) stand in: size consistency compares a
-- channel with itself, and a channel comes from one sensor.
-- Which logs saw the event is kept as the flags stage 45 reports:
--   by_conn  timed by a Zeek conn row;   by_eve   timed by Suricata, or seen by Suricata at all;
--   by_ssl / by_http  named by a Zeek ssl / http row;   by_dns   a DNS query standing in (stage 22);
--   by_answer  no SNI or Host: named by the address the host itself resolved the name to (first file
--              of stage 21: scan_answer_names), instead of being keyed by the address alone;
--   by_request a later HTTP request on a kept-alive connection (http_c): a check-in, not a connection.
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $dns_port, $request_gap_s.
CREATE OR REPLACE TEMP TABLE scan_events AS
WITH tls_u AS (
    -- One TLS handshake per connection (Zeek ssl.log, Suricata tls): no GROUP BY uid, which on a big
    -- day is the most memory-hungry step of the scan. A second handshake row for one uid would add a
    -- same-instant event, which the burst collapse of stage 30 folds into the first.
    SELECT t.uid, n.raw_id, k.client_id, t.epoch, coalesce(s.addr_id, addr_key(t.src)) AS src_id,
           coalesce(d.addr_id, addr_key(t.dst)) AS dst_id, t.dst_port,
           t.sensor = 'suricata' AS suri
    FROM tls t
    JOIN scan_clients k ON k.ja3 IS NOT DISTINCT FROM nullif(t.ja3, '') AND k.ja4 IS NOT DISTINCT FROM nullif(t.ja4, '')
    LEFT JOIN scan_raw_names n ON n.raw_name = t.server_name     -- '' is no name: not in scan_raw_names
    LEFT JOIN scan_addr_apart s ON s.addr = t.src
    LEFT JOIN scan_addr_apart d ON d.addr = t.dst
    WHERE t.epoch >= $t0 AND t.epoch < $t1 AND t.uid IS NOT NULL
), http_r AS (
    -- Every HTTP request of the window, its strings numbered (the Host: '' is no name, so it has no
    -- raw_id; 0 marks it, so that min_by below still sees a first request made with Host '').
    SELECT h.uid, h.epoch, CASE WHEN h.host IS NOT NULL THEN coalesce(n.raw_id, 0) END AS host_id,
           u.ua_id, h.request_body_len AS req_bytes, h.response_body_len AS resp_bytes,
           coalesce(s.addr_id, addr_key(h.src)) AS src_id, coalesce(d.addr_id, addr_key(h.dst)) AS dst_id,
           h.dst_port, h.sensor = 'suricata' AS suri
    FROM http h
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
    -- numbered, so a NULL number means a NULL string.
    SELECT uid, nullif(min_by(host_id, epoch), 0) AS raw_id, min_by(ua_id, epoch) AS ua_id,
           sum(req_bytes) AS req_bytes, sum(resp_bytes) AS resp_bytes, min(epoch) AS epoch,
           min_by(src_id, epoch) AS src_id, min_by(dst_id, epoch) AS dst_id, min(dst_port) AS dst_port,
           min(suri) AS suri, count(*) AS requests
    FROM http_r
    GROUP BY uid
), http_c AS (
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
    WHERE quiet_s >= $request_gap_s          -- NULL for the connection's first request: it is in http_u
), conn_w AS (
    SELECT c.uid, c.epoch, c.src_id, c.dst_id, c.dst_port, c.duration,
           CASE WHEN c.sensor = 'suricata' THEN c.orig_ip_bytes ELSE c.orig_bytes END AS orig_bytes,
           CASE WHEN c.sensor = 'suricata' THEN c.resp_ip_bytes ELSE c.resp_bytes END AS resp_bytes,
           c.sensor = 'suricata' AS suri, an.raw_id AS answer_raw_id
    FROM (SELECT c.*, coalesce(s.addr_id, addr_key(c.src)) AS src_id, coalesce(d.addr_id, addr_key(c.dst)) AS dst_id
          FROM conn c
          LEFT JOIN scan_addr_apart s ON s.addr = c.src
          LEFT JOIN scan_addr_apart d ON d.addr = c.dst
          WHERE c.epoch >= $t0 AND c.epoch < $t1
            AND NOT (coalesce(c.dst_port, -1) = $dns_port OR coalesce(c.service, '') = 'dns')) c
    LEFT JOIN scan_answer_names an ON an.src_id = c.src_id AND an.dst_id = c.dst_id
), ct AS (
    SELECT coalesce(c.uid, t.uid) AS uid, c.uid IS NOT NULL AS has_conn,
           coalesce(c.epoch, t.epoch) AS epoch, coalesce(c.src_id, t.src_id) AS src_id,
           coalesce(c.dst_id, t.dst_id) AS dst_id, coalesce(c.dst_port, t.dst_port) AS dst_port,
           coalesce(c.suri, t.suri) AS suri, c.duration, c.orig_bytes, c.resp_bytes, c.answer_raw_id,
           t.uid IS NOT NULL AS has_tls, t.raw_id, t.client_id
    FROM conn_w c
    FULL OUTER JOIN tls_u t ON t.uid = c.uid
), ev AS (
    -- A later request (h.later) is an event at its own time with its own bytes, named and keyed like
    -- its connection; the logs that saw the connection are credited once, by its first row.
    SELECT coalesce(ct.src_id, h.src_id) AS src_id, coalesce(ct.dst_id, h.dst_id) AS dst_id,
           coalesce(ct.dst_port, h.dst_port) AS dst_port,
           CASE WHEN h.later THEN h.epoch ELSE coalesce(ct.epoch, h.epoch) END AS epoch,
           CASE WHEN h.later THEN NULL ELSE ct.duration END AS duration,
           CASE WHEN h.later THEN h.req_bytes ELSE coalesce(ct.orig_bytes, h.req_bytes) END AS bytes_out,
           CASE WHEN h.later THEN h.resp_bytes ELSE coalesce(ct.resp_bytes, h.resp_bytes) END AS bytes_in,
           coalesce(ct.raw_id, h.raw_id, ct.answer_raw_id) AS raw_id, ct.client_id, h.ua_id,
           ct.raw_id IS NULL AND h.raw_id IS NULL AND ct.answer_raw_id IS NOT NULL AS by_answer,
           coalesce(ct.has_conn AND NOT h.later, ct.has_conn, FALSE) AS has_conn,
           coalesce(ct.has_tls AND NOT h.later, ct.has_tls, FALSE) AS has_tls,
           h.uid IS NOT NULL AS has_http, coalesce(ct.suri, h.suri, FALSE) AS suri,
           coalesce(h.later, FALSE) AS by_request
    FROM ct
    FULL OUTER JOIN http_c h ON h.uid = ct.uid
)
SELECT src_id, dst_id, dst_port, epoch, duration, bytes_out, bytes_in, raw_id, client_id, ua_id,
       has_conn AND NOT suri AS by_conn,
       suri AS by_eve,
       has_tls AND NOT suri AS by_ssl,
       has_http AND NOT suri AS by_http,
       FALSE AS by_dns,
       by_answer,
       by_request
FROM ev;
