-- Stage 35: the rhythm that holds the channel's time, when a faster stretch outnumbers it.
-- Stage 30 sets a channel's burst gap b from the upper quartile of its gaps, counted one per gap. An
-- operator who takes a beacon interactive (Cobalt Strike's "sleep 0", a few seconds between check-ins
-- for half an hour) makes hundreds of short gaps in a day of a 10-minute beacon's 144: the quartile,
-- b and the median are then the interactive session's, and the finding read "beacons every ~2.1 s ...
-- 168 sleep gaps skipped (23.4 h without check-ins)" for a 10-minute implant.
-- Told apart by time, not by count: the check-ins near the median m of a channel account for about
-- n x m of its time (n intervals), most of it for a beacon (a sleeping laptop's included: its sleep is
-- a few gaps), about ln 2 of it for random traffic. A channel whose n x m is under $rhythm_share of its
-- intervals' total is a candidate when enough of its intervals ($rhythm_min_intervals) are longer than
-- $gap_factor x m: there is a slower rhythm beside the fast one. Its burst gap b2 is stage 30's rule
-- applied to those longer intervals (capped at $burst_max_s as always), so the fast stretch becomes
-- bursts of the slower rhythm; the channel is re-timed at b2 when that rhythm, too, has
-- $rhythm_min_intervals intervals and holds at least $rhythm_kept_share of the time. Otherwise it
-- stays as stage 30 timed it: a fast beacon with a few long sleeps keeps its fast rhythm (the sleeps
-- are too few to be a rhythm), and so does one active a few minutes a day (its days are too few).
-- Re-timing needs no event: b2 > b, so each interval of stage 30 (d - b, d its raw gap) either is a
-- gap inside a burst now (d <= b2) or becomes d - b2. The chosen candidate is the one that explains
-- more of the channel's time, not the one that scores higher, so random traffic gains nothing from
-- the choice; and the exponential null is unchanged by any burst gap (stage 30).
-- scan_medians (chan_id, m, n, total_s, fast_period, fast_n): each channel's median interval for stage
-- 40, and for a re-timed channel the median period of the faster stretch it folded, and how many of
-- its gaps are inside bursts now.
CREATE OR REPLACE TEMP TABLE scan_medians AS
SELECT chan_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY dd) AS m, count(*) AS n, sum(dd) AS total_s,
       CAST(NULL AS DOUBLE) AS fast_period, CAST(NULL AS BIGINT) AS fast_n
FROM scan_intervals
WHERE dd IS NOT NULL
GROUP BY chan_id;

CREATE OR REPLACE TEMP TABLE scan_rhythm AS
WITH cand AS (
    SELECT m.chan_id, m.m, m.n, b.burst_s
    FROM scan_medians m
    JOIN scan_bursts b ON b.chan_id = m.chan_id
    WHERE m.n * m.m < $rhythm_share * m.total_s AND b.burst_s < $burst_max_s
), slow AS (
    SELECT c.chan_id, count(*) AS n_slow,
           least($burst_max_s, $burst_frac * percentile_cont($burst_quantile) WITHIN GROUP (ORDER BY i.dd + c.burst_s))
               AS b2
    FROM scan_intervals i
    JOIN cand c ON c.chan_id = i.chan_id
    WHERE i.dd > $gap_factor * c.m
    GROUP BY c.chan_id
)
SELECT c.chan_id, c.m + c.burst_s AS fast_period, c.n AS fast_n, c.burst_s AS b1, s.b2
FROM cand c
JOIN slow s ON s.chan_id = c.chan_id
WHERE s.n_slow >= $rhythm_min_intervals AND s.b2 > c.burst_s;

CREATE OR REPLACE TEMP TABLE scan_rhythm_intervals AS
SELECT i.chan_id, i.bytes_out, i.dd + r.b1 - r.b2 AS dd
FROM scan_intervals i
JOIN scan_rhythm r ON r.chan_id = i.chan_id
WHERE i.dd IS NULL OR i.dd + r.b1 > r.b2;

CREATE OR REPLACE TEMP TABLE scan_rhythm_kept AS
WITH x AS (
    SELECT chan_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY dd) AS m, count(*) AS n, sum(dd) AS total_s
    FROM scan_rhythm_intervals
    WHERE dd IS NOT NULL
    GROUP BY chan_id
)
SELECT x.chan_id, x.m, x.n, x.total_s, r.fast_period, r.fast_n - x.n AS fast_n, r.b2
FROM x
JOIN scan_rhythm r ON r.chan_id = x.chan_id
WHERE x.n >= $rhythm_min_intervals AND x.n * x.m >= $rhythm_kept_share * x.total_s;

DELETE FROM scan_intervals WHERE chan_id IN (SELECT chan_id FROM scan_rhythm_kept);

INSERT INTO scan_intervals (chan_id, bytes_out, dd)
SELECT i.chan_id, i.bytes_out, i.dd
FROM scan_rhythm_intervals i
JOIN scan_rhythm_kept k ON k.chan_id = i.chan_id;

DELETE FROM scan_medians WHERE chan_id IN (SELECT chan_id FROM scan_rhythm_kept);

INSERT INTO scan_medians (chan_id, m, n, total_s, fast_period, fast_n)
SELECT chan_id, m, n, total_s, fast_period, fast_n
FROM scan_rhythm_kept;

UPDATE scan_bursts SET burst_s = k.b2
FROM scan_rhythm_kept k
WHERE k.chan_id = scan_bursts.chan_id;
