-- Stage 25: every event with its channel number: the one join on the channel key (later stages use
-- the integer). Only what later stages read is kept; per-channel values (src, destination,
-- fingerprint, client strings) are in scan_channels and per-name values (platform, tenant ...) in scan_names.
CREATE OR REPLACE TEMP TABLE scan_chev AS
SELECT c.chan_id, k.name, k.dst, k.dst_port, k.epoch, k.duration, k.bytes_out, k.bytes_in,
       k.via, k.has_tls, k.has_http, k.sensor
FROM scan_keyed k
JOIN scan_channels c ON c.chan_key = k.chan_key;
