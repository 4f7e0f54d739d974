-- Stage 56 (report): for each channel of this report, its history in earlier reports. Read-only.
-- Input tables: report_runs, report_channels (stage 55). Parameters: $keys (VARCHAR[], this
-- report's channel keys), $window_start, $window_end (this report's window, NULL when none).
-- An earlier report of this very window is a re-run (a cron retry), not an earlier report: it is
-- replaced when this one is recorded (stage 58), and left out here, or tonight's new channels would
-- read as recurring on the retry.
-- Output: channel_key, runs_seen (earlier reports listing it), first_reported, last_reported,
-- in_previous (listed by the most recent earlier report).
WITH
current_keys AS (SELECT DISTINCT unnest($keys::VARCHAR[]) AS channel_key),
earlier AS (
    SELECT run_id, generated_at FROM report_runs
    WHERE NOT (window_start IS NOT DISTINCT FROM CAST($window_start AS TIMESTAMP)
               AND window_end IS NOT DISTINCT FROM CAST($window_end AS TIMESTAMP))
),
seen AS (
    SELECT c.channel_key, c.run_id, e.generated_at
    FROM report_channels AS c
    JOIN earlier AS e ON e.run_id = c.run_id
),
previous AS (SELECT max(run_id) AS run_id FROM earlier)
SELECT k.channel_key,
       count(DISTINCT s.run_id)                                           AS runs_seen,
       min(s.generated_at)                                                AS first_reported,
       max(s.generated_at)                                                AS last_reported,
       coalesce(bool_or(s.run_id = (SELECT run_id FROM previous)), false) AS in_previous
FROM current_keys AS k
LEFT JOIN seen AS s ON s.channel_key = k.channel_key
GROUP BY k.channel_key
ORDER BY k.channel_key;
