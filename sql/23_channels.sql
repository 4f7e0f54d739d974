-- Stage 23: the channel key, and one row per channel.
-- A channel is (source host, destination, client fingerprint):
--   destination = 'tenant:<platform>/<tenant>' when the matcher found a tenant, so a beacon rotating
--                 among several workers of one account is one channel;
--               = the redirect-pair group name (scan_name_groups) or the name itself otherwise;
--               = 'ip:<dst>:<port>' only when no name is known AND the name is not a serverless one
--                 (a serverless channel is never keyed by IP: anycast addresses rotate).
--   DNS-only events whose first label is long (generated labels, DNS tunnels) are grouped under the
--   parent name, so each random label does not become its own channel.
--   fingerprint = JA4, else JA3, else User-Agent, else '' (separates an implant from a browser on
--                 the same shared host, e.g. script.google.com).
-- Parameters: $label_min_len.
CREATE OR REPLACE TEMP TABLE scan_keyed AS
SELECT n.*,
       CASE
           WHEN n.tenant IS NOT NULL AND n.platform IS NOT NULL THEN 'tenant:' || n.platform || '/' || n.tenant
           WHEN n.name IS NOT NULL AND g.group_name IS NOT NULL THEN 'name:' || g.group_name
           WHEN n.name IS NOT NULL AND n.via = 'dns' AND n.platform IS NULL
                AND length(split_part(n.name, '.', 1)) >= $label_min_len
                AND length(n.name) - length(replace(n.name, '.', '')) >= 2
               THEN 'name:' || substr(n.name, length(split_part(n.name, '.', 1)) + 2)
           WHEN n.name IS NOT NULL THEN 'name:' || n.name
           ELSE 'ip:' || coalesce(n.dst, '?') || ':' || coalesce(CAST(n.dst_port AS VARCHAR), '?')
       END AS dest_key,
       coalesce(n.ja4, n.ja3, n.user_agent, '') AS fp
FROM scan_named n
LEFT JOIN scan_name_groups g ON g.name = n.name;
