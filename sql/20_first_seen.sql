-- Stage 20 (before the events of stage 21): when each name was first used anywhere in the store, not
-- only in the window, and when the store begins; stage 46 reads them for novelty ("a tenant new to
-- the store"). Computed before stage 21, from the tables stage 21 reads for the last time, so that
-- a scan which owns its store (scan without --db: ScanOptions.release_logs) can drop each of them as
-- soon as stage 21 has read it, and the stages after it work in the memory those tables held. The
-- TLS names come from scan_tls_names (stage 05: each SNI and its first use, kept when tls is
-- narrowed).
--   scan_seen       (name, first_epoch)  the name lower-cased (an HTTP Host without its port): TLS
--                                        SNI, HTTP Host, DNS query
--   scan_store_span (history_s)          how much of the store lies before the window: the clock
--                                        hours ($history_bin_s) before $t0 with a connection in
--                                        them, in seconds.
--                                        Stage 46 needs $novelty_history_s of it before it calls a
--                                        destination new to the store. Measured by the first
--                                        connection alone, a stray minute two years before the window
--                                        (a capture replayed into the store, a sensor clock wrong for
--                                        a moment) made every destination of the day "new".
-- Parameters: $t0 (the window's start, epoch seconds), $history_bin_s.
-- Names are grouped as logged first, then on their normal form: the normal form is computed per
-- distinct name instead of per row of the whole store (the minimum of minima is the minimum).
CREATE OR REPLACE TEMP TABLE scan_seen AS
SELECT lower(server_name) AS name, min(first_epoch) AS first_epoch
FROM scan_tls_names
GROUP BY lower(server_name)
UNION ALL
SELECT lower(regexp_replace(host, ':[0-9]+$', '')), min(first_epoch)
FROM (SELECT host, min(epoch) AS first_epoch FROM http GROUP BY host) h
GROUP BY lower(regexp_replace(host, ':[0-9]+$', ''))
UNION ALL
SELECT lower(query), min(first_epoch)
FROM (SELECT query, min(epoch) AS first_epoch FROM dns GROUP BY query) d
GROUP BY lower(query);

CREATE OR REPLACE TEMP TABLE scan_store_span AS
SELECT $history_bin_s * count(DISTINCT floor(epoch / $history_bin_s)) AS history_s
FROM conn_n
WHERE epoch < $t0;
