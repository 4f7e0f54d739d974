-- Stage 21, last file (see 21_events_1_tls.sql): scan_events, the connections of the window
-- joined by uid to the TLS handshakes (scan_tls_u) and the HTTP requests (scan_http_c).
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $dns_port.
CREATE OR REPLACE TEMP TABLE scan_events AS
WITH conn_w AS (
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
    FULL OUTER JOIN scan_tls_u t ON t.uid = c.uid
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
    FULL OUTER JOIN scan_http_c h ON h.uid = ct.uid
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
