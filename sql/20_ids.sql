-- Stage 20: the numbers the per-event tables of the scan carry instead of strings, so that they hold
-- integers only. Every event of the day goes through hash joins, a grouping and a sort; done on
-- address, name and client strings, those were most of the scan's time and memory (the strings
-- were hashed, compared and copied again at every step). Later stages turn numbers back into
-- strings per channel, not per event.
-- The numbers are those of the dictionaries stage 05 made when it narrowed conn and tls: a string's
-- key (stage 03), computed from the string, or a number below zero of its own when its key is
-- another string's (normally none).
--   scan_clients    (client_id, ja3, ja4)    the TLS fingerprints ('' counts as none)
--   scan_addrs      (addr_id, addr)          every address of the store
--   scan_addr_apart (addr_id, addr)          those numbered below zero: a lookup of an address of a log
--                   that is not narrowed (http, dns) is coalesce(scan_addr_apart.addr_id, addr_key(addr))
--   scan_raw_names  (raw_id, raw_name, lname_id)  every name an event can carry (SNI, HTTP Host, DNS
--                   query) as logged, '' left out (it means no name); lname_id numbers lower(raw_name),
--                   which is how stage 23 compares a DNS query with a connection's name
--   scan_agents     (ua_id, user_agent)      the HTTP User-Agents of the window
-- These are supersets of what the events use (every row of the store, not only those that become
-- events): a number is only ever compared for equality, so an unused one changes nothing. The
-- numbers themselves mean nothing (channels are numbered by their key strings, stage 25).
-- Parameters: $t0, $t1 (window, epoch seconds, half-open).
CREATE OR REPLACE TEMP TABLE scan_clients AS
SELECT client_id, ja3, ja4 FROM scan_client_dict;

CREATE OR REPLACE TEMP TABLE scan_addrs AS
SELECT addr_id, addr FROM scan_addr_dict;

CREATE OR REPLACE TEMP TABLE scan_addr_apart AS
SELECT addr_id, addr FROM scan_addr_dict WHERE addr_id < 0;

CREATE OR REPLACE TEMP TABLE scan_raw_names AS
SELECT raw_id, raw_name, CAST(dense_rank() OVER (ORDER BY lower(raw_name)) AS INTEGER) AS lname_id
FROM scan_name_dict;

CREATE OR REPLACE TEMP TABLE scan_agents AS
SELECT CAST(row_number() OVER () AS INTEGER) AS ua_id, user_agent
FROM (SELECT DISTINCT user_agent FROM http WHERE epoch >= $t0 AND epoch < $t1) u
WHERE user_agent IS NOT NULL;
