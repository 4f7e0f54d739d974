-- Stage 21, first file (DuckDB-only: unnest() of the answers list; on Spark, explode(answers)).
-- Isolated here on purpose. Runs before 21_events.sql, which reads its table.
-- The name a host itself resolved each address to, for the connections that carry no name of their
-- own (no TLS SNI, no HTTP Host: a sensor logging only conn and dns, Zeek without its ssl analyzer, a
-- TLS client that sends no SNI). Serverless addresses are anycast and shared: keyed by address, one
-- beacon would split over the two or more addresses its name rotates through and be reported as a
-- plain address. Keyed by the name the host looked up, it is the channel the host meant, in its
-- platform and tenant.
-- An unambiguous pair names every connection of it: when the host resolved one name (case-blind) to
-- that address in the window, time is not consulted (a host that resolved a name once and reconnects
-- for hours from its cache still names every connection).
-- When it resolved two or more names to one address (sites behind one CDN's anycast addresses, or
-- several Workers of one account: common, as Cloudflare serves millions of names from a few hundred
-- addresses), each connection takes the name the host resolved to that address last before it
-- (21_events_3_duckdb_answer_times.sql); one made before any of those answers stays keyed by address.
--   scan_answer_names (src_id, dst_id, raw_id)          the host, the address, the one name it resolved
--   scan_answer_times (src_id, dst_id, epoch, raw_id)   of the ambiguous pairs, every answer in time
-- Answers are read from $answer_lookback_s before the window on: a client that resolved its name once
-- and kept the address (.NET's HttpClient does, for as long as it lives) named its connections on the
-- first night of a nightly store and was an anonymous address the next (an outside tester's
-- two-day implant: medium "3.161.167.51:443" on day two, high and its Lambda URL with --window 48h).
-- A scratch store holds only the logs given: nothing before the window to read.
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $answer_lookback_s.
CREATE OR REPLACE TEMP TABLE scan_answer_all AS
WITH answers AS (
    SELECT DISTINCT src, query, answer
    FROM (SELECT src, query, unnest(answers) AS answer
          FROM dns
          WHERE epoch >= $t0 - $answer_lookback_s AND epoch < $t1 AND query IS NOT NULL AND query <> '' AND answers IS NOT NULL) d
)
SELECT x.src, x.answer, s.addr_id AS src_id, a.addr_id AS dst_id, n.raw_id, n.lname_id
FROM answers x
JOIN scan_addrs s ON s.addr = x.src
JOIN scan_addrs a ON a.addr = x.answer                     -- only addresses that were connected to
JOIN scan_raw_names n ON n.raw_name = x.query;

CREATE OR REPLACE TEMP TABLE scan_answer_names AS
SELECT src_id, dst_id, min(raw_id) AS raw_id
FROM scan_answer_all
GROUP BY src_id, dst_id
HAVING count(DISTINCT lname_id) = 1;

-- the answers of the ambiguous pairs, each in time: dns read again for those few pairs only
CREATE OR REPLACE TEMP TABLE scan_answer_times AS
WITH amb AS (
    SELECT x.src, x.answer, x.src_id, x.dst_id, x.raw_id, n.raw_name
    FROM scan_answer_all x
    JOIN (SELECT src_id, dst_id FROM scan_answer_all GROUP BY src_id, dst_id
          HAVING count(DISTINCT lname_id) > 1) p ON p.src_id = x.src_id AND p.dst_id = x.dst_id
    JOIN scan_raw_names n ON n.raw_id = x.raw_id
)
SELECT a.src_id, a.dst_id, d.epoch, a.raw_id
FROM (SELECT src, query, epoch, unnest(answers) AS answer
      FROM dns
      WHERE epoch >= $t0 - $answer_lookback_s AND epoch < $t1 AND query IS NOT NULL AND query <> '' AND answers IS NOT NULL
        AND src IN (SELECT src FROM amb)) d
JOIN amb a ON a.src = d.src AND a.answer = d.answer AND a.raw_name = d.query;

DROP TABLE scan_answer_all;
