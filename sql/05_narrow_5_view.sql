-- Stage 05, last file, for a store that keeps its logs (--db, report: analyzer.narrow): conn_n and
-- tls_n are the narrowing views themselves (05_narrow_4_views.sql). Stage 21 reads conn and tls
-- through them once; copying them into tables first would write the 10M rows of a big day once more.
CREATE OR REPLACE TEMP VIEW conn_n AS SELECT * FROM _conn_narrowed;

CREATE OR REPLACE TEMP VIEW tls_n AS SELECT * FROM _tls_narrowed;
