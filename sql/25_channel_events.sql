-- Stage 25: every event with its channel number: the one join on the channel key (later stages use
-- the integer). Only what later stages read is kept, as narrow as it can be: this table holds every
-- event of the day. Per-channel values (src, destination, fingerprint, client strings) are in
-- scan_channels, per-name values (the name, platform, tenant ...) in scan_names (name_id), and which
-- logs saw the event is reduced here to the flags stage 45 reports:
--   by_conn  timed by a Zeek conn row;   by_eve   timed by Suricata, or seen by Suricata at all;
--   by_ssl / by_http  named by a Zeek ssl / http row;   by_dns   a DNS query standing in (stage 21).
CREATE OR REPLACE TEMP TABLE scan_chev AS
SELECT c.chan_id, k.name_id, k.dst, k.dst_port, k.epoch, k.duration, k.bytes_out, k.bytes_in,
       k.via = 'conn' AS by_conn,
       k.via = 'eve' OR k.sensor = 'suricata' AS by_eve,
       k.has_tls AND coalesce(k.sensor, 'zeek') <> 'suricata' AS by_ssl,
       k.has_http AND coalesce(k.sensor, 'zeek') <> 'suricata' AS by_http,
       k.via = 'dns' AS by_dns
FROM scan_keyed k
JOIN scan_channels c ON c.src = k.src AND c.dest_key = k.dest_key AND c.fp = k.fp;
