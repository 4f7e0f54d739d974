-- Stage 20, first file (DuckDB-only: a macro, hash() and >>; on Spark, a function over
-- shiftright(xxhash64(a), 1)). Isolated here on purpose; the stages that call addr_key() are portable.
-- addr_key(a): an address's number, computed from the address itself instead of looked up. Every event
-- of the day needs its source and destination numbered (stage 21); a hash join of 17M log rows against
-- the table of the day's addresses, on the address strings, cost 3.7 s of CPU at 10M connections, and
-- computing the number costs almost nothing. It is a 64-bit hash halved, so never negative: stage 20
-- gives the (astronomically rare, but a log is attacker-controlled) addresses whose keys collide
-- numbers of their own below zero (scan_addr_apart), and every lookup takes those first, so two
-- addresses never share a number. NULL stays NULL (hash(NULL) is a number).
CREATE OR REPLACE TEMP MACRO addr_key(a) AS CASE WHEN a IS NOT NULL THEN CAST(hash(a) >> 1 AS BIGINT) END;
