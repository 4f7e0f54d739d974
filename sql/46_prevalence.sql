-- Stage 46: destination prevalence and novelty.
--   prevalence     how many internal hosts reached the destination (tenant / name) in the window,
--                  whatever their client (reported);
--   fp_prevalence  how many reached it with the channel's own client fingerprint (scored): on a
--                  shared host such as script.google.com every browser counts in `prevalence`, but
--                  an implant's fingerprint is on one host; a monitoring agent's is on the fleet.
--   fleet          what the fleet discount of stage 49 reads: fp_prevalence, except that for a timed
--                  channel (stage 44) the hosts timed at another cadence (periods more than a factor
--                  $fleet_period_ratio apart) do not count. Hosts that merely use the destination with
--                  this client show it is everyday traffic here; hosts that beacon to it at a different
--                  rhythm do not: a fleet agent keeps one rhythm everywhere, while unrelated timers that
--                  share a generic fingerprint (every Go or Python program has the same JA4) on a popular
--                  platform (script.google.com) are no alibi for each other. When no client was seen
--                  at all (no JA3, JA4 or User-Agent: DNS queries, connections with no TLS or HTTP) and the
--                  destination is a serverless front door that names no tenant (script.google.com),
--                  only hosts that beacon at the same cadence count: "everyone who reached
--                  script.google.com over HTTPS" says nothing about the software that beacons there
--                  (with conn and dns logs only, 125 browsing hosts had made every Apps Script implant
--                  look like a fleet agent). The same holds for a browser's handshake there: every user
--                  has it, and 93 users who opened script.google.com a few times a day made an implant
--                  with Chrome's handshake (uTLS) a "fleet" of 66 "at this cadence" (an outside tester's:
--                  0.30, hidden; 0.80 without their visits). Elsewhere, how many hosts use a name or tenant still says
--                  how ordinary it is here (WRCCDC: firewalls polling their vendor's cloud).
--   first_epoch the first time any host in the whole store used one of the destination's names
--               (TLS SNI, HTTP Host or DNS query: scan_seen, stage 21); is_new when that is inside
--               the window and the store holds at least $novelty_history_s of data from before the
--               window, counted in clock hours with connections (stage 20; otherwise "new" would mean
--               nothing: a day of logs a few seconds longer than the 24 h window, or one stray
--               minute from long before, made every destination of the day "new to the store").
-- One row per channel that can be a finding (scan_candidates, stage 45), counted over every channel
-- to the same destination: a day of 1.7M channels, nearly all of them timed, took 3.2 s (windows over
-- every channel, then a row for each) where its few candidates' destinations take a fraction.
CREATE OR REPLACE TEMP TABLE scan_prevalence AS
WITH cand_fps AS (
    SELECT DISTINCT c.dest_key, c.fp FROM scan_channels c JOIN scan_candidates k ON k.chan_id = c.chan_id
), cand_dests AS (
    SELECT DISTINCT dest_key FROM cand_fps
), prev AS (
    SELECT c.dest_key, count(DISTINCT c.src) AS prevalence
    FROM scan_channels c JOIN cand_dests d ON d.dest_key = c.dest_key
    GROUP BY c.dest_key
), timed AS (
    -- period: any channel with a timing (stage 44); beat: one periodic enough to be a beacon
    -- ($beacon_min). Where no client was seen, a peer with a merely computed median gap (a browser's
    -- visits) is no timer at some cadence, so only beats are compared there.
    SELECT c.chan_id, c.dest_key, c.fp, b.m + b.burst_s AS period,
           CASE WHEN b.beacon >= $beacon_min THEN b.m + b.burst_s END AS beat,
           c.ja3 IS NULL AND c.ja4 IS NULL AND c.user_agent IS NULL AS no_client,
           coalesce(cc.browser, FALSE) AS browser_client
    FROM scan_channels c
    JOIN cand_fps f ON f.dest_key = c.dest_key AND f.fp = c.fp
    LEFT JOIN scan_beacon b ON b.chan_id = c.chan_id
    LEFT JOIN scan_client_class cc      -- built from scan_facts before this stage (scan.py)
           ON cc.ua = coalesce(c.user_agent, '') AND cc.ja4 = coalesce(c.ja4, '') AND cc.ja3 = coalesce(c.ja3, '')
), fp_counts AS (
    SELECT dest_key, fp, count(*) AS fp_prevalence, count(period) AS timed_n
    FROM timed
    GROUP BY dest_key, fp
), cadence AS (
    -- the cadence windows run over the timed channels alone (an untimed one has no period, so it
    -- counts in neither): windows over every channel took most of this stage on a day of 1M channels
    SELECT chan_id,
           count(period) OVER (PARTITION BY dest_key, fp ORDER BY ln(period)
                               RANGE BETWEEN ln($fleet_period_ratio) PRECEDING
                                         AND ln($fleet_period_ratio) FOLLOWING) AS same_cadence,
           count(beat) OVER (PARTITION BY dest_key, fp ORDER BY ln(beat)
                             RANGE BETWEEN ln($fleet_period_ratio) PRECEDING
                                       AND ln($fleet_period_ratio) FOLLOWING) AS same_beat
    FROM timed
    WHERE period IS NOT NULL
), fp_prev AS (
    SELECT t.chan_id, t.dest_key, t.fp, c.fp_prevalence, c.fp_prevalence - c.timed_n AS untimed,
           k.same_cadence, k.same_beat, t.period, t.beat, t.no_client, t.browser_client
    FROM timed t
    JOIN scan_candidates x ON x.chan_id = t.chan_id
    JOIN fp_counts c ON c.dest_key = t.dest_key AND c.fp = t.fp
    LEFT JOIN cadence k ON k.chan_id = t.chan_id
), names AS (
    SELECT DISTINCT c.dest_key, e.name
    FROM scan_chan_names e
    JOIN scan_channels c ON c.chan_id = e.chan_id
    JOIN cand_dests d ON d.dest_key = c.dest_key
), first_seen AS (
    SELECT n.dest_key, min(s.first_epoch) AS store_first_epoch
    FROM names n JOIN scan_seen s ON s.name = n.name  -- stage 21 (21_first_seen)
    GROUP BY n.dest_key
), shared AS (
    -- serverless front doors that name no tenant (script.google.com: the script is in the URL path)
    SELECT DISTINCT c.dest_key
    FROM scan_chan_names k
    JOIN scan_channels c ON c.chan_id = k.chan_id
    JOIN cand_dests d ON d.dest_key = c.dest_key
    JOIN scan_names n ON n.name = k.name
    WHERE n.platform IS NOT NULL AND n.tenant IS NULL
)
SELECT fp.chan_id, fp.dest_key, fp.fp, p.prevalence, fp.fp_prevalence,
       CASE WHEN sh.dest_key IS NOT NULL AND (fp.no_client OR fp.browser_client)
                THEN CASE WHEN fp.beat IS NULL THEN fp.fp_prevalence ELSE fp.same_beat END
            WHEN fp.period IS NULL THEN fp.fp_prevalence
            ELSE fp.untimed + fp.same_cadence END AS fleet,
       f.store_first_epoch,
       (f.store_first_epoch >= $t0 AND ss.history_s >= $novelty_history_s) AS is_new
FROM fp_prev fp
JOIN prev p ON p.dest_key = fp.dest_key
LEFT JOIN first_seen f ON f.dest_key = fp.dest_key
LEFT JOIN shared sh ON sh.dest_key = fp.dest_key
CROSS JOIN scan_store_span ss;                 -- stage 21 (21_first_seen)
