-- Stage 58 (report): remember that a report was written. Parameters: $generated_at, $window_start,
-- $window_end (TIMESTAMP, may be NULL), $findings. Returns the new run_id.
INSERT INTO report_runs (run_id, generated_at, window_start, window_end, findings)
SELECT coalesce(max(run_id), 0) + 1, $generated_at, $window_start, $window_end, $findings
FROM report_runs
RETURNING run_id;
