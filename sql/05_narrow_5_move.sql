-- Stage 05, for a store that ends with the scan (analyzer.narrow, release): the batch's rows of conn
-- and tls made what the scan keeps, in place. A scratch store's ingest already numbered them as it
-- read them (analyzer.store.SCRATCH_DERIVED: src_id, dst_id, raw_id, client_id, the keys of stage 03);
-- keys that collide were given their own numbers (05_narrow_5_apart.sql). Here the connections whose
-- service is DNS go (no stage makes an event of them, stage 04), and a Suricata flow's bytes on the
-- wire stand in for the payload bytes it does not count (stage 04). analyzer.narrow then drops the
-- strings: the first batch's tables are kept as they are (conn_moved, tls_moved), with no copy of
-- their rows, and later batches are added to them (05_narrow_6_append.sql). A batch that is mostly
-- DNS is copied instead of kept (narrow.DEAD_SHARE): deleted rows keep their memory.
DELETE FROM conn WHERE coalesce(service, '') = 'dns';

UPDATE conn SET orig_bytes = orig_ip_bytes, resp_bytes = resp_ip_bytes WHERE sensor = 'suricata';
