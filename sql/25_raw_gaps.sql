-- Stage 25: raw gaps between successive events of a channel (seconds).
-- Channels with fewer events than $min_checkins can never reach that many check-ins: skipped here.
CREATE OR REPLACE TEMP TABLE scan_raw AS
SELECT c.chan_id, k.epoch, k.bytes_out,
       k.epoch - lag(k.epoch) OVER (PARTITION BY c.chan_id ORDER BY k.epoch) AS d
FROM scan_keyed k
JOIN scan_channels c ON c.chan_key = k.chan_key
WHERE c.events >= $min_checkins;
