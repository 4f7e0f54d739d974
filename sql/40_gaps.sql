-- Stage 40: gap removal. An interval longer than $gap_factor x the channel's median interval m is the
-- host asleep, off the network or outside office hours, not part of the beacon's rhythm: it is
-- counted (and reported) but left out of the timing statistics. Cobalt-Strike jitter j makes
-- max/min = 1/(1-j) = 2 at j = 50 %, so a factor of 3 never cuts a beacon's own intervals.
CREATE OR REPLACE TEMP TABLE scan_gapped AS
WITH m AS (
    SELECT chan_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY dd) AS m, max(burst_s) AS burst_s
    FROM scan_intervals
    WHERE dd IS NOT NULL
    GROUP BY chan_id
)
SELECT i.chan_id, i.dd, m.m, m.burst_s, i.dd > $gap_factor * m.m AS is_gap
FROM scan_intervals i
JOIN m ON m.chan_id = i.chan_id
WHERE i.dd IS NOT NULL;
