-- Stage 58 (report), before the run is recorded: forget an earlier report of this very window (a
-- cron retry, a report run twice), so that each window is remembered once, as last reported.
-- Parameters: $window_start, $window_end (TIMESTAMP, may be NULL).
DELETE FROM report_channels
WHERE run_id IN (SELECT run_id FROM report_runs
                 WHERE window_start IS NOT DISTINCT FROM CAST($window_start AS TIMESTAMP)
                   AND window_end IS NOT DISTINCT FROM CAST($window_end AS TIMESTAMP));

DELETE FROM report_runs
WHERE window_start IS NOT DISTINCT FROM CAST($window_start AS TIMESTAMP)
  AND window_end IS NOT DISTINCT FROM CAST($window_end AS TIMESTAMP);
