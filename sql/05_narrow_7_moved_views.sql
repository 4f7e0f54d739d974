-- Stage 05, for a store that ends with the scan: conn_n and tls_n (stage 04) over the rows its
-- batches kept (conn_moved, tls_moved: 05_narrow_5_move.sql, 05_narrow_6_append.sql).
CREATE OR REPLACE TEMP VIEW conn_n AS
SELECT uid, epoch, src_id, dst_id, dst_port, duration, orig_bytes, resp_bytes, sensor = 'suricata' AS suri
FROM conn_moved;

CREATE OR REPLACE TEMP VIEW tls_n AS
SELECT uid, epoch, src_id, dst_id, dst_port, raw_id, client_id, sensor = 'suricata' AS suri
FROM tls_moved;
