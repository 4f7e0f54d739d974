-- Stage 05, first file: the strings of a batch of conn and tls rows (every row the two tables hold:
-- a scan-owned store empties them after each batch, analyzer.narrow), one pass over each table.
--   _nb_addrs   (addr)                      the addresses of the batch
--   _nb_names   (raw_name)                  its TLS SNI, as logged, '' left out
--   _nb_clients (ja3, ja4)                  its TLS clients ('' counts as none)
-- and appends each SNI with its first use in the batch to scan_tls_names, and the batch's first and
-- last connection to scan_conn_span.
-- Each log is read once, into GROUPING SETS: one hash table per set, each as small as the distinct
-- values of its own columns (the column a row of a set does not group by is NULL there, GROUPING(column)
-- = 0 says which set a row is of). conn gives its sources, its destinations and () the batch's span;
-- tls its names, clients, sources and destinations.
-- Grouped first on the distinct (source, destination) pairs of conn, and (name, client, source,
-- destination) of tls, and the sets read from those, this was faster only where the pairs are far
-- fewer than the rows: 10M connections over 100k channels 0.66 + 0.98 s against 0.80 + 1.09 s; over
-- 2M channels, as a real day's long tail of sites visited a few times makes, 1.3-1.5 + 2.4-2.6 s
-- against 0.8 + 1.35 s, the pairs being 2M and 1.4M hash-table rows.
CREATE OR REPLACE TEMP TABLE _nb_conn AS
SELECT src, dst, min(epoch) AS first_epoch, max(epoch) AS last_epoch,
       GROUPING(src) = 0 AS is_src, GROUPING(dst) = 0 AS is_dst
FROM conn
GROUP BY GROUPING SETS ((src), (dst), ());

CREATE OR REPLACE TEMP TABLE _nb_tls AS
SELECT server_name, ja3, ja4, src, dst, min(epoch) AS first_epoch,
       GROUPING(server_name) = 0 AS is_name, GROUPING(ja3) = 0 AS is_client, GROUPING(src) = 0 AS is_src
FROM (SELECT server_name, nullif(ja3, '') AS ja3, nullif(ja4, '') AS ja4, src, dst, epoch FROM tls) t
GROUP BY GROUPING SETS ((server_name), (ja3, ja4), (src), (dst));

CREATE OR REPLACE TEMP TABLE _nb_addrs AS
SELECT src AS addr FROM _nb_conn WHERE is_src
UNION ALL
SELECT dst FROM _nb_conn WHERE is_dst
UNION ALL
SELECT CASE WHEN is_src THEN src ELSE dst END FROM _nb_tls WHERE NOT is_name AND NOT is_client;

CREATE OR REPLACE TEMP TABLE _nb_names AS
SELECT server_name AS raw_name FROM _nb_tls WHERE is_name AND server_name <> '';

CREATE OR REPLACE TEMP TABLE _nb_clients AS
SELECT ja3, ja4 FROM _nb_tls WHERE is_client;

INSERT INTO scan_tls_names
SELECT server_name, first_epoch FROM _nb_tls WHERE is_name AND server_name <> '';

INSERT INTO scan_conn_span
SELECT first_epoch, last_epoch
FROM _nb_conn
WHERE NOT is_src AND NOT is_dst AND first_epoch IS NOT NULL;
