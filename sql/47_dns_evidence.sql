-- Stage 47: DNS signs per channel, from the host's own queries for the channel's names in the window:
-- query count, TXT queries, NXDOMAIN answers, smallest TTL and the median time between queries.
-- With many connections but queries about once per TTL, the host resolves, caches and beacons on:
-- the queries are bounded by the TTL and the connections carry the rhythm.
-- With two sensors on one link, Suricata's copies of queries Zeek logged too (scan_dup_dns, stage 21)
-- are left out, as stage 23 leaves them out.
-- Portability: ttls[1] is 1-based list indexing (DuckDB, PostgreSQL); Spark SQL writes element_at(ttls, 1).
-- Parameters: $t0, $t1, $two_sensors.
-- The channels' (source, name) pairs are a table of their own, made first, so that the queries are
-- joined to them on both at once. Given the three tables in one query, DuckDB joined the queries to
-- the channels' names on the name alone and only then kept the channel's own source: a name that
-- many hosts query and many channels carry (a popular site) made a row for every query of it with
-- every channel of it (a 3M-connection day of 1M channels: 205M rows, 50 s, and out of memory at
-- the 1.6 GB cap).
-- Only the channels that can be findings (scan_candidates, stage 45).
CREATE OR REPLACE TEMP TABLE scan_dns_names AS
SELECT k.chan_id, c.src, k.name
FROM scan_chan_names k
JOIN scan_candidates x ON x.chan_id = k.chan_id
JOIN scan_channels c ON c.chan_id = k.chan_id
WHERE k.name IS NOT NULL;

CREATE OR REPLACE TEMP TABLE scan_dns AS
WITH q AS (
    SELECT n.chan_id, d.epoch, d.qtype, d.rcode, d.ttls,
           d.epoch - lag(d.epoch) OVER (PARTITION BY n.chan_id ORDER BY d.epoch) AS qd
    FROM scan_dns_names n
    JOIN (SELECT * FROM dns WHERE NOT $two_sensors OR sensor IS DISTINCT FROM 'suricata'
          UNION ALL
          SELECT * FROM dns x
          WHERE $two_sensors AND x.sensor = 'suricata'
            AND NOT EXISTS (SELECT 1 FROM scan_dup_dns k
                            WHERE k.src = x.src AND k.query = x.query AND k.epoch = x.epoch)) d
      ON d.src = n.src AND lower(d.query) = n.name
    WHERE d.epoch >= $t0 AND d.epoch < $t1
)
SELECT q.chan_id,
       count(*) AS dns_queries,
       sum(CASE WHEN q.qtype = 'TXT' THEN 1 ELSE 0 END) AS txt_queries,
       sum(CASE WHEN q.rcode = 'NXDOMAIN' THEN 1 ELSE 0 END) AS nxdomain,
       min(q.ttls[1]) AS min_ttl,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY q.qd) AS median_query_gap
FROM q
GROUP BY q.chan_id;
