-- Stage 24: number the channels once, so later stages partition by one integer instead of three strings.
CREATE OR REPLACE TEMP TABLE scan_channels AS
SELECT row_number() OVER (ORDER BY src, dest_key, fp) AS chan_id, src, dest_key, fp, count(*) AS events
FROM scan_keyed
GROUP BY src, dest_key, fp;
