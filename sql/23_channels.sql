-- Stage 23: the channel key of every event.
-- A channel is (source host, destination, client fingerprint):
--   destination  from stage 22 (tenant / group / name), or 'ip:<dst>:<port>' only when the event has
--                no name at all. A serverless name is never reduced to its IP: anycast addresses rotate.
--   fingerprint  JA4, else JA3, else User-Agent, else '' (separates an implant from a browser on the
--                same shared host, e.g. script.google.com).
-- Stage 24 numbers the channels; stage 25 joins every event to its number on the three columns (not
-- on one concatenated key: building that string for every event cost more than the join itself).
-- A view, not a table: stages 24 and 25 read it once each, and materializing every event with all its
-- columns once more would double the scan's memory on a big day.
CREATE OR REPLACE TEMP VIEW scan_keyed AS
SELECT e.src, e.dst, e.dst_port, e.epoch, e.duration, e.bytes_out, e.bytes_in, cl.ja3, cl.ja4, e.user_agent,
       e.via, e.has_tls, e.has_http, e.sensor, n.name_id,
       CASE
           WHEN n.name IS NULL THEN 'ip:' || coalesce(e.dst, '?') || ':' || coalesce(CAST(e.dst_port AS VARCHAR), '?')
           WHEN e.via = 'dns' THEN n.key_dns
           ELSE n.key_conn
       END AS dest_key,
       coalesce(cl.ja4, cl.ja3, e.user_agent, '') AS fp
FROM scan_events e
LEFT JOIN scan_names n ON n.raw_name = e.raw_name
LEFT JOIN scan_clients cl ON cl.client_id = e.client_id   -- the TLS fingerprints (stage 20)
WHERE e.src IS NOT NULL;    -- an event without a source host cannot be attributed to anyone
