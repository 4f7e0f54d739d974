-- Stage 52 (report): the files an analyst should look at: skipped, with rejected lines, or with a
-- warning. Read-only.
-- Input table: ingest_files. Parameters: $limit (max rows returned), $since, $until.
-- The files of the window: those with rows in it, and those with no rows to date (skipped, or every
-- line rejected) loaded with or after the first of them. A nightly report on a kept store showed
-- every file the store ever loaded: a month-old night's damage stayed in red under "Files to check"
-- in every later report. $since / $until (naive UTC TIMESTAMPs) NULL: the whole store.
-- Output: file_id, path, kind, format, status, data_lines, rows_loaded, lines_rejected, reason,
-- min_ts, max_ts; worst first (most rejects), then by path.
WITH in_window AS (
    SELECT * FROM ingest_files
    WHERE CAST($since AS TIMESTAMP) IS NULL
       OR (min_ts IS NOT NULL AND max_ts >= CAST($since AS TIMESTAMP) AND min_ts < CAST($until AS TIMESTAMP))
       OR (min_ts IS NULL AND loaded_at >= (SELECT min(loaded_at) FROM ingest_files
                                            WHERE max_ts >= CAST($since AS TIMESTAMP)
                                              AND min_ts < CAST($until AS TIMESTAMP)))
)
SELECT file_id, path, kind, format, status, data_lines, rows_loaded, lines_rejected, reason,
       min_ts, max_ts
FROM in_window
WHERE coalesce(lines_rejected, 0) > 0
   OR status = 'skipped'
   OR reason IS NOT NULL AND reason <> ''
ORDER BY coalesce(lines_rejected, 0) DESC, path, file_id
LIMIT $limit;
