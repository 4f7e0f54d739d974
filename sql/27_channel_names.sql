-- Stage 27: the names each channel used, with how many events used each (a NULL name counts too: the
-- events of a channel keyed by address). Stages 45 (top name), 46 (novelty), 47 (DNS evidence) and
-- 48 (label entropy) read this small table instead of each grouping every event again. Counted from
-- the parts of stage 22 (one or more per channel and name), the name looked up once per name number.
CREATE OR REPLACE TEMP TABLE scan_chan_names AS
WITH per_name AS (
    SELECT chan_id, name_id, CAST(sum(cnt) AS BIGINT) AS cnt FROM scan_parts GROUP BY chan_id, name_id
), names AS (
    SELECT DISTINCT name_id, name FROM scan_names
)
SELECT p.chan_id, n.name, p.cnt
FROM per_name p
LEFT JOIN names n ON n.name_id = p.name_id;
