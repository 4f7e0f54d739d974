-- Stage 05, last file, for a store that ends with the scan (analyzer.narrow, release): the batch's
-- narrowed rows (05_narrow_4_views.sql) into tables, which later batches add to; the logs are then
-- emptied, so that conn and tls are never held as logged together.
CREATE TEMP TABLE IF NOT EXISTS conn_n AS SELECT * FROM _conn_narrowed LIMIT 0;
INSERT INTO conn_n SELECT * FROM _conn_narrowed;

CREATE TEMP TABLE IF NOT EXISTS tls_n AS SELECT * FROM _tls_narrowed LIMIT 0;
INSERT INTO tls_n SELECT * FROM _tls_narrowed;
