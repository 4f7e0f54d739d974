-- Stage 47: DNS signs per channel, from the host's own queries for the channel's names in the window:
-- query count, TXT queries, NXDOMAIN answers, smallest TTL and the median time between queries.
-- With many connections but queries about once per TTL, the host resolves, caches and beacons on:
-- the queries are bounded by the TTL and the connections carry the rhythm.
CREATE OR REPLACE TEMP TABLE scan_dns AS
WITH names AS (
    SELECT DISTINCT k.chan_key, k.src, k.name FROM scan_keyed k WHERE k.name IS NOT NULL
), q AS (
    SELECT n.chan_key, d.epoch, d.qtype, d.rcode, d.ttls,
           d.epoch - lag(d.epoch) OVER (PARTITION BY n.chan_key ORDER BY d.epoch) AS qd
    FROM names n
    JOIN dns d ON d.src = n.src AND lower(d.query) = n.name
    WHERE d.epoch >= $t0 AND d.epoch < $t1
)
SELECT c.chan_id,
       count(*) AS dns_queries,
       sum(CASE WHEN q.qtype = 'TXT' THEN 1 ELSE 0 END) AS txt_queries,
       sum(CASE WHEN q.rcode = 'NXDOMAIN' THEN 1 ELSE 0 END) AS nxdomain,
       min(q.ttls[1]) AS min_ttl,
       percentile_cont(0.5) WITHIN GROUP (ORDER BY q.qd) AS median_query_gap
FROM q
JOIN scan_channels c ON c.chan_key = q.chan_key
GROUP BY c.chan_id;
