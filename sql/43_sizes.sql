-- Stage 43: size consistency. Share of check-ins whose request size is within
-- max($size_abs_tol bytes, $size_rel_tol x median) of the channel's median request size.
-- NULL when the channel has no sizes (DNS-only events). Read from the check-in rows of stage 30.
CREATE OR REPLACE TEMP TABLE scan_sizes AS
WITH med AS (
    SELECT chan_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY bytes_out) AS med_out
    FROM scan_intervals
    WHERE bytes_out IS NOT NULL
    GROUP BY chan_id
)
SELECT c.chan_id,
       avg(CASE WHEN abs(c.bytes_out - med.med_out) <= greatest($size_abs_tol, $size_rel_tol * med.med_out)
                THEN 1.0 ELSE 0.0 END) AS size_score,
       max(med.med_out) AS median_bytes_out
FROM scan_intervals c
JOIN med ON med.chan_id = c.chan_id
WHERE c.bytes_out IS NOT NULL
GROUP BY c.chan_id;
