-- Stage 42: timing statistics per channel over the kept intervals.
--   n       intervals kept;  gaps / gap_s  sleep gaps removed and their total length
--   q1..q3  quartiles of the kept intervals; QCD = (q3-q1)/(q3+q1) is the regularity measure
--           (Poisson: 0.656; Cobalt Strike at 50 % jitter: about 0.2)
--   k       intervals inside [$win_lo x m, $win_hi x m], the jitter window around the median
-- The Poisson test itself is in stage 44.
CREATE OR REPLACE TEMP TABLE scan_timing AS
SELECT chan_id,
       max(m) AS m,
       max(burst_s) AS burst_s,
       sum(CASE WHEN is_gap THEN 0 ELSE 1 END) AS n,
       sum(CASE WHEN is_gap THEN 1 ELSE 0 END) AS gaps,
       sum(CASE WHEN is_gap THEN dd ELSE 0 END) AS gap_s,
       percentile_cont(0.25) WITHIN GROUP (ORDER BY CASE WHEN is_gap THEN NULL ELSE dd END) AS q1,
       percentile_cont(0.50) WITHIN GROUP (ORDER BY CASE WHEN is_gap THEN NULL ELSE dd END) AS q2,
       percentile_cont(0.75) WITHIN GROUP (ORDER BY CASE WHEN is_gap THEN NULL ELSE dd END) AS q3,
       sum(CASE WHEN NOT is_gap AND dd >= $win_lo * m AND dd <= $win_hi * m THEN 1 ELSE 0 END) AS k
FROM scan_gapped
GROUP BY chan_id;
