-- Stage 50 (report): the connection start times of ONE finding's channel, for its timeline and
-- gap histogram. Read-only; creates nothing.
-- Input tables: conn, tls, http, dns (sql/00_schema.sql).
-- Parameters (all bound, any may be NULL unless said):
--   $src        internal host of the finding (required)
--   $names      VARCHAR[]: the channel's destination names (SNI / Host / DNS query), lower-case, no
--               trailing dot: the finding's host plus, when known, the other names of its tenant or
--               redirect pair (a beacon rotating among workers of one account is one channel)
--   $dst        destination address   $dst_port  destination port (used only when $names is empty)
--   $ja4, $ja3  client fingerprint: JA4 first, else JA3 (the channel key's precedence)
--   $ua         User-Agent, used only when the channel has no TLS fingerprint (cleartext HTTP)
--   $since, $until  the report window as epoch seconds, [since, until)
--   $sensor_match_s  Zeek and Suricata records this close are one (ScanParams.sensor_match_s, stage 21)
--   $sensor_skew_s   Suricata's clock less Zeek's, as the scan measured it (0: the same clock)
--   $request_gap_s  quiet time after which a later request on a kept-alive HTTP connection is a
--               check-in of its own (the scan's ScanParams.request_gap_s, stage 21)
-- Output: one row per check-in time: epoch DOUBLE, origin VARCHAR ('conn' | 'tls' | 'http' | 'dns'),
-- ordered by time: each connection, plus each later HTTP request on one of its kept-alive connections
-- that follows $request_gap_s or more of quiet on it (as stage 21 times them). Named channels are timed by the conn start of each uid seen in TLS/HTTP with that
-- name (the scan's own definition); DNS query times are used only when no TLS/HTTP row matches
-- (a dns-only store); (dst, dst_port) only for channels without a name, and only the connections no
-- SNI or Host names.
-- Two sensors on one link (Zeek and Suricata, as the scan's stage 21 matches them): a Suricata record
-- within $sensor_match_s seconds of a Zeek record of this channel is the same connection or query
-- logged twice, and is left out, so that the gap histogram shows no pile of zero gaps. A channel that
-- only one sensor saw keeps every record.
WITH
names AS (SELECT DISTINCT unnest($names::VARCHAR[]) AS name),
tls_hits AS (
    SELECT t.uid, t.epoch, 'tls' AS origin, t.sensor = 'suricata' AS suri
    FROM tls AS t
    WHERE len($names::VARCHAR[]) > 0
      AND t.src = $src
      AND lower(rtrim(t.server_name, '.')) IN (SELECT name FROM names)
      AND ($ja4 IS NULL OR t.ja4 = $ja4)
      AND ($ja4 IS NOT NULL OR $ja3 IS NULL OR t.ja3 = $ja3)
      AND ($since IS NULL OR t.epoch >= $since)
      AND ($until IS NULL OR t.epoch < $until)
),
http_hits AS (
    SELECT h.uid, h.epoch, 'http' AS origin, h.sensor = 'suricata' AS suri
    FROM http AS h
    WHERE len($names::VARCHAR[]) > 0
      AND $ja4 IS NULL AND $ja3 IS NULL
      AND h.src = $src
      AND lower(rtrim(split_part(h.host, ':', 1), '.')) IN (SELECT name FROM names)
      AND ($ua IS NULL OR h.user_agent = $ua)
      AND ($since IS NULL OR h.epoch >= $since)
      AND ($until IS NULL OR h.epoch < $until)
),
named AS (
    SELECT uid, min(epoch) AS epoch, min(origin) AS origin, bool_or(suri) AS suri
    FROM (SELECT * FROM tls_hits UNION ALL SELECT * FROM http_hits) AS hits
    GROUP BY uid
),
named_starts AS (
    -- prefer the connection start from conn (same uid and source); keep the app-log time otherwise
    SELECT coalesce(min(c.epoch), min(n.epoch)) AS epoch,
           CASE WHEN min(c.epoch) IS NULL THEN min(n.origin) ELSE 'conn' END AS origin,
           bool_or(n.suri) AS suri
    FROM named AS n
    LEFT JOIN conn AS c ON c.uid = n.uid AND c.src = $src
    GROUP BY n.uid
),
later_requests AS (
    SELECT epoch, 'http' AS origin, suri
    FROM (
        SELECT h.epoch, h.sensor = 'suricata' AS suri, h.epoch - lag(h.epoch) OVER (PARTITION BY h.uid ORDER BY h.epoch) AS quiet_s
        FROM http AS h
        WHERE h.uid IN (SELECT uid FROM named)
          AND h.src = $src
          AND ($since IS NULL OR h.epoch >= $since)
          AND ($until IS NULL OR h.epoch < $until)
    ) AS k
    WHERE quiet_s >= $request_gap_s
),
dns_hits AS (
    SELECT d.epoch, 'dns' AS origin, d.sensor = 'suricata' AS suri
    FROM dns AS d
    WHERE len($names::VARCHAR[]) > 0
      AND d.src = $src
      AND lower(rtrim(d.query, '.')) IN (SELECT name FROM names)
      AND ($since IS NULL OR d.epoch >= $since)
      AND ($until IS NULL OR d.epoch < $until)
),
ip_hits AS (
    SELECT c.epoch, 'conn' AS origin, c.sensor = 'suricata' AS suri
    FROM conn AS c
    WHERE len($names::VARCHAR[]) = 0
      AND c.src = $src
      AND c.dst = $dst
      AND ($dst_port IS NULL OR c.dst_port = $dst_port)
      AND ($since IS NULL OR c.epoch >= $since)
      AND ($until IS NULL OR c.epoch < $until)
      -- not the connections an SNI or Host names: those are another channel's (an hour of http.log
      -- lost made 12 of a poller's connections an address channel, plotted with all 279 of them)
      AND NOT EXISTS (SELECT 1 FROM tls AS t WHERE t.uid = c.uid AND coalesce(t.server_name, '') <> '')
      AND NOT EXISTS (SELECT 1 FROM http AS h WHERE h.uid = c.uid AND coalesce(h.host, '') <> '')
),
hits AS (
    SELECT epoch, origin, suri FROM named_starts
    UNION ALL
    SELECT epoch, origin, suri FROM later_requests
    UNION ALL
    SELECT epoch, origin, suri FROM dns_hits WHERE NOT EXISTS (SELECT 1 FROM named)
    UNION ALL
    SELECT epoch, origin, suri FROM ip_hits
),
on_zeek AS (
    -- Suricata's records on Zeek's clock ($sensor_skew_s: Suricata's clock less Zeek's, as the scan
    -- measured it, stage 21), for the matching only
    SELECT epoch, origin, coalesce(suri, FALSE) AS suri,
           epoch - CASE WHEN coalesce(suri, FALSE) THEN $sensor_skew_s ELSE 0 END AS t
    FROM hits
),
nearest AS (
    -- the nearest Zeek record before and after each record, in one sort (as stage 21 finds them)
    SELECT epoch, origin, suri, t,
           max(CASE WHEN NOT suri THEN t END) OVER (
               ORDER BY t ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS zeek_before,
           min(CASE WHEN NOT suri THEN t END) OVER (
               ORDER BY t ROWS BETWEEN CURRENT ROW AND UNBOUNDED FOLLOWING) AS zeek_after
    FROM on_zeek
)
SELECT epoch, origin
FROM nearest
WHERE NOT suri
   OR NOT (coalesce(t - zeek_before <= $sensor_match_s, FALSE)
           OR coalesce(zeek_after - t <= $sensor_match_s, FALSE))
ORDER BY epoch;
