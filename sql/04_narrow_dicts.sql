-- Stage 04: the dictionaries stage 05 fills, created once per connection (IF NOT EXISTS: a
-- scan-owned store fills them from several batches of its ingest, analyzer.narrow).
-- The two biggest logs, conn and tls, are kept by the scan as numbers only ("narrowed"): at 10M
-- connections their rows take 2.5 GB of memory as logged, against 1 GB narrowed, and every stage
-- after reads integers instead of hashing strings again. The strings are kept once each, in the
-- dictionaries:
--   scan_addr_dict   (addr, addr_id)             every address of conn, tls, http and dns
--   scan_name_dict   (raw_name, raw_id)          every SNI, HTTP Host and DNS query as logged, '' left out
--   scan_client_dict (client_id, ja3, ja4)       every TLS client ('' counts as none)
--   scan_tls_names   (server_name, first_epoch)  the SNI of each batch and its first use (the matcher,
--                                                sql/10_names.sql, and novelty, sql/20_first_seen.sql)
--   scan_conn_span   (first_epoch, last_epoch)   the first and last connection of each batch, DNS
--                                                included (the scan window, the store's start)
-- A number is the key of its string (stage 03), or, for a string whose key another string of the
-- dictionary already has, a number below zero of its own (stage 05).
-- The narrowed rows (stage 05, 05_narrow_4_views.sql):
--   conn_n (uid, epoch, src_id, dst_id, dst_port, duration, orig_bytes, resp_bytes, suri)
--          without the connections whose service is DNS: no stage makes an event of them (DNS is
--          scored from dns rows), and on a real network they are a large share of conn.log
--   tls_n  (uid, epoch, src_id, dst_id, dst_port, raw_id, client_id, suri)
-- Bytes: Zeek's payload bytes; a Suricata flow has no payload count, so its bytes on the wire
-- (bytes_toserver/toclient, stored as orig/resp_ip_bytes) stand in: size consistency compares a
-- channel with itself, and a channel comes from one sensor.
CREATE TEMP TABLE IF NOT EXISTS scan_addr_dict (addr VARCHAR, addr_id BIGINT);
CREATE TEMP TABLE IF NOT EXISTS scan_name_dict (raw_name VARCHAR, raw_id BIGINT);
CREATE TEMP TABLE IF NOT EXISTS scan_client_dict (client_id BIGINT, ja3 VARCHAR, ja4 VARCHAR);
CREATE TEMP TABLE IF NOT EXISTS scan_tls_names (server_name VARCHAR, first_epoch DOUBLE);
CREATE TEMP TABLE IF NOT EXISTS scan_conn_span (first_epoch DOUBLE, last_epoch DOUBLE);

