-- Stage 20: one row per connection start inside the scan window, with the name it was made to.
-- Timing comes from connection starts (Zeek conn.log / Suricata flow), the name from the TLS SNI or
-- the HTTP Host of the same connection (joined by uid = Zeek uid or Suricata flow_id). TLS/HTTP rows
-- whose connection row is not in the window (only ssl.log or http.log was given) still count, with
-- their own ts: the full outer joins keep them, in one pass instead of one anti-join per log.
-- DNS connections are left out here: DNS is scored from dns rows (stage 21 and 47).
-- `via` says which log timed the event (conn | eve | ssl | http | dns); has_tls/has_http which logs named it.
-- The TLS fingerprints (JA3, JA4: long strings, few distinct values) are numbered first, in
-- scan_clients, and events carry the number: this table holds every event of the day, and the two
-- strings were most of its size (stage 23 looks them up again, per channel).
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $dns_port.
CREATE OR REPLACE TEMP TABLE scan_clients AS
SELECT row_number() OVER (ORDER BY ja3, ja4) AS client_id, ja3, ja4
FROM (SELECT DISTINCT nullif(ja3, '') AS ja3, nullif(ja4, '') AS ja4 FROM tls) c;
CREATE OR REPLACE TEMP TABLE scan_events AS
WITH tls_u AS (
    -- One TLS handshake per connection (Zeek ssl.log, Suricata tls): no GROUP BY uid, which on a big
    -- day is the most memory-hungry step of the scan. A second handshake row for one uid would add a
    -- same-instant event, which the burst collapse of stage 30 folds into the first.
    SELECT t.uid, t.server_name, k.client_id, t.epoch, t.src, t.dst, t.dst_port, t.sensor
    FROM tls t
    JOIN scan_clients k ON k.ja3 IS NOT DISTINCT FROM nullif(t.ja3, '') AND k.ja4 IS NOT DISTINCT FROM nullif(t.ja4, '')
    WHERE t.epoch >= $t0 AND t.epoch < $t1 AND t.uid IS NOT NULL
), http_u AS (
    SELECT uid, min_by(host, epoch) AS host, min_by(user_agent, epoch) AS user_agent,
           sum(request_body_len) AS req_bytes, sum(response_body_len) AS resp_bytes,
           min(epoch) AS epoch, min(src) AS src, min(dst) AS dst, min(dst_port) AS dst_port, min(sensor) AS sensor
    FROM http
    WHERE epoch >= $t0 AND epoch < $t1 AND uid IS NOT NULL
    GROUP BY uid
), conn_w AS (
    SELECT uid, epoch, src, dst, dst_port, duration, orig_bytes, resp_bytes, sensor
    FROM conn
    WHERE epoch >= $t0 AND epoch < $t1
      AND NOT (coalesce(dst_port, -1) = $dns_port OR coalesce(service, '') = 'dns')
), ct AS (
    SELECT coalesce(c.uid, t.uid) AS uid, c.uid IS NOT NULL AS has_conn,
           coalesce(c.epoch, t.epoch) AS epoch, coalesce(c.src, t.src) AS src, coalesce(c.dst, t.dst) AS dst,
           coalesce(c.dst_port, t.dst_port) AS dst_port, coalesce(c.sensor, t.sensor) AS sensor,
           c.duration, c.orig_bytes, c.resp_bytes,
           t.uid IS NOT NULL AS has_tls, t.server_name, t.client_id
    FROM conn_w c
    FULL OUTER JOIN tls_u t ON t.uid = c.uid
)
SELECT coalesce(ct.src, h.src) AS src, coalesce(ct.dst, h.dst) AS dst, coalesce(ct.dst_port, h.dst_port) AS dst_port,
       coalesce(ct.epoch, h.epoch) AS epoch, ct.duration,
       coalesce(ct.orig_bytes, h.req_bytes) AS bytes_out,
       coalesce(ct.resp_bytes, h.resp_bytes) AS bytes_in,
       coalesce(nullif(ct.server_name, ''), nullif(h.host, '')) AS raw_name,
       ct.client_id, h.user_agent,
       CASE WHEN coalesce(ct.sensor, h.sensor) = 'suricata' AND coalesce(ct.has_conn, FALSE) THEN 'eve'
            WHEN coalesce(ct.has_conn, FALSE) THEN 'conn'
            WHEN coalesce(ct.has_tls, FALSE) THEN 'ssl'
            ELSE 'http' END AS via,
       coalesce(ct.has_tls, FALSE) AS has_tls, h.uid IS NOT NULL AS has_http,
       coalesce(ct.sensor, h.sensor) AS sensor
FROM ct
FULL OUTER JOIN http_u h ON h.uid = ct.uid;
