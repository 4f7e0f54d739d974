-- Stage 35: check-in intervals, shifted by the burst gap b (D' = c_k - c_{k-1} - b). The shift keeps
-- the Poisson null exponential after burst collapse (an exponential conditioned on > b, minus b, is
-- the same exponential), which is what the test in stage 42 is calibrated against.
CREATE OR REPLACE TEMP TABLE scan_intervals AS
SELECT chan_id, burst_s,
       epoch - lag(epoch) OVER (PARTITION BY chan_id ORDER BY epoch) - burst_s AS dd
FROM scan_checkins;
