-- Stage 53 (report): the first rejected lines, with the file they came from. Read-only.
-- Input tables: ingest_rejects, report_files. Parameters: $limit (max rows returned).
-- The files of the window (report_files, sql/51_report_ingest_0_window.sql).
-- Output: path, line, reason, text (the rejected line as stored: attacker-controlled).
SELECT f.path, r.line, r.reason, r.text
FROM ingest_rejects AS r
JOIN report_files AS f ON f.file_id = r.file_id
ORDER BY f.path, r.file_id, r.line
LIMIT $limit;
