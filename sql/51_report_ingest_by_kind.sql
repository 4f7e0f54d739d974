-- Stage 51 (report): ingest health per log kind, from the ingest bookkeeping. Read-only.
-- Input table: report_files. Parameters: none.
-- The files of the window (report_files, sql/51_report_ingest_0_window.sql).
-- Output: kind ('(skipped)' / '(failed)' for files that were not loaded), files, data_lines, rows_loaded,
-- lines_rejected, skipped_events, files_with_rejects, first_ts, last_ts.
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
FROM report_files
GROUP BY ALL
) AS per_kind
ORDER BY starts_with(kind, '('), kind;
