-- Stage 05, for a store that ends with the scan, run only when a dictionary gave strings numbers of
-- their own (05_narrow_3_dicts.sql: their keys collide with another string's): the batch's rows that
-- hold such a string take that number instead of the key their ingest computed, before the strings
-- are dropped (05_narrow_5_move.sql). As the lookups of 05_narrow_4_views.sql: the string's own
-- number first, else its key.
UPDATE conn SET src_id = d.addr_id FROM scan_addr_dict d WHERE d.addr_id < 0 AND d.addr = conn.src;
UPDATE conn SET dst_id = d.addr_id FROM scan_addr_dict d WHERE d.addr_id < 0 AND d.addr = conn.dst;

UPDATE tls SET src_id = d.addr_id FROM scan_addr_dict d WHERE d.addr_id < 0 AND d.addr = tls.src;
UPDATE tls SET dst_id = d.addr_id FROM scan_addr_dict d WHERE d.addr_id < 0 AND d.addr = tls.dst;
UPDATE tls SET raw_id = n.raw_id FROM scan_name_dict n WHERE n.raw_id < 0 AND n.raw_name = tls.server_name;
UPDATE tls SET client_id = k.client_id FROM scan_client_dict k
WHERE k.client_id < 0 AND k.ja3 IS NOT DISTINCT FROM nullif(tls.ja3, '') AND k.ja4 IS NOT DISTINCT FROM nullif(tls.ja4, '');
