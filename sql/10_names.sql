-- Stage 10: the distinct candidate names, gathered from every place a serverless endpoint shows up.
-- Input tables:  dns (query, qtype, answers), tls (server_name), http (method, host, uri).
-- Output tables: name_candidates(rid BIGINT, raw_name VARCHAR, seen_in VARCHAR[])
--                  one row per distinct raw name as logged; rid is a dense 0-based id for the Python matcher.
--                  seen_in lists the sources: dns (query), cname (a DNS answer), tls (SNI), http (Host),
--                  connect (CONNECT target 'host:port' through a proxy).
--                name_cname_edges(query_rid BIGINT, target_rid BIGINT)
--                  a DNS query name and a name in its answers (CNAME chain members; addresses are left out).
-- Names are NOT normalized here: analyzer.normalize does that once per distinct name, and the join back
-- to the log tables is on the raw value (see 11_name_matches.sql).
-- Parameters: none.

CREATE OR REPLACE TEMP TABLE _name_answers AS
SELECT DISTINCT query, answer
FROM (
    SELECT query, unnest(answers) AS answer
    FROM dns
    WHERE query IS NOT NULL AND answers IS NOT NULL AND len(answers) > 0
      AND (qtype IS NULL OR qtype IN ('A', 'AAAA', 'CNAME'))
)
WHERE answer IS NOT NULL AND answer <> ''
  AND NOT contains(answer, ':')                   -- IPv6 addresses
  AND NOT regexp_full_match(answer, '[0-9.]+');   -- IPv4 addresses

CREATE OR REPLACE TABLE name_candidates AS
WITH sightings AS (
    SELECT DISTINCT query AS raw_name, 'dns' AS source FROM dns WHERE query IS NOT NULL AND query <> ''
    UNION
    SELECT DISTINCT answer, 'cname' FROM _name_answers
    UNION
    SELECT DISTINCT server_name, 'tls' FROM tls WHERE server_name IS NOT NULL AND server_name <> ''
    UNION
    SELECT DISTINCT host, 'http' FROM http WHERE host IS NOT NULL AND host <> ''
    UNION
    SELECT DISTINCT uri, 'connect' FROM http
    WHERE upper(method) = 'CONNECT' AND uri IS NOT NULL AND uri <> ''
)
SELECT (row_number() OVER () - 1)::BIGINT AS rid, raw_name, seen_in
FROM (SELECT raw_name, list_sort(list(source)) AS seen_in FROM sightings GROUP BY raw_name);

CREATE OR REPLACE TABLE name_cname_edges AS
SELECT q.rid AS query_rid, t.rid AS target_rid
FROM _name_answers a
JOIN name_candidates q ON q.raw_name = a.query
JOIN name_candidates t ON t.raw_name = a.answer;

DROP TABLE IF EXISTS _name_answers;
