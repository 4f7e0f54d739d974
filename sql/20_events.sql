-- Stage 20: one row per connection start inside the scan window, with the name it was made to.
-- Timing comes from connection starts (Zeek conn.log / Suricata flow), the name from the TLS SNI or
-- the HTTP Host of the same connection (joined by uid = Zeek uid or Suricata flow_id). TLS/HTTP rows
-- whose connection row is missing (only ssl.log or http.log was given) still count, with their own ts.
-- DNS connections are left out here: DNS is scored from dns rows (stage 21 and 45).
-- `via` says which log timed the event (conn | eve | ssl | http | dns); has_tls/has_http which logs named it.
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $dns_port.
CREATE OR REPLACE TEMP TABLE scan_events AS
WITH tls_u AS (
    SELECT uid, min(server_name) AS server_name, min(ja3) AS ja3, min(ja4) AS ja4
    FROM tls
    WHERE epoch >= $t0 AND epoch < $t1 AND uid IS NOT NULL
    GROUP BY uid
), http_u AS (
    SELECT uid, min_by(host, epoch) AS host, min_by(user_agent, epoch) AS user_agent, count(*) AS requests,
           sum(request_body_len) AS req_bytes, sum(response_body_len) AS resp_bytes
    FROM http
    WHERE epoch >= $t0 AND epoch < $t1 AND uid IS NOT NULL
    GROUP BY uid
), conn_w AS (
    SELECT * FROM conn
    WHERE epoch >= $t0 AND epoch < $t1
      AND NOT (coalesce(dst_port, -1) = $dns_port OR coalesce(service, '') = 'dns')
)
SELECT c.src, c.dst, c.dst_port, c.epoch, c.duration,
       coalesce(c.orig_bytes, h.req_bytes) AS bytes_out,
       coalesce(c.resp_bytes, h.resp_bytes) AS bytes_in,
       coalesce(nullif(t.server_name, ''), nullif(h.host, '')) AS raw_name,
       nullif(t.ja3, '') AS ja3, nullif(t.ja4, '') AS ja4, h.user_agent,
       CASE WHEN c.sensor = 'suricata' THEN 'eve' ELSE 'conn' END AS via,
       t.uid IS NOT NULL AS has_tls, h.uid IS NOT NULL AS has_http, c.sensor
FROM conn_w c
LEFT JOIN tls_u t ON t.uid = c.uid
LEFT JOIN http_u h ON h.uid = c.uid
UNION ALL
SELECT t.src, t.dst, t.dst_port, t.epoch, CAST(NULL AS DOUBLE), CAST(NULL AS BIGINT), CAST(NULL AS BIGINT),
       nullif(t.server_name, ''), nullif(t.ja3, ''), nullif(t.ja4, ''), CAST(NULL AS VARCHAR),
       'ssl', TRUE, FALSE, t.sensor
FROM tls t
WHERE t.epoch >= $t0 AND t.epoch < $t1
  AND NOT EXISTS (SELECT 1 FROM conn c WHERE c.uid = t.uid)
UNION ALL
SELECT h.src, h.dst, h.dst_port, h.epoch, CAST(NULL AS DOUBLE), h.request_body_len, h.response_body_len,
       nullif(h.host, ''), CAST(NULL AS VARCHAR), CAST(NULL AS VARCHAR), h.user_agent,
       'http', FALSE, TRUE, h.sensor
FROM http h
WHERE h.epoch >= $t0 AND h.epoch < $t1
  AND NOT EXISTS (SELECT 1 FROM conn c WHERE c.uid = h.uid)
  AND NOT EXISTS (SELECT 1 FROM tls t WHERE t.uid = h.uid);
