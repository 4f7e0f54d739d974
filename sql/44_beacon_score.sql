-- Stage 44: the beacon score, calibrated against a Poisson null.
--   z = (k - p0 n) / sqrt(n p0 (1 - p0)), p0 = $p0 = P(interval in the jitter window | exponential,
--       interval <= gap factor x median) -- random traffic gives z ~ N(0, 1)
--   C = clamp((z - $z_lo) / ($z_hi - $z_lo), 0, 1)       evidence that this is not random
--   R = clamp(1 - QCD / $qcd_scale, 0, 1)                  how regular
--   S = size consistency (stage 43), R when unknown
--   beacon = C x ($w_regular R + $w_size S)
-- Channels with fewer than $min_intervals kept intervals get no beacon score.
CREATE OR REPLACE TEMP TABLE scan_beacon AS
WITH z AS (
    SELECT t.*, s.size_score, s.median_bytes_out,
           (t.k - $p0 * t.n) / sqrt(t.n * $p0 * (1 - $p0)) AS z,
           CASE WHEN t.q3 + t.q1 > 0 THEN (t.q3 - t.q1) / (t.q3 + t.q1) ELSE 0 END AS qcd
    FROM scan_timing t
    LEFT JOIN scan_sizes s ON s.chan_id = t.chan_id
    WHERE t.n >= $min_intervals
), parts AS (
    SELECT z.*,
           greatest(0.0, least(1.0, (z.z - $z_lo) / ($z_hi - $z_lo))) AS c_score,
           greatest(0.0, least(1.0, 1 - z.qcd / $qcd_scale)) AS r_score
    FROM z
)
SELECT p.*,
       coalesce(p.size_score, p.r_score) AS s_score,
       p.c_score * ($w_regular * p.r_score + $w_size * coalesce(p.size_score, p.r_score)) AS beacon
FROM parts p;
