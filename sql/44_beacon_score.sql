-- Stage 44: the beacon score, calibrated against a Poisson null.
--   z_wide  = (k - p0 n) / sqrt(n p0 (1 - p0)), p0 = $p0 = P(interval in the jitter window | exponential,
--             interval <= gap factor x median) -- random traffic gives z ~ N(0, 1)
--   z_tight = the same question for the narrow window (k_tight, $p0_tight, derived from $tight_win and
--             $gap_factor by scan.py), as the signed root of the likelihood ratio, sqrt(2 n' KL(a || p0)):
--             with a small p0 and few intervals the normal approximation above overstates the evidence,
--             the likelihood ratio does not (it tracks the exact binomial tail). a = k' / n' after taking
--             $median_corr intervals out of both counts: the sample median itself lies in the window by
--             construction. Simulated on exponential intervals (n = 4 ... 1000), P(z_tight >= 3) stays
--             at about 0.1 %, no more than z_wide's.
--   z = the larger of the two: a jittery beacon is found by the wide window, a precise timer with a
--       handful of check-ins by the narrow one.
--   C = clamp((z - $z_lo) / ($z_hi - $z_lo), 0, 1)       evidence that this is not random
--   R = clamp(1 - QCD / $qcd_scale, 0, 1)                  how regular: QCD of the check-in period
--       itself, the quartiles put back by the burst gap b (q + b), the period the finding reports.
--       Stage 30 shifts intervals by b for the Poisson test only; measured on the shifted values, a
--       30 s Cobalt Strike beacon at 80 % jitter with a 4.7 s burst gap had QCD 0.46 instead of 0.33.
--   S = size consistency (stage 43), R when unknown
--   beacon = C x ($w_regular R + $w_size S)
-- Channels with fewer than $min_intervals kept intervals get no beacon score.
CREATE OR REPLACE TEMP TABLE scan_beacon AS
WITH tight AS (
    SELECT t.*, s.size_score, s.median_bytes_out,
           (t.k - $p0 * t.n) / sqrt(t.n * $p0 * (1 - $p0)) AS z_wide,
           CAST(greatest(t.k_tight - $median_corr, 0) AS DOUBLE) / (t.n - $median_corr) AS a,
           t.n - $median_corr AS n_tight,
           CASE WHEN t.q3 + t.q1 > 0 THEN (t.q3 - t.q1) / ((t.q3 + t.burst_s) + (t.q1 + t.burst_s)) ELSE 0 END
               AS qcd
    FROM scan_timing t
    LEFT JOIN scan_sizes s ON s.chan_id = t.chan_id
    WHERE t.n >= $min_intervals AND t.n > $median_corr
), lr AS (
    -- g = n' KL(a || p0_tight), the log likelihood ratio; z_tight = sqrt(2 g), written sqrt(g + g)
    SELECT tight.*,
           CASE WHEN a > $p0_tight
                THEN n_tight * (a * ln(a / $p0_tight)
                                + CASE WHEN a < 1 THEN (1 - a) * ln((1 - a) / (1 - $p0_tight)) ELSE 0 END)
                ELSE 0 END AS g
    FROM tight
), z AS (
    SELECT lr.*, sqrt(g + g) AS z_tight, greatest(z_wide, sqrt(g + g)) AS z
    FROM lr
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
