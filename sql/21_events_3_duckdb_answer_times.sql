-- Stage 21, after the events (DuckDB-only: ASOF JOIN and UPDATE by rowid; on Spark, a window over the
-- events and answers of each (host, address) in time order, carrying the last answer's name forward).
-- A connection with no name of its own to an address its host resolved two or more names to
-- (scan_answer_times, first file of stage 21) takes the name the host resolved to that address last
-- before it: a host browsing two sites behind one CDN address and beaconing to a Worker behind
-- another of them had every connection to those addresses keyed by address, the beacon mixed with
-- the browsing (with conn and dns logs only, a beacon rotating over five Workers of one account was
-- missed). An answer logged up to $answer_lead_s after the connection still counts (two sensors'
-- clocks, a log's rounding). A connection before any such answer stays keyed by address.
-- A name the host reaches with a name of its own (an SNI or Host) is not what its nameless connections
-- to that address are for: its own client sends the name. An outside tester's implant resolved its
-- Worker once and connected to the address without SNI every 90 s; once the user's browser looked up
-- another Worker served from the same address (and visited it, with SNI), the implant's later
-- connections took that site's name: a second high finding, blaming a tenant 43 hosts visit.
-- Parameters: $answer_lead_s.
CREATE OR REPLACE TEMP TABLE scan_answer_pick AS
WITH own AS (
    SELECT DISTINCT src_id, raw_id
    FROM scan_events
    WHERE raw_id IS NOT NULL AND NOT by_dns AND NOT by_answer
      AND src_id IN (SELECT src_id FROM scan_answer_times)
      AND raw_id IN (SELECT raw_id FROM scan_answer_times)
), times AS (
    SELECT a.*
    FROM scan_answer_times a
    WHERE NOT EXISTS (SELECT 1 FROM own o WHERE o.src_id = a.src_id AND o.raw_id = a.raw_id)
)
SELECT e.rowid AS rid, a.raw_id
FROM (SELECT rowid, src_id, dst_id, epoch FROM scan_events
      WHERE raw_id IS NULL AND NOT by_dns AND EXISTS (SELECT 1 FROM scan_answer_times)) e
ASOF JOIN times a
  ON a.src_id = e.src_id AND a.dst_id = e.dst_id AND e.epoch + $answer_lead_s >= a.epoch;

UPDATE scan_events SET raw_id = p.raw_id, by_answer = TRUE
FROM scan_answer_pick p
WHERE scan_events.rowid = p.rid;

DROP TABLE scan_answer_pick;
