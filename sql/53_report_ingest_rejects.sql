-- Stage 53 (report): the first rejected lines, with the file they came from. Read-only.
-- Input tables: ingest_rejects, ingest_files. Parameters: $limit (max rows returned), $since, $until.
-- The files of the window: those with rows in it, and those with no rows to date (skipped, or every
-- line rejected) loaded with or after the first of them. A nightly report on a kept store showed
-- every file the store ever loaded: a month-old night's damage stayed in red under "Files to check"
-- in every later report. $since / $until (naive UTC TIMESTAMPs) NULL: the whole store.
-- Output: path, line, reason, text (the rejected line as stored: attacker-controlled).
WITH in_window AS (
    SELECT * FROM ingest_files
    WHERE CAST($since AS TIMESTAMP) IS NULL
       OR (min_ts IS NOT NULL AND max_ts >= CAST($since AS TIMESTAMP) AND min_ts < CAST($until AS TIMESTAMP))
       OR (min_ts IS NULL AND loaded_at >= (SELECT min(loaded_at) FROM ingest_files
                                            WHERE max_ts >= CAST($since AS TIMESTAMP)
                                              AND min_ts < CAST($until AS TIMESTAMP)))
)
SELECT f.path, r.line, r.reason, r.text
FROM ingest_rejects AS r
JOIN in_window AS f ON f.file_id = r.file_id
ORDER BY f.path, r.file_id, r.line
LIMIT $limit;
