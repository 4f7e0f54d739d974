-- Stage 52 (report): the files an analyst should look at: skipped, with rejected lines, or with a
-- warning. Read-only.
-- Input table: ingest_files. Parameters: $limit (max rows returned).
-- Output: file_id, path, kind, format, status, data_lines, rows_loaded, lines_rejected, reason,
-- min_ts, max_ts; worst first (most rejects), then by path.
SELECT file_id, path, kind, format, status, data_lines, rows_loaded, lines_rejected, reason,
       min_ts, max_ts
FROM ingest_files
WHERE coalesce(lines_rejected, 0) > 0
   OR status = 'skipped'
   OR reason IS NOT NULL AND reason <> ''
ORDER BY coalesce(lines_rejected, 0) DESC, path, file_id
LIMIT $limit;
