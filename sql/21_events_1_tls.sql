-- Stage 21 (first of three files): one row per connection start inside the scan window, with the
-- name it was made to.
-- Timing comes from connection starts (Zeek conn.log / Suricata flow), the name from the TLS SNI or
-- the HTTP Host of the same connection (joined by uid = Zeek uid or Suricata flow_id). TLS/HTTP rows
-- whose connection row is not in the window (only ssl.log or http.log was given) still count, with
-- their own ts: the full outer joins keep them, in one pass instead of one anti-join per log.
-- DNS connections are left out here: DNS is scored from dns rows (stage 22 and 47).
-- This table holds every event of the day, so it holds numbers only (stage 20): src_id / dst_id
-- (scan_addrs: addr_key(addr), computed, not joined, unless scan_addr_apart holds the address), raw_id
-- (scan_raw_names: the SNI, else the Host), client_id (scan_clients: JA3, JA4), ua_id (scan_agents).
-- The strings are mapped to numbers on each log's own rows, before the joins on uid, so that those
-- hash tables carry integers, not names and addresses.
-- Join sides: every hash join here is written with the side to build on (the smaller) on the right:
-- the small number tables, the TLS rows (at most one per connection, fewer than the conn rows) and
-- the HTTP connections. DuckDB chooses sides from its estimates, and for 21_events_3_conn it
-- chose the connections; the runner keeps the written sides there (analyzer.scan._STAGE_SETTINGS:
-- a DuckDB setting, so not in this SQL).
-- Bytes: Zeek's payload bytes; a Suricata flow has no payload count, so its bytes on the wire
-- (bytes_toserver/toclient, stored as orig/resp_ip_bytes) stand in: size consistency compares a
-- channel with itself, and a channel comes from one sensor.
-- Which logs saw the event is kept as the flags stage 45 reports:
--   by_conn  timed by a Zeek conn row;   by_eve   timed by Suricata, or seen by Suricata at all;
--   by_ssl / by_http  named by a Zeek ssl / http row;   by_dns   a DNS query standing in (stage 22);
--   by_answer  no SNI or Host: named by the address the host itself resolved the name to (first file
--              of stage 21: scan_answer_names), instead of being keyed by the address alone;
--   by_request a later HTTP request on a kept-alive connection (http_c): a check-in, not a connection.
-- Parameters: $t0, $t1 (window, epoch seconds, half-open), $dns_port, $request_gap_s.
-- Stage 21 runs as three files, each a table: 21_events_1_tls (scan_tls_u), 21_events_2_http
-- (scan_http_c), then 21_events_3_conn (scan_events, joining the two to the connections). They were
-- one statement's CTEs. Apart, each log is read for the last time by its own file, so that a scan
-- that owns its store (ScanOptions.release_logs) drops tls and http before the connections are
-- joined to them: at 10M connections the join then builds its hash table in the memory ssl.log's
-- 1.2 GB table held, instead of partitioning it to disk (2.1 GB spilled by that one statement,
-- under the 1.6 GB default cap).
-- This file: the TLS handshakes of the window, their strings numbered.
CREATE OR REPLACE TEMP TABLE scan_tls_u AS
-- One TLS handshake per connection (Zeek ssl.log, Suricata tls): no GROUP BY uid, which on a big
-- day is the most memory-hungry step of the scan. A second handshake row for one uid would add a
-- same-instant event, which the burst collapse of stage 30 folds into the first.
SELECT t.uid, n.raw_id, k.client_id, t.epoch, coalesce(s.addr_id, addr_key(t.src)) AS src_id,
       coalesce(d.addr_id, addr_key(t.dst)) AS dst_id, t.dst_port,
       t.sensor = 'suricata' AS suri
FROM tls t
JOIN scan_clients k ON k.ja3 IS NOT DISTINCT FROM nullif(t.ja3, '') AND k.ja4 IS NOT DISTINCT FROM nullif(t.ja4, '')
LEFT JOIN scan_raw_names n ON n.raw_name = t.server_name     -- '' is no name: not in scan_raw_names
LEFT JOIN scan_addr_apart s ON s.addr = t.src
LEFT JOIN scan_addr_apart d ON d.addr = t.dst
WHERE t.epoch >= $t0 AND t.epoch < $t1 AND t.uid IS NOT NULL;
