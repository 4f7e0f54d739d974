-- Stage 45: what a finding reports about its channel: counts (connections: the events less the later
-- requests on kept-alive HTTP connections, counted apart), time span, bytes, the most frequent
-- name (the group name for a named group) and address, the client strings (from stage 25), which
-- logs saw it, and the longest connection (and the longest long-lived low-volume one, with the bytes it
-- moved, from scan_long_conns: how a beacon inside one keep-alive TLS connection shows up, stage 22). All of it rolled up from the parts of
-- stage 22, not from every event.
-- Only for the channels that can be findings (scan_candidates, below): a real day has far more
-- channels than that, most of them a few visits to one site (a 3M-connection day of 1M channels:
-- 2.7 s for the facts of every channel, 2.1 s more for stage 49 to judge them; 0.2 s and 0.05 s now).
-- scan_src_span: each source host's first and last event of the window over all its channels, the
-- span the logs cover for it (stage 49).

-- The channels that can be findings (stage 49): those that time as beacons (scan_beacon, stage 44:
-- a beacon score of at least $beacon_min), those with a serverless or threat-intel name (a
-- contact), and those with a long-lived low-volume connection. Stages 46-49 judge these alone (46
-- counting every channel to their destinations).
CREATE OR REPLACE TEMP TABLE scan_candidates AS
SELECT chan_id FROM scan_beacon WHERE beacon >= $beacon_min
UNION
SELECT k.chan_id
FROM scan_chan_names k JOIN scan_names n ON n.name = k.name
WHERE n.platform IS NOT NULL OR n.intel_pattern IS NOT NULL
UNION
SELECT chan_id FROM scan_parts WHERE long_conn_s IS NOT NULL;

CREATE OR REPLACE TEMP TABLE scan_src_span AS
SELECT src, min(first_epoch) AS first_epoch, max(last_epoch) AS last_epoch
FROM scan_parts
GROUP BY src;

CREATE OR REPLACE TEMP TABLE scan_facts AS
WITH name_attr AS (
    SELECT name, min(platform) AS platform, min(provider) AS provider, min(tenant) AS tenant,
           min(category) AS category, min(platform_severity) AS platform_severity, min(via_cname) AS via_cname,
           min(CASE WHEN platform_confidence = 'low' THEN 1 ELSE 0 END) AS low_conf,
           min(intel_pattern) AS intel_pattern, min(intel_source) AS intel_source
    FROM scan_names GROUP BY name
), top_name AS (
    -- the channel's most used name; a tie goes to the smallest (max_by would take any of them: a
    -- rotating tenant's names, each used once, gave a different host from one run to the next)
    -- names_lo / names_hi: the first and last name read backwards, whose common start is every name's
    -- common end: the parent a DNS tunnel's new label per query sits under (named in its reason)
    SELECT p.chan_id, min(CASE WHEN p.cnt = p.top_cnt THEN p.name END) AS host, count(*) AS names,
           min(reverse(p.name)) AS names_lo, max(reverse(p.name)) AS names_hi,
           min(a.platform) AS platform, min(a.provider) AS provider, min(a.tenant) AS tenant,
           min(a.category) AS category, min(a.platform_severity) AS platform_severity, min(a.low_conf) AS low_conf,
           min(a.via_cname) AS via_cname, min(a.intel_pattern) AS intel_pattern, min(a.intel_source) AS intel_source
    FROM (SELECT c.*, max(c.cnt) OVER (PARTITION BY c.chan_id) AS top_cnt
          FROM scan_chan_names c JOIN scan_candidates k ON k.chan_id = c.chan_id) p
    LEFT JOIN name_attr a ON a.name = p.name
    GROUP BY p.chan_id
), per_dst AS (
    -- The parts of stage 22 rolled up per (channel, address), then per channel below (top_dst, agg).
    SELECT chan_id, dst_id, dst_port,
           sum(cnt) AS cnt,
           min(first_epoch) AS first_epoch, max(last_epoch) AS last_epoch,
           sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in,
           max(src_conn) AS src_conn, max(src_eve) AS src_eve, max(src_ssl) AS src_ssl, max(src_http) AS src_http,
           max(src_answer) AS src_answer,
           max(CASE WHEN by_dns THEN 1 ELSE 0 END) AS src_dns,
           sum(CASE WHEN by_dns THEN cnt ELSE 0 END) AS dns_events,
           sum(later_requests) AS later_requests,
           max(longest_s) AS longest_s, max(long_conn_s) AS long_conn_s
    FROM scan_parts
    WHERE chan_id IN (SELECT chan_id FROM scan_candidates)
    GROUP BY chan_id, dst_id, dst_port
), top_dst AS (
    -- The channel's busiest address and port; a tie goes to the smallest address (numbers have no order).
    SELECT chan_id, dst, dst_port, dsts
    FROM (SELECT d.chan_id, a.addr AS dst, d.dst_port, count(*) OVER (PARTITION BY d.chan_id) AS dsts,
                 row_number() OVER (PARTITION BY d.chan_id ORDER BY d.cnt DESC, a.addr, d.dst_port) AS rank_in_chan
          FROM per_dst d JOIN scan_addrs a ON a.addr_id = d.dst_id) t
    WHERE rank_in_chan = 1
), long_bytes AS (
    -- the bytes of the channel's longest long-lived low-volume connection (stage 22)
    SELECT p.chan_id, max_by(l.long_conn_bytes, l.long_conn_s) AS long_conn_bytes
    FROM scan_long_conns l
    JOIN scan_parts p
      ON p.src_id = l.src_id AND p.by_dns = l.by_dns
     AND p.raw_id IS NOT DISTINCT FROM l.raw_id
     AND p.dst_id IS NOT DISTINCT FROM l.dst_id AND p.dst_port IS NOT DISTINCT FROM l.dst_port
     AND p.client_id IS NOT DISTINCT FROM l.client_id AND p.ua_id IS NOT DISTINCT FROM l.ua_id
    WHERE p.chan_id IN (SELECT chan_id FROM scan_candidates)
    GROUP BY p.chan_id
), agg AS (
    SELECT chan_id,
           sum(cnt) - sum(later_requests) AS connections, sum(later_requests) AS later_requests,
           min(first_epoch) AS first_epoch, max(last_epoch) AS last_epoch,
           sum(bytes_out) AS bytes_out, sum(bytes_in) AS bytes_in,
           max(src_conn) AS src_conn, max(src_eve) AS src_eve, max(src_ssl) AS src_ssl,
           max(src_http) AS src_http, max(src_answer) AS src_answer, max(src_dns) AS src_dns,
           sum(dns_events) AS dns_events,
           max(longest_s) AS longest_s, max(long_conn_s) AS long_conn_s
    FROM per_dst
    GROUP BY chan_id
)
SELECT a.*, lb.long_conn_bytes, c.src, c.dest_key, c.fp, c.ja3, c.ja4, c.user_agent, c.ja3_values,
       CASE WHEN c.dest_key LIKE 'name:%' THEN substr(c.dest_key, length('name:') + 1) ELSE n.host END AS host,
       n.names, n.names_lo, n.names_hi, n.platform, n.provider, n.tenant, n.category, n.platform_severity, n.low_conf, n.via_cname,
       n.intel_pattern, n.intel_source, d.dst, d.dst_port, d.dsts
FROM agg a
JOIN scan_channels c ON c.chan_id = a.chan_id
LEFT JOIN top_name n ON n.chan_id = a.chan_id
LEFT JOIN top_dst d ON d.chan_id = a.chan_id
LEFT JOIN long_bytes lb ON lb.chan_id = a.chan_id;
