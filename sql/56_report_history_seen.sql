-- Stage 56 (report): for each channel of this report, its history in earlier reports. Read-only.
-- Input tables: report_runs, report_channels (stage 55). Parameters: $keys (VARCHAR[], this
-- report's channel keys).
-- Output: channel_key, runs_seen (earlier reports listing it), first_reported, last_reported,
-- in_previous (listed by the most recent earlier report).
WITH
current_keys AS (SELECT DISTINCT unnest($keys::VARCHAR[]) AS channel_key),
previous AS (SELECT max(run_id) AS run_id FROM report_runs)
SELECT k.channel_key,
       count(DISTINCT c.run_id)                                           AS runs_seen,
       min(r.generated_at)                                                AS first_reported,
       max(r.generated_at)                                                AS last_reported,
       coalesce(bool_or(c.run_id = (SELECT run_id FROM previous)), false) AS in_previous
FROM current_keys AS k
LEFT JOIN report_channels AS c ON c.channel_key = k.channel_key
LEFT JOIN report_runs AS r ON r.run_id = c.run_id
GROUP BY k.channel_key
ORDER BY k.channel_key;
