-- Stage 26: raw gaps between successive events of a channel (seconds).
-- Each event finds its channel through its part (stage 22: the same grouping columns, compared with
-- IS NOT DISTINCT FROM because a part may have no name, address, port or client).
-- Channels with fewer events than $min_checkins can never reach that many check-ins: skipped here.
-- One row per event: its channel, request size (stage 43) and gap, not its time (no later stage reads it).
CREATE OR REPLACE TEMP TABLE scan_raw AS
SELECT p.chan_id, e.bytes_out,
       e.epoch - lag(e.epoch) OVER (PARTITION BY p.chan_id ORDER BY e.epoch) AS d
FROM scan_events e
JOIN scan_parts p
  ON p.src_id = e.src_id AND p.by_dns = e.by_dns
 AND p.raw_id IS NOT DISTINCT FROM e.raw_id
 AND p.dst_id IS NOT DISTINCT FROM e.dst_id AND p.dst_port IS NOT DISTINCT FROM e.dst_port
 AND p.client_id IS NOT DISTINCT FROM e.client_id AND p.ua_id IS NOT DISTINCT FROM e.ua_id
WHERE p.chan_events >= $min_checkins;
