-- Stage 57 (report): channels the previous report listed that this one does not (gone quiet, or
-- allowlisted since). Read-only. The previous report is the latest of another window (stage 56).
-- Input tables: report_runs, report_channels. Parameters: $keys (VARCHAR[], this report's keys),
-- $window_start, $window_end.
-- Output: the previous report's time, and channel_key, severity, score, src, host, platform.
WITH previous AS (
    SELECT run_id, generated_at FROM report_runs
    WHERE NOT (window_start IS NOT DISTINCT FROM CAST($window_start AS TIMESTAMP)
               AND window_end IS NOT DISTINCT FROM CAST($window_end AS TIMESTAMP))
    ORDER BY run_id DESC LIMIT 1
)
SELECT p.generated_at, c.channel_key, c.severity, c.score, c.src, c.host, c.platform
FROM report_channels AS c
JOIN previous AS p ON p.run_id = c.run_id
WHERE c.channel_key NOT IN (SELECT unnest($keys::VARCHAR[]))
ORDER BY c.score DESC, c.channel_key;
