-- Stage 05, first file: the strings of a batch of conn and tls rows (every row the two tables hold:
-- a scan-owned store empties them after each batch, analyzer.narrow):
--   _nb_addrs   (addr)                      the addresses of the batch
--   _nb_names   (raw_name, first_epoch)     its TLS SNIs as logged ('' left out), with their first use
--   _nb_clients (ja3, ja4)                  its TLS clients ('' counts as none)
-- and appends each SNI with its first use in the batch to scan_tls_names, and the batch's first and
-- last connection to scan_conn_span.
-- Each set of strings is its own GROUP BY, the log read once per set (a scan of a table in memory
-- costs little). Read once into GROUPING SETS, one hash table per set, the same batch took longer:
-- at 10M connections, conn's sets 0.52-0.56 s against 0.32 s apart, and the 7M handshakes' four
-- 0.77-0.84 s against 0.50-0.58 s (DuckDB carries every set's columns through each set's table).
-- Grouped first on the distinct (source, destination) pairs of conn, and (name, client, source,
-- destination) of tls, and the sets read from those, this was faster only where the pairs are far
-- fewer than the rows: 10M connections over 100k channels 0.66 + 0.98 s against 0.80 + 1.09 s; over
-- 2M channels, as a real day's long tail of sites visited a few times makes, 1.3-1.5 + 2.4-2.6 s
-- against 0.8 + 1.35 s, the pairs being 2M and 1.4M hash-table rows.
CREATE OR REPLACE TEMP TABLE _nb_addrs AS
SELECT src AS addr FROM conn GROUP BY src
UNION ALL
SELECT dst FROM conn GROUP BY dst
UNION ALL
SELECT src FROM tls GROUP BY src
UNION ALL
SELECT dst FROM tls GROUP BY dst;

CREATE OR REPLACE TEMP TABLE _nb_names AS
SELECT server_name AS raw_name, min(epoch) AS first_epoch
FROM tls
WHERE server_name <> ''
GROUP BY server_name;

CREATE OR REPLACE TEMP TABLE _nb_clients AS
SELECT nullif(ja3, '') AS ja3, nullif(ja4, '') AS ja4
FROM tls
GROUP BY nullif(ja3, ''), nullif(ja4, '');

INSERT INTO scan_tls_names
SELECT raw_name, first_epoch FROM _nb_names;

INSERT INTO scan_conn_span
SELECT min(epoch), max(epoch)
FROM conn
HAVING min(epoch) IS NOT NULL;
