-- Stage 25: the channel key of every part (stage 22), and one row per channel, numbered, so that
-- later stages group and partition by one integer.
-- A channel is (source host, destination, client fingerprint):
--   destination  from stage 24 (tenant / group / name), or 'ip:<dst>:<port>' only when the event has
--                no name at all. A serverless name is never reduced to its IP: anycast addresses rotate.
--   fingerprint  JA4, else JA3, else User-Agent, else '' (separates an implant from a browser on the
--                same shared host, e.g. script.google.com). A connection named from its host's DNS
--                answers (stage 21) with no client seen at all has only its port to tell what spoke:
--                'port:<port>', so that two services of one name (a DDNS host answering on two ports)
--                stay two channels, as they were when keyed by address.
-- The key strings are built per part, not per event, and channels are grouped on them here. The client
-- strings (JA3, JA4, User-Agent) are taken once per channel: when the channel is keyed by JA4, the
-- User-Agent is the smallest one seen with it, from decrypted HTTP when there is any.
-- The numbers follow no order: nothing reads them but the joins of the scan (findings are ordered by
-- their score, source, destination and fingerprint). Numbered in the order of the three strings
-- joined, the sort took 0.9 s of 1.3 s for a day of 0.9M channels. (Spark SQL wants an order for
-- row_number: there, monotonically_increasing_id() gives each row a distinct number, which is all
-- this needs.)
-- scan_parts gets its channel number (chan_id) for the stages that read it (26, 27, 45), and keeps its
-- numbers and its source (stage 45's span per source), not the key and client strings: those are the
-- channel's (scan_channels), and a part's copy of them was written for nothing (1M channels: the
-- stage 1.7-1.9 s -> 1.5 s, the User-Agents of a real day being longer than the bench's). The
-- channel's JA3, JA4 and User-Agent are looked up as the channels are grouped (scan_part_keys carries
-- the numbers).
-- A JA3 that changes from one connection to the next is no fingerprint to key by: Chromium (Chrome
-- 110 on, Edge, Electron apps) shuffles its TLS extensions on every handshake and JA3 hashes them in
-- the order sent (JA4 sorts them), so with JA3 alone (Zeek's ja3 package, Suricata without JA4) each
-- connection of a Chromium-family client was a channel of its own: an implant imitating Chrome's
-- handshake (uTLS), 762 check-ins to one name, made 762 channels and no finding. Where a source's
-- connections to one name carry at least $ja3_varies_min distinct JA3s and no JA4, one for every
-- 1 / $ja3_varies_share connections or fewer, those parts are keyed by their User-Agent, else
-- 'ja3:varies', as one channel that shows no JA3 (scan_channels.ja3_values says how many there were:
-- the most of one of its names).
--   scan_ja3_varies (src_id, raw_id, ja3_values)   the source and name of such connections, and how
--                                                  many JA3s they carried
CREATE OR REPLACE TEMP TABLE scan_ja3_varies AS
SELECT p.src_id, p.raw_id, count(DISTINCT p.client_id) AS ja3_values
FROM scan_parts p
JOIN scan_clients cl ON cl.client_id = p.client_id
WHERE cl.ja4 IS NULL AND cl.ja3 IS NOT NULL AND p.raw_id IS NOT NULL
GROUP BY p.src_id, p.raw_id
HAVING count(DISTINCT p.client_id) >= $ja3_varies_min
   AND count(DISTINCT p.client_id) >= $ja3_varies_share * sum(p.cnt);

CREATE OR REPLACE TEMP TABLE scan_part_keys AS
SELECT p.*, s.addr AS src, n.name_id,
       CASE
           WHEN n.name IS NULL THEN 'ip:' || coalesce(d.addr, '?') || ':' || coalesce(CAST(p.dst_port AS VARCHAR), '?')
           WHEN p.by_dns THEN n.key_dns
           ELSE n.key_conn
       END AS dest_key,
       CASE WHEN cl.ja4 IS NULL AND cl.ja3 IS NOT NULL THEN v.ja3_values END AS ja3_values,
       coalesce(cl.ja4, CASE WHEN v.src_id IS NOT NULL THEN coalesce(u.user_agent, 'ja3:varies') END,
                cl.ja3, u.user_agent,
                CASE WHEN p.src_answer = 1 THEN 'port:' || coalesce(CAST(p.dst_port AS VARCHAR), '?') END, '') AS fp
FROM scan_parts p
JOIN scan_addrs s ON s.addr_id = p.src_id
LEFT JOIN scan_addrs d ON d.addr_id = p.dst_id
LEFT JOIN scan_names n ON n.raw_id = p.raw_id
LEFT JOIN scan_clients cl ON cl.client_id = p.client_id
LEFT JOIN scan_agents u ON u.ua_id = p.ua_id
LEFT JOIN scan_ja3_varies v ON v.src_id = p.src_id AND v.raw_id = p.raw_id;

-- A beacon rotating among several serverless tenants: Cobalt Strike's rotate and random host strategies,
-- or an operator's list of Lambda function URLs or API Gateway ids (each its own tenant in the name,
-- though one account owns them all), Workers of several accounts, or a Worker and a Vercel app. Each
-- tenant then gets a share of the check-ins, picked in turn or at random, and no channel of one tenant
-- is regular (a simulated implant over three Lambda URLs, every 2 min at 30 % jitter: three "low"
-- contacts, no beacon). Such a source's client (one fingerprint) is also timed across all the
-- serverless destinations it reaches, as one more channel: its parts are those of each tenant's
-- channel, which stays as it is, and the rotation channel (dest_key 'rotation:<count>:<md5 of the
-- tenant keys>', stable while the set of tenants is) is scored on the events of all of them.
-- Only where the client reaches at least $rotation_min_dests destinations of medium- or
-- high-confidence catalogue entries that fewer than $fleet_large internal hosts reach, none of them
-- with more than $rotation_max_share of the events (one busy tenant and a stray visit to another is
-- that tenant's channel again). Stage 49 lists a rotation channel as a beacon or not at all (its
-- tenants' channels are the contacts), and a browser's only when no other host reaches any of its
-- tenants (solo): a browser's serverless sites and an extension or a dashboard tab polling one of them,
-- timed together, made a "rotation".
--   scan_rotations (src, fp, dest_key, rot_key, solo)   each tenant (dest_key) of a source's rotating client,
--                                                 the rotation channel's key, and whether this host alone
--                                                 reaches each of its tenants
CREATE OR REPLACE TEMP TABLE scan_rotations AS
WITH serverless AS (
    SELECT k.src, k.fp, k.dest_key, k.cnt
    FROM scan_part_keys k
    JOIN scan_names n ON n.raw_id = k.raw_id
    WHERE n.platform IS NOT NULL AND coalesce(n.platform_confidence, '') <> 'low'
), uncommon AS (
    -- tenants fewer than $fleet_large internal hosts reach: an implant's are its own (or a campaign's
    -- few hosts'). The sites and services a whole office uses are not what it rotates among, and with
    -- them a browser's day of several sites and a poller of its own (an extension on 10 hosts polling
    -- a Worker every 5 min) was timed together as a medium "rotation"
    SELECT dest_key, count(DISTINCT src) AS hosts FROM serverless GROUP BY dest_key HAVING count(DISTINCT src) < $fleet_large
), member AS (
    SELECT s.src, s.fp, s.dest_key, sum(s.cnt) AS cnt, min(u.hosts) AS hosts
    FROM serverless s
    JOIN uncommon u ON u.dest_key = s.dest_key
    GROUP BY s.src, s.fp, s.dest_key
), rotating AS (
    SELECT src, fp, 'rotation:' || CAST(count(*) AS VARCHAR) || ':' || md5(string_agg(dest_key, ' ' ORDER BY dest_key))
               AS rot_key,
           max(hosts) = 1 AS solo      -- every tenant of it reached by this host alone
    FROM member
    GROUP BY src, fp
    HAVING count(*) >= $rotation_min_dests AND max(cnt) <= $rotation_max_share * sum(cnt)
)
-- one row per tenant of each rotation: its channel's key (dest_key), the rotation's (rot_key), and
-- whether no other host reaches any of its tenants (solo: stage 49 then lists a browser's rotation too)
SELECT m.src, m.fp, m.dest_key, r.rot_key, r.solo
FROM member m
JOIN rotating r ON r.src = m.src AND r.fp = m.fp;

INSERT INTO scan_part_keys (src_id, raw_id, by_dns, dst_id, dst_port, client_id, ua_id, cnt, first_epoch, last_epoch,
                            bytes_out, bytes_in, src_conn, src_eve, src_ssl, src_http, src_answer, later_requests,
                            answered, longest_s, long_conn_s, src, name_id, dest_key, ja3_values, fp)
SELECT k.src_id, k.raw_id, k.by_dns, k.dst_id, k.dst_port, k.client_id, k.ua_id, k.cnt, k.first_epoch, k.last_epoch,
       k.bytes_out, k.bytes_in, k.src_conn, k.src_eve, k.src_ssl, k.src_http, k.src_answer, k.later_requests,
       k.answered, k.longest_s, k.long_conn_s, k.src, k.name_id, r.rot_key, k.ja3_values, k.fp
FROM scan_part_keys k
JOIN scan_rotations r ON r.src = k.src AND r.fp = k.fp AND r.dest_key = k.dest_key
JOIN scan_names n ON n.raw_id = k.raw_id
WHERE n.platform IS NOT NULL AND coalesce(n.platform_confidence, '') <> 'low';

CREATE OR REPLACE TEMP TABLE scan_channels AS
SELECT CAST(row_number() OVER () AS INTEGER) AS chan_id, src, dest_key, fp, events, ja3, ja4, user_agent, ja3_values
FROM (
    SELECT k.src, k.dest_key, k.fp, CAST(sum(k.cnt) AS BIGINT) AS events,
           -- a channel whose JA3 varies shows none: its smallest would pass for the client's (and a
           -- count(DISTINCT) here, over every channel, cost 0.4 s on a day of 1M channels)
           min(CASE WHEN k.ja3_values IS NULL THEN cl.ja3 END) AS ja3, min(cl.ja4) AS ja4,
           min(u.user_agent) AS user_agent, coalesce(max(k.ja3_values), 0) AS ja3_values
    FROM scan_part_keys k
    LEFT JOIN scan_clients cl ON cl.client_id = k.client_id
    LEFT JOIN scan_agents u ON u.ua_id = k.ua_id
    GROUP BY k.src, k.dest_key, k.fp
) c;

CREATE OR REPLACE TEMP TABLE scan_parts AS
SELECT c.chan_id, c.events AS chan_events,
       p.src_id, p.raw_id, p.by_dns, p.dst_id, p.dst_port, p.client_id, p.ua_id, p.cnt, p.first_epoch, p.last_epoch,
       p.bytes_out, p.bytes_in, p.src_conn, p.src_eve, p.src_ssl, p.src_http, p.src_answer, p.later_requests,
       p.longest_s, p.long_conn_s, p.src, p.name_id,
       c.dest_key LIKE 'rotation:%' AS rotated    -- a second copy of the part, in its rotation channel
FROM scan_part_keys p
JOIN scan_channels c ON c.src = p.src AND c.dest_key = p.dest_key AND c.fp = p.fp;
