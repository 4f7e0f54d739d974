-- Stage 05, for a store that ends with the scan: a later batch's rows (05_narrow_5_move.sql) added
-- to those the first batch kept; analyzer.narrow then empties the logs.
INSERT INTO conn_moved (uid, epoch, src_id, dst_id, dst_port, duration, orig_bytes, resp_bytes, sensor)
SELECT uid, epoch, src_id, dst_id, dst_port, duration, orig_bytes, resp_bytes, sensor FROM conn;

INSERT INTO tls_moved (uid, epoch, src_id, dst_id, dst_port, raw_id, client_id, sensor)
SELECT uid, epoch, src_id, dst_id, dst_port, raw_id, client_id, sensor FROM tls;
