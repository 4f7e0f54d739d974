-- Stage 20 (before the events of stage 21): when each name was first used anywhere in the store, not
-- only in the window, and when the store begins; stage 46 reads them for novelty ("a tenant new to
-- the store"). Computed before stage 21, from the tables stage 21 reads for the last time, so that
-- a scan which owns its store (scan without --db: ScanOptions.release_logs) can drop each of them as
-- soon as stage 21 has read it, and the stages after it work in the memory those tables held. The
-- TLS names come from scan_tls_names (stage 05: each SNI and its first use, kept when tls is
-- narrowed), the first connection from scan_conn_span.
--   scan_seen       (name, first_epoch)  the name lower-cased (an HTTP Host without its port): TLS
--                                        SNI, HTTP Host, DNS query
--   scan_store_span (store_min)          the first connection in the store
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
SELECT min(first_epoch) AS store_min FROM scan_conn_span;
