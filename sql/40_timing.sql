-- Stage 40: gap removal, then the timing statistics of each channel over the kept intervals.
-- An interval longer than $gap_factor x the channel's median interval m (stage 35) is the host asleep, off the
-- network or outside office hours, not part of the beacon's rhythm: it is counted (and reported) but
-- left out of the timing statistics. Cobalt-Strike jitter j makes max/min = 1/(1-j) = 2 at j = 50 %,
-- so a factor of 3 never cuts a beacon's own intervals.
--   n       intervals kept;  gaps / gap_s  sleep gaps removed and their total length
--   q1..q3  quartiles of the kept intervals up to $win_hi x m, the spread of the rhythm itself: the
--           regularity (stage 44) and the jitter a finding reports. A longer interval that is no sleep
--           gap (about 2 m, 3 m: missed check-ins of a beacon that skips, fails or loses a connection)
--           is not jitter: on a real 19-minute C2 timer (Slips test 6 eve.json) that missed every few
--           check-ins, the quartiles of all intervals (1 m and 2 m) read as 80 % jitter.
--           Exponential intervals cut at 1.5 m have QCD 0.58 (0.656 uncut): still no regularity.
--   skips   kept intervals longer than $win_hi x m
--   k       intervals inside [$win_lo x m, $win_hi x m], the jitter window around the median
--   k_tight intervals inside [(1 - $tight_win) x m, (1 + $tight_win) x m]: a precise timer with few
--           check-ins (an hourly beacon over one working day) fills this narrow window, which random
--           traffic rarely does, while the wide window needs many intervals to tell them apart
-- The three quartiles are one ordered-set aggregate with an array of levels (PostgreSQL's form, which
-- DuckDB takes too; on Spark, percentile(x, array(...))): one sort of each channel's intervals instead
-- of three (10M intervals: 1.65 -> 0.7 s for the aggregate alone), the same values.
-- The Poisson tests themselves are in stage 44.
CREATE OR REPLACE TEMP TABLE scan_timing AS
WITH gapped AS (
    SELECT i.chan_id, i.dd, m.m, i.dd > $gap_factor * m.m AS is_gap
    FROM scan_intervals i
    JOIN scan_medians m ON m.chan_id = i.chan_id
    WHERE i.dd IS NOT NULL
), stats AS (
    SELECT chan_id,
           max(m) AS m,
           sum(CASE WHEN is_gap THEN 0 ELSE 1 END) AS n,
           sum(CASE WHEN is_gap THEN 1 ELSE 0 END) AS gaps,
           sum(CASE WHEN is_gap THEN dd ELSE 0 END) AS gap_s,
           percentile_cont(ARRAY[0.25, 0.50, 0.75]) WITHIN GROUP (ORDER BY CASE WHEN dd <= $win_hi * m THEN dd END) AS q,
           sum(CASE WHEN NOT is_gap AND dd > $win_hi * m THEN 1 ELSE 0 END) AS skips,
           sum(CASE WHEN NOT is_gap AND dd >= $win_lo * m AND dd <= $win_hi * m THEN 1 ELSE 0 END) AS k,
           sum(CASE WHEN NOT is_gap AND dd >= (1 - $tight_win) * m AND dd <= (1 + $tight_win) * m THEN 1 ELSE 0 END)
               AS k_tight
    FROM gapped
    GROUP BY chan_id
)
SELECT s.chan_id, s.m, b.burst_s, s.n, s.gaps, s.gap_s, s.q[1] AS q1, s.q[2] AS q2, s.q[3] AS q3, s.skips, s.k,
       s.k_tight, md.fast_period, md.fast_n
FROM stats s
JOIN scan_bursts b ON b.chan_id = s.chan_id
JOIN scan_medians md ON md.chan_id = s.chan_id;
