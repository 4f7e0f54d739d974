-- Stage 51 (report): ingest health per log kind, from the ingest bookkeeping. Read-only.
-- Input table: ingest_files. Parameters: $since, $until.
-- The files of the window: those with rows in it, and those with no rows to date (skipped, or every
-- line rejected) loaded with or after the first of them. A nightly report on a kept store showed
-- every file the store ever loaded: a month-old night's damage stayed in red under "Files to check"
-- in every later report. $since / $until (naive UTC TIMESTAMPs) NULL: the whole store.
-- Output: kind ('(skipped)' / '(failed)' for files that were not loaded), files, data_lines, rows_loaded,
-- lines_rejected, skipped_events, files_with_rejects, first_ts, last_ts.
WITH in_window AS (
    SELECT * FROM ingest_files
    WHERE CAST($since AS TIMESTAMP) IS NULL
       OR (min_ts IS NOT NULL AND max_ts >= CAST($since AS TIMESTAMP) AND min_ts < CAST($until AS TIMESTAMP))
       OR (min_ts IS NULL AND loaded_at >= (SELECT min(loaded_at) FROM ingest_files
                                            WHERE max_ts >= CAST($since AS TIMESTAMP)
                                              AND min_ts < CAST($until AS TIMESTAMP)))
)
SELECT * FROM (
SELECT
    CASE WHEN status IN ('skipped', 'failed') OR kind IS NULL
         THEN '(' || coalesce(status, 'skipped') || ')' ELSE kind END AS kind,
    count(*)                                                     AS files,
    coalesce(sum(data_lines), 0)                                 AS data_lines,
    coalesce(sum(rows_loaded), 0)                                AS rows_loaded,
    coalesce(sum(lines_rejected), 0)                             AS lines_rejected,
    coalesce(sum(skipped_events), 0)                             AS skipped_events,
    count(*) FILTER (WHERE coalesce(lines_rejected, 0) > 0)      AS files_with_rejects,
    min(min_ts)                                                  AS first_ts,
    max(max_ts)                                                  AS last_ts
FROM in_window
GROUP BY ALL
) AS per_kind
ORDER BY starts_with(kind, '('), kind;
