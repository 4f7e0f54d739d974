-- Stage 52 (report): the files an analyst should look at: skipped, with rejected lines, or with a
-- warning. Read-only.
-- Input table: report_files. Parameters: $limit (max rows returned).
-- The files of the window (report_files, sql/51_report_ingest_0_window.sql).
-- Output: file_id, path, kind, format, status, data_lines, rows_loaded, lines_rejected, reason,
-- min_ts, max_ts; worst first (most rejects), then by path.
SELECT file_id, path, kind, format, status, data_lines, rows_loaded, lines_rejected, reason,
       min_ts, max_ts
FROM report_files
WHERE coalesce(lines_rejected, 0) > 0
   OR status = 'skipped'
   OR reason IS NOT NULL AND reason <> ''
ORDER BY coalesce(lines_rejected, 0) DESC, path, file_id
LIMIT $limit;
