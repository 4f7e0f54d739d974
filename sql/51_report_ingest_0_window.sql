-- Stage 51 (report), first: the ingest bookkeeping of the report's window, which stages 51-53 read.
-- Input table: ingest_files. Parameters: $since, $until.
-- The files of the window: those with rows in it, and those with no rows to date (skipped, or every
-- line rejected) loaded with or after the first of them. A nightly report on a kept store showed
-- every file the store ever loaded: a month-old night's damage stayed in red under "Files to check"
-- in every later report. $since / $until (naive UTC TIMESTAMPs) NULL: the whole store.
-- Output: temp table report_files (the rows of ingest_files that belong to the window).
CREATE OR REPLACE TEMP TABLE report_files AS
SELECT * FROM ingest_files
WHERE CAST($since AS TIMESTAMP) IS NULL
   OR (min_ts IS NOT NULL AND max_ts >= CAST($since AS TIMESTAMP) AND min_ts < CAST($until AS TIMESTAMP))
   OR (min_ts IS NULL AND loaded_at >= (SELECT min(loaded_at) FROM ingest_files
                                        WHERE max_ts >= CAST($since AS TIMESTAMP)
                                          AND min_ts < CAST($until AS TIMESTAMP)));
