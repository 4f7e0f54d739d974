-- Stage 49: combine timing and evidence into one score per channel, choose the finding kind and the
-- severity. scan_client_class (filled by scan.py from analyzer.clients) says, per (User-Agent, JA4,
-- JA3), whether the client is a non-browser and whether a browser User-Agent comes with a
-- non-browser TLS fingerprint.
--   beacon finding   beacon >= $beacon_min and activity over at least $min_span_s (or, when the logs
--                    cover less of its source host, $span_frac of what they cover: a replayed pcap of
--                    a few minutes). What the logs cover is taken per source host (its first to last
--                    event of the window, src_span), not for the whole store: a capture of a few
--                    minutes scanned together with another day's logs keeps its own span. A period under $min_period_s is a fast cadence: RAT reconnect loops
--                    (QuasarRAT every 3.5 s) look like that, and so do scanners and brute force. A fast
--                    channel is kept only when its destination is a public address
--                    (scan_dst_class, filled by scan.py) and its source has at most
--                    $strobe_max_fanout fast channels (a scanner has many). Never to a multicast or
--                    broadcast address (scan_dst_class.no_reply: SSDP, LLMNR announcements; no server
--                    answers them). Never a DNS forwarder's DNS-only channel of one name (forwarded:
--                    stage 25's scan_forwarders; its queries come at its cache's TTL, not at a timer):
--                    score = clamp(beacon x category weight + evidence, 0, 1), where the category
--                    weight is $w_serverless for serverless platforms and $w_other otherwise, and
--                    evidence = + $w_nonbrowser (non-browser client) + $w_mismatch (spoofed browser)
--                               + $w_tool (a known scripting runtime or attack tool: PowerShell, curl,
--                                 python-requests, an empty UA, a tool's JA3/JA4 ...)
--                               + $w_single (one internal host with this client)
--                               - fleet_discount: $w_common for >= $prev_common hosts with this
--                                 client, leaving out those timed at another cadence (a fleet, stage
--                                 46); only $w_small_fleet for fewer than $fleet_large to a serverless
--                                 endpoint of a medium- or high-confidence entry: a few hosts in step
--                                 with one tenant is what one implant spread to a few hosts looks
--                                 like, which the full discount hid (three hosts running one Worker
--                                 implant at 20 % jitter scored 0.44-0.49, under the default
--                                 --min-score). Elsewhere (CDNs, load balancers, a corporate GitLab)
--                                 a few hosts in step are ordinary infrastructure far more often.
--                                 A fleet of any size to such an endpoint new to the store (is_new:
--                                 first used inside the window, with hours of history before it, as
--                                 a store scanned nightly has) is discounted $w_small_fleet too: an
--                                 agent IT deployed has been calling for longer; hosts that all
--                                 began today may be one implant spreading (or a new rollout).
--                                 So is one whose channel began $late_start_s or more after its host's
--                                 first traffic of the window, when every host of the fleet began
--                                 that late into the window too (late_start): on a one-day scan with no
--                                 history, a worm that reached 40 hosts in the morning took the full
--                                 discount (0.71-0.74, under a benign agent every host had run since
--                                 midnight, 0.80); an agent starts with its host, and its fleet holds
--                                 hosts that run all night (a laptop's first traffic can be a few
--                                 lookups at 01:00 before it sleeps until 08:00, its agent's first
--                                 named check-in at 08:09)
--                                 A fleet of $fleet_wide hosts or more, and of $fleet_wide_share or more of
--                                 the $internal_hosts (scan.py: sources with private addresses), that is
--                                 neither (an agent on every host since before the window) is discounted
--                                 $w_fleet_wide: an outside tester's vendor agent on all 150 hosts stayed a
--                                 medium beacon (0.80) every night, 150 records in JSON, above a 40-host
--                                 worm. The share keeps a campaign on 40 of 200 hosts that began before
--                                 the window (a one-day scan, no history to call it new) at $w_common
--                               + $w_new (destination new to the store)
--                               + $w_dns (DNS signs: TXT queries, high-entropy labels, or at least
--                                 $nxdomain_min NXDOMAIN answers across several names, as a DGA or
--                                 exfiltration through query names makes)
--                               - $w_dead_lookup (DNS only, one unchanging name, and every query
--                                 answered NXDOMAIN: a lookup retrying, e.g. a single-label name
--                                 missing its search suffix; no reply and no varying name, so no
--                                 data can flow either way)
--                               + $w_intel (the name is on a threat-intel list)
--   contact finding  a serverless destination of a catalogue entry whose confidence is not low (CDNs,
--                    VM hostnames and static hosting carry endless benign non-browser traffic:
--                    low_conf, stage 45), not beaconing, reached by a non-browser client (or a
--                    long-lived low-volume connection from a client whose handshake is not a
--                    browser's: a browser keeps one HTTP/2 connection open for as long as a tab of the
--                    site is, and a simulated 3 h dashboard tab on a Vercel app was a contact; except
--                    that a browser's connection held $long_conn_browser_s or longer to a tenant no
--                    other host reaches is listed, low, as a uTLS implant polling inside one connection
--                    looks just so; or any client to an intel-listed name): score = clamp($contact_base + evidence,
--                    0, $contact_cap); the network analogue of "non-browser process talks to
--                    serverless". Also, with no JA4 logged to judge the client by (stock Zeek's
--                    ssl.log; plain HTTP, whose browser User-Agent an implant can claim), such a
--                    destination that one internal host alone, or each of a few in step (fewer than
--                    $fleet_large: one implant on a few hosts, whose small-fleet discount can put its
--                    beacon under the default --min-score), reaches at regular intervals
--                    (timed_contact: z >= $z_lo, regularity >= $regular_min) that are not listed as a
--                    beacon: too few for a beacon score (an hourly implant over one office day), or
--                    a beacon under the caller's --min-score, which would otherwise need its client
--                    to give it away.
--                    contact_ok / contact_score / contact_severity are kept on beacon rows too: a
--                    beacon under the caller's --min-score is still listed as this contact when it
--                    qualifies (scan.py), so a weak timer never hides a contact.
--   A rotation channel (stage 25: one client timed across several serverless tenants) is a beacon
--   finding or nothing: its tenants' own channels are the contacts. Not a browser's (by its JA4): a
--   browser's sites and a page or extension polling one of them, timed together, are no rotation;
--   unless no other host reaches any of its tenants (rotation_solo): an outside tester's implant with
--   Chrome's handshake (uTLS), rotating among six Worker accounts of its own, had no finding at all.
-- Inbound (an outside, globally routable source reaching a private destination: scan.py's
-- scan_src_class and scan_dst_class): an uptime monitor or scanner far more often than a controller
-- reaching a listening implant, and not what this tool looks for (internal hosts calling out): a
-- beacon's score is weighted by $w_inbound, and such a channel is never a contact.
-- Internal (an internal source reaching a private destination that no TLS SNI or HTTP Host names: keyed
-- by address, or named only from the host's DNS answers; never a serverless platform): SNMP and ping
-- monitors polling every device, directory, file and time services. A simulated core link gave a
-- monitor's 40 SNMP polls and 10 pings 50 beacon findings at 0.90. An implant's pivot inside the
-- network looks the same, but this tool looks for internal hosts calling out (RITA, too, leaves
-- internal-to-internal traffic out by default): weighted by $w_internal. A channel through an explicit
-- proxy, whose address is private too, is named by its CONNECT target or SNI, and is not internal.
-- Time sync (a channel to NTP's port, $time_sync_port, never a serverless platform): chrony and ntpd poll
-- their servers every 64-1024 s by design, each host its own few pool servers, so no fleet discount
-- applies (20 simulated Linux hosts: 32 beacon findings at 0.79-0.90): weighted by $w_time_sync.
-- Severity from the score ($sev_high / $sev_medium / $sev_low); non-serverless beacons and contacts
-- are capped one level lower (medium / low) so serverless weighs more.
CREATE OR REPLACE TEMP TABLE scan_findings AS
WITH b0 AS (
    SELECT f.*, b.beacon, b.c_score, b.r_score, b.s_score, b.z, b.z_wide, b.z_tight, b.qcd, b.n, b.k, b.k_tight, b.skips, b.gaps, b.gap_s, b.m, b.q1, b.q2,
           b.q3, b.burst_s, b.fast_period, b.fast_n,
           p.prevalence, p.fp_prevalence, p.fleet, p.store_first_epoch, coalesce(p.is_new, FALSE) AS is_new,
           d.dns_queries, d.txt_queries, d.nxdomain, d.min_ttl, d.median_query_gap,
           e.random_labels, e.max_label_entropy,
           coalesce(cc.nonbrowser, FALSE) AS nonbrowser, coalesce(cc.mismatch, FALSE) AS mismatch,
           coalesce(cc.tool, FALSE) AS tool, coalesce(cc.browser, FALSE) AS browser,
           cc.client_label,
           fw.src IS NOT NULL AS forwarder,
           f.dest_key LIKE 'rotation:%' AS rotation,
           coalesce(rs.solo, FALSE) AS rotation_solo
    FROM scan_facts f
    LEFT JOIN scan_beacon b ON b.chan_id = f.chan_id
    LEFT JOIN scan_prevalence p ON p.chan_id = f.chan_id
    LEFT JOIN scan_dns d ON d.chan_id = f.chan_id
    LEFT JOIN scan_entropy e ON e.chan_id = f.chan_id
    LEFT JOIN scan_client_class cc
           ON cc.ua = coalesce(f.user_agent, '') AND cc.ja4 = coalesce(f.ja4, '') AND cc.ja3 = coalesce(f.ja3, '')
    LEFT JOIN scan_forwarders fw ON fw.src = f.src
    LEFT JOIN (SELECT DISTINCT src, rot_key, solo FROM scan_rotations) rs ON rs.rot_key = f.dest_key AND rs.src = f.src
), fast AS (
    SELECT b.*, coalesce(dc.private, FALSE) AS dst_private, coalesce(dc.no_reply, FALSE) AS dst_no_reply,
           coalesce(sc.outside, FALSE) AND coalesce(dc.private, FALSE) AS inbound,
           coalesce(NOT coalesce(sc.outside, FALSE) AND coalesce(dc.private, FALSE) AND b.platform IS NULL
                    AND (b.dest_key LIKE 'ip:%' OR (b.src_answer = 1 AND b.src_ssl = 0 AND b.src_http = 0)),
                    FALSE) AS internal,
           coalesce(b.dst_port = $time_sync_port AND b.platform IS NULL, FALSE) AS time_sync,
           beacon IS NOT NULL AND beacon >= $beacon_min AND m + burst_s < $min_period_s AS fast_cadence
    FROM b0 b
    LEFT JOIN scan_dst_class dc ON dc.dst = b.dst
    LEFT JOIN scan_src_class sc ON sc.src = b.src
), fanout AS (
    SELECT fast.*, sum(CASE WHEN fast_cadence THEN 1 ELSE 0 END) OVER (PARTITION BY fast.src) AS src_fast_channels,
           ss.last_epoch - ss.first_epoch AS src_span,     -- over all its channels (stage 45)
           ss.first_epoch AS src_first
    FROM fast
    LEFT JOIN scan_src_span ss ON ss.src = fast.src
), dead AS (
    SELECT fanout.*,
           src_dns = 1 AND src_conn + src_eve + src_ssl + src_http = 0 AND coalesce(names, 1) = 1
               AND dns_queries > 0 AND nxdomain = dns_queries AS dead_lookup,
           coalesce(nxdomain, 0) >= $nxdomain_min AND coalesce(names, 1) > 1 AS nx_burst,
           -- a DNS forwarder's queries of one name, or of the few names of one tenant or redirect pair
           -- (stage 25): its cache's rhythm, not a timer. Generated labels grouped under their parent (a
           -- tunnel: many names, no platform) miss the cache every time and keep their client's timing.
           forwarder AND src_dns = 1 AND coalesce(dns_events, 0) >= connections
               AND (coalesce(names, 1) <= 1 OR platform IS NOT NULL) AS forwarded
    FROM fanout
), fleets AS (
    SELECT dead.*,
           -- a serverless endpoint of a medium- or high-confidence catalogue entry
           platform IS NOT NULL AND coalesce(low_conf, 0) = 0 AS serverless_ok,
           coalesce(fleet >= $prev_common, FALSE) AS in_fleet,
           coalesce(fleet >= $prev_common AND fleet < $fleet_large, FALSE) AS few_in_step,
           coalesce(first_epoch - src_first >= $late_start_s
                    AND min(first_epoch) OVER (PARTITION BY dest_key, fp) - min(src_first) OVER () >= $late_start_s,
                    FALSE) AS late_start
    FROM dead
), signs AS (
    SELECT fleets.*,
           (coalesce(txt_queries, 0) > 0 OR nx_burst OR coalesce(random_labels, 0) > 0) AS dns_signs,
           long_conn_s IS NOT NULL AS long_conn,
           coalesce(serverless_ok AND (fp_prevalence = 1 OR few_in_step)
                    AND NOT inbound AND NOT forwarded AND coalesce(ja4, '') = '' AND NOT nonbrowser AND NOT mismatch
                    AND z >= $z_lo AND r_score >= $regular_min,
                    FALSE) AS timed_contact,
           CASE WHEN NOT in_fleet THEN 0
                WHEN serverless_ok AND (few_in_step OR is_new OR late_start) THEN $w_small_fleet
                WHEN fleet >= $fleet_wide AND fleet >= $fleet_wide_share * $internal_hosts THEN $w_fleet_wide
                ELSE $w_common
           END AS fleet_discount
    FROM fleets
), ev AS (
    SELECT signs.*,
           CASE WHEN nonbrowser THEN $w_nonbrowser ELSE 0 END
         + CASE WHEN tool THEN $w_tool ELSE 0 END
         + CASE WHEN mismatch THEN $w_mismatch ELSE 0 END
         + CASE WHEN fp_prevalence = 1 THEN $w_single ELSE 0 END
         - fleet_discount
         + CASE WHEN is_new THEN $w_new ELSE 0 END
         + CASE WHEN intel_pattern IS NOT NULL THEN $w_intel ELSE 0 END
         + CASE WHEN dns_signs THEN $w_dns ELSE 0 END
         - CASE WHEN dead_lookup THEN $w_dead_lookup ELSE 0 END AS evidence
    FROM signs
), kinds AS (
    SELECT ev.*,
           ((serverless_ok AND (nonbrowser OR mismatch OR (long_conn AND NOT browser)))
            OR intel_pattern IS NOT NULL
            OR timed_contact
            OR (long_conn AND platform IS NULL AND fp_prevalence = 1 AND nonbrowser AND NOT inbound AND NOT internal)
            -- a browser's handshake holding a serverless connection open for hours, to a tenant no other
            -- host reaches: a live page left open, or a uTLS implant polling inside one connection (an
            -- outside tester's Chrome-handshake implant, kept alive 24 h, had no finding at all): low
            OR (long_conn AND serverless_ok AND browser AND prevalence = 1 AND long_conn_s >= $long_conn_browser_s
                AND NOT inbound))
           AND NOT rotation AS contact_ok,
           greatest(0.0, least($contact_cap,
                    $contact_base + evidence + CASE WHEN long_conn THEN $w_long_conn ELSE 0 END)) AS contact_score,
           coalesce(beacon >= $beacon_min
                    AND last_epoch - first_epoch >= least($min_span_s, $span_frac * least($data_span, src_span))
                    AND (NOT fast_cadence OR (NOT dst_private AND src_fast_channels <= $strobe_max_fanout))
                    AND NOT dst_no_reply AND NOT forwarded
                    AND NOT (rotation AND browser AND NOT rotation_solo),
                    FALSE) AS is_beacon
    FROM ev
), scored AS (
    SELECT kinds.*,
           CASE WHEN is_beacon THEN 'beacon' WHEN contact_ok THEN 'contact' END AS kind,
           CASE
               WHEN contact_score >= $sev_high AND platform IS NOT NULL THEN 'medium'
               -- a name on the user's own threat-intel list, reached at all: medium, whatever the timing
               WHEN intel_pattern IS NOT NULL THEN 'medium'
               -- a non-browser client holding a serverless connection open for an hour or more, alone:
               -- an HTTP/2 or WebSocket implant's shape (Sliver, Mythic, Havoc polling inside one
               -- connection), whose check-ins the logs cannot time; an outside tester's 23.5 h Go
               -- connection to a Lambda URL only its host reached was a low contact
               WHEN long_conn AND serverless_ok AND fp_prevalence = 1 AND (nonbrowser OR mismatch)
                    AND NOT inbound THEN 'medium'
               WHEN contact_score >= $sev_low THEN 'low'
               ELSE 'info'
           END AS contact_severity,
           -- a low-confidence catalogue entry (a generic CDN or hosting name: CloudFront, Azure CDN, EC2
           -- hostnames, where ordinary sites and software updaters are most of what is seen) names the
           -- platform in the finding, but its beacon is weighed as any other destination's and is
           -- medium at most: a CI runner whose API name is a CNAME to CloudFront was a high
           -- "serverless" beacon, and the catalogue itself rates such a contact low
           CASE WHEN is_beacon
                THEN greatest(0.0, least(1.0, beacon * CASE WHEN serverless_ok THEN $w_serverless
                                                          ELSE $w_other END + evidence))
                     * CASE WHEN inbound THEN $w_inbound WHEN internal THEN $w_internal ELSE 1 END
                     * CASE WHEN time_sync THEN $w_time_sync ELSE 1 END
                ELSE contact_score
           END AS score
    FROM kinds
)
SELECT scored.*,
       CASE
           WHEN kind = 'contact' THEN contact_severity
           WHEN score >= $sev_high AND serverless_ok THEN 'high'
           WHEN score >= $sev_medium THEN 'medium'
           WHEN score >= $sev_low THEN 'low'
           ELSE 'info'
       END AS severity
FROM scored
WHERE kind IS NOT NULL;
