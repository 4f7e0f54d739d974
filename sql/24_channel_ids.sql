-- Stage 24: one row per channel, numbered, so later stages group and partition by one integer.
CREATE OR REPLACE TEMP TABLE scan_channels AS
SELECT row_number() OVER (ORDER BY chan_key) AS chan_id, chan_key, src, dest_key, fp, events
FROM (
    SELECT chan_key, min(src) AS src, min(dest_key) AS dest_key, min(fp) AS fp, count(*) AS events
    FROM scan_keyed
    GROUP BY chan_key
) c;
