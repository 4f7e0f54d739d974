-- Stage 10: the distinct candidate names, gathered from every place a serverless endpoint shows up.
-- Input tables:  dns (query, qtype, answers), tls (server_name), http (method, host, uri).
-- Output tables: name_candidates(raw_name VARCHAR, sources INTEGER, canonical BOOLEAN)
--                  one row per distinct raw name as logged. sources is a bit set of where it was seen:
--                  1 cname (in the answers of a DNS query), 2 connect (CONNECT target 'host:port' through a
--                  proxy), 4 dns (query), 8 http (Host header), 16 tls (SNI).
--                  canonical: the raw name is already in normal form (lower-case [a-z0-9_-] labels of 1-63,
--                  <= 253 characters, not ending in a digit, which may be an IPv4 literal, not Zeek's '-'), exactly
--                  analyzer.normalize.is_canonical; only the other names need Python's normalize_host.
--                name_cname_edges(query_raw VARCHAR, target_raw VARCHAR)
--                  a DNS query name and a name in its answers (CNAME chain members; addresses are left out).
-- Parameters: none.
-- TLS names: those in tls, and those of scan_tls_names, where a scan that owns its store keeps the
-- SNI of the rows it has moved out of tls (analyzer.narrow); empty when nothing was narrowed.

CREATE TEMP TABLE IF NOT EXISTS scan_tls_names (server_name VARCHAR, first_epoch DOUBLE);

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
    SELECT query AS raw_name, 4 AS source FROM dns WHERE query IS NOT NULL AND query <> ''
    UNION ALL
    SELECT answer, 1 FROM _name_answers
    UNION ALL
    SELECT server_name, 16 FROM tls WHERE server_name IS NOT NULL AND server_name <> ''
    UNION ALL
    SELECT server_name, 16 FROM scan_tls_names
    UNION ALL
    SELECT host, 8 FROM http WHERE host IS NOT NULL AND host <> ''
    UNION ALL
    SELECT uri, 2 FROM http WHERE upper(method) = 'CONNECT' AND uri IS NOT NULL AND uri <> ''
)
SELECT raw_name,
       bit_or(source)::INTEGER AS sources,
       length(raw_name) <= 253
         AND regexp_full_match(raw_name, '[a-z0-9_-]{1,63}(\.[a-z0-9_-]{1,63})*')
         AND NOT regexp_matches(raw_name, '[0-9]$')
         AND raw_name <> '-' AS canonical
FROM sightings
GROUP BY raw_name;

CREATE OR REPLACE TABLE name_cname_edges AS
SELECT query AS query_raw, answer AS target_raw FROM _name_answers;

DROP TABLE IF EXISTS _name_answers;
