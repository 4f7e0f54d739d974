-- Stage 53 (report): the first rejected lines, with the file they came from. Read-only.
-- Input tables: ingest_rejects, ingest_files. Parameters: $limit (max rows returned).
-- Output: path, line, reason, text (the rejected line as stored: attacker-controlled).
SELECT f.path, r.line, r.reason, r.text
FROM ingest_rejects AS r
LEFT JOIN ingest_files AS f ON f.file_id = r.file_id
ORDER BY f.path, r.file_id, r.line
LIMIT $limit;
