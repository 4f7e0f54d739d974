-- Stage 22: the events grouped on everything that decides their channel and what stage 45 reports
-- per address: (source, name, DNS stand-in or not, address and port, TLS client, User-Agent). This is
-- the one grouping pass over every event (on integers, no join): a channel is made of one or more of
-- these parts (a beacon rotating among workers, a redirect pair, an address used without a name ...),
-- and stage 25 keys and numbers channels on this small table instead of on every event.
-- The aggregates are the ones stages 27 and 45 report, all of which roll up (counts and sums add,
-- minima and maxima of parts are those of the whole): count, first/last time, bytes, which logs saw
-- the events, how many are later requests on kept-alive HTTP connections (stage 21), how many were
-- named by their host's DNS answers (stage 21; stage 23 weighs them against the host's queries), the
-- longest connection, and the longest long-lived low-volume one (>= $long_conn_s
-- seconds, < $long_conn_max_bps bytes/s both ways: a beacon inside one keep-alive TLS connection; the
-- two counts added as DOUBLE, as two logged counts near 2^63 would overflow a BIGINT sum).
-- An event without a source host cannot be attributed to anyone: left out.
-- This stage runs on the events of stage 21 (connections, handshakes, requests), before stage 23
-- adds the DNS queries that stand in for connections: stage 23 reads these parts, a few rows per
-- (host, name), to tell which names a host connected to, instead of grouping every event once more
-- (10M connections: 0.4-0.6 s), and stage 24 the names of the parts instead of every event's.
-- Stage 23 appends the parts of the queries it adds.
-- scan_long_conns (the second statement): per part, its longest long-lived low-volume connection and
-- the bytes that one moved both ways, which the finding's reason quotes (not the channel's total).
-- A statement of its own over the few such connections (DuckDB skips the row groups with no
-- connection that long by their statistics): as one more aggregate of the grouping above it cost
-- 0.15 s at 10M connections, and as a join onto that grouping 0.1 s; this, within the noise.
CREATE OR REPLACE TEMP TABLE scan_parts AS
SELECT src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id, cnt, first_epoch, last_epoch, bytes_out, bytes_in,
       CASE WHEN logs & $bit_conn <> 0 THEN 1 ELSE 0 END AS src_conn,
       CASE WHEN logs & $bit_eve <> 0 THEN 1 ELSE 0 END AS src_eve,
       CASE WHEN logs & $bit_ssl <> 0 THEN 1 ELSE 0 END AS src_ssl,
       CASE WHEN logs & $bit_http <> 0 THEN 1 ELSE 0 END AS src_http,
       CASE WHEN logs & $bit_answer <> 0 THEN 1 ELSE 0 END AS src_answer,
       later_requests, answered, longest_s, long_conn_s
FROM (
    SELECT src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id,
           count(*) AS cnt,
           min(epoch) AS first_epoch, max(epoch) AS last_epoch,
           sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in,
           -- which logs saw the part's events, one bit each ($bit_conn ... : analyzer.scan.LOG_BITS), in
           -- one aggregate instead of a max() of each flag (10M events: the stage 0.61-0.74 s against
           -- 0.82-0.94 s)
           bit_or(CASE WHEN by_conn THEN $bit_conn ELSE 0 END | CASE WHEN by_eve THEN $bit_eve ELSE 0 END
                  | CASE WHEN by_ssl THEN $bit_ssl ELSE 0 END | CASE WHEN by_http THEN $bit_http ELSE 0 END
                  | CASE WHEN by_answer THEN $bit_answer ELSE 0 END) AS logs,
           sum(CASE WHEN by_request THEN 1 ELSE 0 END) AS later_requests,
           sum(CASE WHEN by_answer THEN 1 ELSE 0 END) AS answered,
           max(duration) AS longest_s,
           max(CASE WHEN duration >= $long_conn_s
                     AND (CAST(coalesce(bytes_out, 0) AS DOUBLE) + coalesce(bytes_in, 0)) / duration
                         < $long_conn_max_bps
                    THEN duration END) AS long_conn_s
    FROM scan_events
    WHERE src_id IS NOT NULL
    GROUP BY src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id
) p;

CREATE OR REPLACE TEMP TABLE scan_long_conns AS
SELECT src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id,
       max(duration) AS long_conn_s, max_by(moved, duration) AS long_conn_bytes
FROM (SELECT src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id, duration,
             CAST(coalesce(bytes_out, 0) AS DOUBLE) + coalesce(bytes_in, 0) AS moved
      FROM scan_events
      WHERE duration >= $long_conn_s AND src_id IS NOT NULL) e
WHERE moved / duration < $long_conn_max_bps
GROUP BY src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id;
