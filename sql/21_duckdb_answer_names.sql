-- Stage 21, first file (DuckDB-only: unnest() of the answers list; on Spark, explode(answers)).
-- Isolated here on purpose. Runs before 21_events.sql, which reads its table.
-- The name a host itself resolved each address to, for the connections that carry no name of their
-- own (no TLS SNI, no HTTP Host: a sensor logging only conn and dns, Zeek without its ssl analyzer, a
-- TLS client that sends no SNI). Serverless addresses are anycast and shared: keyed by address, one
-- beacon would split over the two or more addresses its name rotates through and be reported as a
-- plain address. Keyed by the name the host looked up, it is the channel the host meant, in its
-- platform and tenant.
-- Only unambiguous pairs are kept: when a host resolved two different names (case-blind) to one
-- address in the window (two sites behind one CDN address), the address cannot say which one a
-- connection was for, and those connections stay keyed by address. Time is not consulted: a host
-- that resolved a name once and reconnects for hours from its cache still names every connection.
--   scan_answer_names (src_id, dst_id, raw_id)   the host, the address, the name it resolved (as logged)
-- Parameters: $t0, $t1 (window, epoch seconds, half-open).
CREATE OR REPLACE TEMP TABLE scan_answer_names AS
WITH answers AS (
    SELECT DISTINCT src, query, answer
    FROM (SELECT src, query, unnest(answers) AS answer
          FROM dns
          WHERE epoch >= $t0 AND epoch < $t1 AND query IS NOT NULL AND query <> '' AND answers IS NOT NULL) d
)
SELECT s.addr_id AS src_id, a.addr_id AS dst_id, min(n.raw_id) AS raw_id
FROM answers x
JOIN scan_addrs s ON s.addr = x.src
JOIN scan_addrs a ON a.addr = x.answer                     -- only addresses that were connected to
JOIN scan_raw_names n ON n.raw_name = x.query
GROUP BY s.addr_id, a.addr_id
HAVING count(DISTINCT n.lname_id) = 1;
