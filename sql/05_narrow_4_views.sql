-- Stage 05, fourth file: the rows of conn and tls, narrowed (stage 04 lists their columns), their
-- strings turned into numbers: the key of the string (stage 03), unless the dictionary gives the
-- string a number of its own below zero (stage 05, third file; normally none). Views: a store that
-- keeps its logs reads conn and tls through them once, in stage 21 (05_narrow_5_view.sql); one that
-- ends with the scan moves each batch's rows into tables (05_narrow_5_move.sql) and empties the logs.
-- uid keeps the type of the log's uid (a number in a scratch store, analyzer.store.SCRATCH_KEYS).
CREATE OR REPLACE TEMP VIEW _conn_narrowed AS
SELECT c.uid, c.epoch, coalesce(s.addr_id, addr_key(c.src)) AS src_id, coalesce(d.addr_id, addr_key(c.dst)) AS dst_id,
       c.dst_port, c.duration,
       CASE WHEN c.sensor = 'suricata' THEN c.orig_ip_bytes ELSE c.orig_bytes END AS orig_bytes,
       CASE WHEN c.sensor = 'suricata' THEN c.resp_ip_bytes ELSE c.resp_bytes END AS resp_bytes,
       c.sensor = 'suricata' AS suri
FROM conn c
LEFT JOIN (SELECT addr, addr_id FROM scan_addr_dict WHERE addr_id < 0) s ON s.addr = c.src
LEFT JOIN (SELECT addr, addr_id FROM scan_addr_dict WHERE addr_id < 0) d ON d.addr = c.dst
WHERE coalesce(c.service, '') <> 'dns';     -- DNS is scored from dns rows (stage 04)

CREATE OR REPLACE TEMP VIEW _tls_narrowed AS
SELECT t.uid, t.epoch, coalesce(s.addr_id, addr_key(t.src)) AS src_id, coalesce(d.addr_id, addr_key(t.dst)) AS dst_id,
       t.dst_port, coalesce(n.raw_id, name_key(t.server_name)) AS raw_id,
       coalesce(k.client_id, client_key(t.ja3, t.ja4)) AS client_id, t.sensor = 'suricata' AS suri
FROM tls t
LEFT JOIN (SELECT addr, addr_id FROM scan_addr_dict WHERE addr_id < 0) s ON s.addr = t.src
LEFT JOIN (SELECT addr, addr_id FROM scan_addr_dict WHERE addr_id < 0) d ON d.addr = t.dst
LEFT JOIN (SELECT raw_name, raw_id FROM scan_name_dict WHERE raw_id < 0) n ON n.raw_name = t.server_name
LEFT JOIN (SELECT client_id, ja3, ja4 FROM scan_client_dict WHERE client_id < 0) k
       ON k.ja3 IS NOT DISTINCT FROM nullif(t.ja3, '') AND k.ja4 IS NOT DISTINCT FROM nullif(t.ja4, '');
