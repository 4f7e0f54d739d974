-- Stage 20: number the strings the events carry, once per distinct value, so that the per-event
-- tables of the scan hold integers only. Every event of the day goes through hash joins, a grouping
-- and a sort; done on address, name and client strings, those were most of the scan's time and
-- memory (the strings were hashed, compared and copied again at every step). Numbering is done on
-- these small tables; later stages turn numbers back into strings per channel, not per event.
--   scan_clients    (client_id, ja3, ja4)    the TLS fingerprints ('' counts as none)
--   scan_addrs      (addr_id, addr)          every source and destination address of the window, numbered
--                   by addr_key(addr) (first file of this stage), so that stage 21 computes an event's
--                   numbers instead of joining 17M rows on address strings; the addresses whose keys
--                   collide are numbered below zero instead, in address order
--   scan_addr_apart (addr_id, addr)          those, normally none: a lookup is
--                   coalesce(scan_addr_apart.addr_id, addr_key(addr))
--   scan_raw_names  (raw_id, raw_name, lname_id)  every name an event can carry (SNI, HTTP Host, DNS
--                   query) as logged, '' left out (it means no name); lname_id numbers lower(raw_name),
--                   which is how stage 22 compares a DNS query with a connection's name
--   scan_agents     (ua_id, user_agent)      the HTTP User-Agents
-- These are supersets of what the events use (every row of the window, not only those that become
-- events): a number is only ever compared for equality, so an unused one changes nothing. The
-- numbers themselves mean nothing (channels are numbered by their key strings, stage 25).
-- Parameters: $t0, $t1 (window, epoch seconds, half-open).
CREATE OR REPLACE TEMP TABLE scan_clients AS
SELECT CAST(row_number() OVER (ORDER BY ja3, ja4) AS INTEGER) AS client_id, ja3, ja4
FROM (SELECT DISTINCT nullif(ja3, '') AS ja3, nullif(ja4, '') AS ja4 FROM tls) c;

CREATE OR REPLACE TEMP TABLE scan_addrs AS
WITH a AS (
    SELECT DISTINCT src AS addr FROM conn WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT dst FROM conn WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT src FROM tls WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT dst FROM tls WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT src FROM http WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT dst FROM http WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT src FROM dns WHERE epoch >= $t0 AND epoch < $t1
), k AS (
    SELECT addr, addr_key(addr) AS k, count(*) OVER (PARTITION BY addr_key(addr)) AS sharing
    FROM a
    WHERE addr IS NOT NULL
)
SELECT k AS addr_id, addr FROM k WHERE sharing = 1
UNION ALL
SELECT 0 - row_number() OVER (ORDER BY addr), addr FROM k WHERE sharing > 1;

CREATE OR REPLACE TEMP TABLE scan_addr_apart AS
SELECT addr_id, addr FROM scan_addrs WHERE addr_id < 0;

CREATE OR REPLACE TEMP TABLE scan_raw_names AS
SELECT CAST(row_number() OVER () AS INTEGER) AS raw_id, raw_name,
       CAST(dense_rank() OVER (ORDER BY lower(raw_name)) AS INTEGER) AS lname_id
FROM (
    SELECT DISTINCT server_name AS raw_name FROM tls WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT host FROM http WHERE epoch >= $t0 AND epoch < $t1
    UNION SELECT DISTINCT query FROM dns WHERE epoch >= $t0 AND epoch < $t1
) r
WHERE raw_name IS NOT NULL AND raw_name <> '';

CREATE OR REPLACE TEMP TABLE scan_agents AS
SELECT CAST(row_number() OVER () AS INTEGER) AS ua_id, user_agent
FROM (SELECT DISTINCT user_agent FROM http WHERE epoch >= $t0 AND epoch < $t1) u
WHERE user_agent IS NOT NULL;
