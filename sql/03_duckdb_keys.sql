-- Stage 03, first file (DuckDB-only: macros, hash() and >>; on Spark, functions over
-- shiftright(xxhash64(...), 1)). Isolated here on purpose; the stages that call these are portable.
-- The numbers the narrowed logs (stage 05) and the scan (stages 20-22) carry instead of strings:
-- computed from the string itself instead of looked up. Every connection and handshake of the day
-- needs its addresses, name and client numbered; a hash join of 17M log rows against a table of the
-- day's strings cost 3.7 s of CPU at 10M connections, and computing the number costs almost nothing.
-- Each is a 64-bit hash halved, so never negative: stage 05 gives the strings whose keys collide
-- with another's (astronomically rare, but a log is attacker-controlled) numbers of their own below
-- zero in its dictionaries, and every lookup takes those first (coalesce(apart.id, key(x))), so two
-- strings never share a number.
--   addr_key(a)            an address (NULL stays NULL: hash(NULL) is a number)
--   name_key(n)            a TLS SNI, HTTP Host or DNS query as logged ('' is no name: NULL)
--   client_key(ja3, ja4)   a TLS client ('' counts as none; no fingerprint at all is a client too)
--   conn_key(uid, s, d, p, n)  the n-th connection of an id and addresses, for logs whose ids repeat
--                          (stage 21, $repeated_ids); not halved: a join key only, no string's number
CREATE OR REPLACE TEMP MACRO addr_key(a) AS CASE WHEN a IS NOT NULL THEN CAST(hash(a) >> 1 AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO name_key(n) AS CASE WHEN n IS NOT NULL AND n <> '' THEN CAST(hash(n) >> 1 AS BIGINT) END;
CREATE OR REPLACE TEMP MACRO client_key(ja3, ja4) AS CAST(hash(nullif(ja3, ''), nullif(ja4, '')) >> 1 AS BIGINT);
CREATE OR REPLACE TEMP MACRO conn_key(u, s, d, p, n) AS CASE WHEN u IS NOT NULL THEN hash(u, s, d, p, n) END;
