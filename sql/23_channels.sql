-- Stage 23: the channel key of every event.
-- A channel is (source host, destination, client fingerprint):
--   destination  from stage 22 (tenant / group / name), or 'ip:<dst>:<port>' only when the event has
--                no name at all. A serverless name is never reduced to its IP: anycast addresses rotate.
--   fingerprint  JA4, else JA3, else User-Agent, else '' (separates an implant from a browser on the
--                same shared host, e.g. script.google.com).
-- chan_key joins the three into one string so later stages join and group on one column.
-- A view, not a table: stages 24 and 25 read it once each, and materializing every event with all its
-- columns once more would double the scan's memory on a big day.
CREATE OR REPLACE TEMP VIEW scan_keyed AS
WITH k AS (
    SELECT e.src, e.dst, e.dst_port, e.epoch, e.duration, e.bytes_out, e.bytes_in, e.ja3, e.ja4, e.user_agent,
           e.via, e.has_tls, e.has_http, e.sensor, n.name,
           CASE
               WHEN n.name IS NULL THEN 'ip:' || coalesce(e.dst, '?') || ':' || coalesce(CAST(e.dst_port AS VARCHAR), '?')
               WHEN e.via = 'dns' THEN n.key_dns
               ELSE n.key_conn
           END AS dest_key,
           coalesce(e.ja4, e.ja3, e.user_agent, '') AS fp
    FROM scan_events e
    LEFT JOIN scan_names n ON n.raw_name = e.raw_name
    WHERE e.src IS NOT NULL    -- an event without a source host cannot be attributed to anyone
)
SELECT k.*, k.src || '|' || k.dest_key || '|' || k.fp AS chan_key
FROM k;
