-- Stage 05, third file: the batch's new strings into the dictionaries (stage 04), each numbered by
-- its key (stage 03), or below zero when its key is another string's: a key already in the
-- dictionary, or shared by two new strings. Such strings get the numbers after the lowest so far,
-- in string order; every lookup of a number takes the ones below zero first (a join on the string,
-- with a table that is normally empty), so no two strings share a number and a row's number is
-- computed, not looked up. A string already in the dictionary keeps its number.
INSERT INTO scan_addr_dict
WITH fresh AS (
    SELECT DISTINCT b.addr, addr_key(b.addr) AS k
    FROM _nb_addrs b
    WHERE b.addr IS NOT NULL AND NOT EXISTS (SELECT 1 FROM scan_addr_dict d WHERE d.addr = b.addr)
), marked AS (
    SELECT addr, k, count(*) OVER (PARTITION BY k) > 1 OR k IN (SELECT addr_id FROM scan_addr_dict) AS apart
    FROM fresh
)
SELECT addr, k FROM marked WHERE NOT apart
UNION ALL
SELECT addr, (SELECT coalesce(min(addr_id), 0) FROM scan_addr_dict WHERE addr_id < 0) - row_number() OVER (ORDER BY addr)
FROM marked WHERE apart;

INSERT INTO scan_name_dict
WITH fresh AS (
    SELECT DISTINCT b.raw_name, name_key(b.raw_name) AS k
    FROM _nb_names b
    WHERE b.raw_name IS NOT NULL AND b.raw_name <> ''
      AND NOT EXISTS (SELECT 1 FROM scan_name_dict d WHERE d.raw_name = b.raw_name)
), marked AS (
    SELECT raw_name, k, count(*) OVER (PARTITION BY k) > 1 OR k IN (SELECT raw_id FROM scan_name_dict) AS apart
    FROM fresh
)
SELECT raw_name, k FROM marked WHERE NOT apart
UNION ALL
SELECT raw_name, (SELECT coalesce(min(raw_id), 0) FROM scan_name_dict WHERE raw_id < 0) - row_number() OVER (ORDER BY raw_name)
FROM marked WHERE apart;

INSERT INTO scan_client_dict
WITH fresh AS (
    SELECT DISTINCT b.ja3, b.ja4, client_key(b.ja3, b.ja4) AS k
    FROM _nb_clients b
    WHERE NOT EXISTS (SELECT 1 FROM scan_client_dict d
                      WHERE d.ja3 IS NOT DISTINCT FROM b.ja3 AND d.ja4 IS NOT DISTINCT FROM b.ja4)
), marked AS (
    SELECT ja3, ja4, k, count(*) OVER (PARTITION BY k) > 1 OR k IN (SELECT client_id FROM scan_client_dict) AS apart
    FROM fresh
)
SELECT k, ja3, ja4 FROM marked WHERE NOT apart
UNION ALL
SELECT (SELECT coalesce(min(client_id), 0) FROM scan_client_dict WHERE client_id < 0)
       - row_number() OVER (ORDER BY ja3 NULLS FIRST, ja4 NULLS FIRST), ja3, ja4
FROM marked WHERE apart;
