-- Stage 26: raw gaps between successive events of a channel (seconds).
-- Channels with fewer events than $min_checkins can never reach that many check-ins: skipped here.
CREATE OR REPLACE TEMP TABLE scan_raw AS
SELECT e.chan_id, e.epoch, e.bytes_out,
       e.epoch - lag(e.epoch) OVER (PARTITION BY e.chan_id ORDER BY e.epoch) AS d
FROM scan_chev e
JOIN scan_channels c ON c.chan_id = e.chan_id
WHERE c.events >= $min_checkins;
