-- Stage 30: burst collapse, and the intervals between the check-ins that are left.
-- Events closer than the burst gap b to the previous event of the channel belong to the same
-- check-in (operator tasking bursts, Apps Script 302 redirect pairs, retries, page assets). b adapts
-- to the channel: min($burst_max_s, $burst_frac x the $burst_quantile quantile of the raw gaps of
-- $burst_floor_s or more), so a 30 s beacon is never merged with itself. The quantile is the upper
-- quartile, not the median: in a redirect-pair channel half of the raw gaps are the sub-second pair gaps, and the
-- median would be one of them. A check-in is the first event of each burst.
-- A check-in's interval is the quiet time before it: from the last event of the previous burst, less
-- the burst gap b (D' = d - b, d the raw gap that made it a check-in). That keeps the Poisson null
-- exponential after burst collapse (an exponential conditioned on > b, minus b, is the same
-- exponential), which is what the test in stage 44 is calibrated against. Measured from the previous
-- check-in instead, random polls with a follow-up request 2 s after some of them lose that property
-- (every interval after a follow-up is 2 s longer than the quiet time) and scored C = 0.39 on 1500
-- polls; measured this way, C = 0. A beacon loses nothing: it sleeps between bursts, and a burst
-- lasts seconds against a sleep of tens of seconds or more.
-- One row per check-in (dd NULL for the first of its channel), with its request size for stage 43:
-- the check-ins themselves are not kept as a table of their own (every event of the day, once more).
-- Each channel's burst gap is a row of its own (scan_bursts), not a column of every check-in.
-- The quantile is taken over the gaps of at least $burst_floor_s (when none is that long, the channel's
-- longest gap stands in: a second sort of every gap for the rare channel of sub-second gaps only cost
-- 0.3 s at 10M events): a check-in of four or more quick connections (a client that opens several at once, an
-- implant that fetches its tasks in parts) makes three quarters of the raw gaps sub-second, and the
-- upper quartile one of them: b was then a fraction of a second, nothing collapsed, and the channel
-- was timed at its 0.1 s gaps (a 60 s beacon reported "every ~0.1 s"; random polls opening four
-- connections at a time scored 0.9 as a "beacon every ~0.1 s").
CREATE OR REPLACE TEMP TABLE scan_bursts AS
SELECT chan_id,
       least($burst_max_s, $burst_frac * coalesce(
           percentile_cont($burst_quantile) WITHIN GROUP (ORDER BY CASE WHEN d >= $burst_floor_s THEN d END),
           max(d))) AS burst_s
FROM scan_raw
WHERE d > 0
GROUP BY chan_id;

CREATE OR REPLACE TEMP TABLE scan_intervals AS
SELECT r.chan_id, r.bytes_out, r.d - b.burst_s AS dd
FROM scan_raw r
JOIN scan_bursts b ON b.chan_id = r.chan_id
WHERE r.d IS NULL OR r.d > b.burst_s;
