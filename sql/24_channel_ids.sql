-- Stage 24: one row per channel, numbered, so later stages group and partition by one integer.
-- The client strings (JA3, JA4, User-Agent) are taken here, once per channel, so that the per-event
-- table of stage 25 does not carry them: they are long, and constant within a channel keyed by them.
-- (When the channel is keyed by JA4, the User-Agent is the smallest one seen with it, from decrypted
-- HTTP when there is any.) Grouped on the three key columns; chan_key, the three joined into one
-- string, is built per channel after grouping (it orders the numbering and names the channel).
CREATE OR REPLACE TEMP TABLE scan_channels AS
SELECT row_number() OVER (ORDER BY chan_key) AS chan_id, chan_key, src, dest_key, fp, events, ja3, ja4, user_agent
FROM (
    SELECT src || '|' || dest_key || '|' || fp AS chan_key, src, dest_key, fp, count(*) AS events,
           min(ja3) AS ja3, min(ja4) AS ja4, min(user_agent) AS user_agent
    FROM scan_keyed
    GROUP BY src, dest_key, fp
) c;
