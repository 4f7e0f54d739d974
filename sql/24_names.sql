-- Stage 24: what each distinct name is, computed once per name (not once per connection).
-- The matcher's name_matches has one row per distinct raw name (platform, tenant, category ...); a name
-- it does not know keeps its normalized form (lower case, no trailing dot, no :port), platform NULL; a
-- name of which nothing is left so (an SNI '.' or ':443') is no name: its connections are keyed by
-- address, as those without a name are (stage 25), not by an empty name.
-- One row per raw name the events carry (raw_id, stage 20), so that later stages join on the number:
-- read from the parts of the events (stage 22, and those of the queries, stage 23), a few per channel.
-- The destination part of the channel key is decided here too:
--   key_conn  'tenant:<platform>/<tenant>' when the matcher found a tenant (a beacon rotating among
--             several workers of one account is one channel); else the redirect-pair group name
--             (scan_name_groups: script.google.com + script.googleusercontent.com); else the name;
--   key_dns   the same, except that a DNS-only name whose first label is long ($label_min_len:
--             generated labels, DNS tunnels) is grouped under its parent name, so each random label
--             does not become a channel of its own.
-- name_id numbers the distinct names (several raw names can have one name), so that stage 27 counts
-- the events of a channel per name.
CREATE OR REPLACE TEMP TABLE scan_names AS
WITH raw AS (
    SELECT r.raw_id, r.raw_name
    FROM scan_raw_names r
    WHERE r.raw_id IN (SELECT DISTINCT raw_id FROM scan_parts WHERE raw_id IS NOT NULL)
), named AS (
    SELECT r.raw_id, r.raw_name,
           nullif(coalesce(nm.name, lower(regexp_replace(regexp_replace(r.raw_name, ':[0-9]+$', ''), '[.]$', ''))), '')
               AS name,
           nm.platform, nm.provider, nm.tenant, nm.category, nm.severity AS platform_severity, nm.confidence AS platform_confidence, nm.via_cname,
           nm.intel_pattern, nm.intel_source
    FROM raw r
    LEFT JOIN name_matches nm ON nm.raw_name = r.raw_name
), keyed AS (
    SELECT n.*,
           CASE
               WHEN n.tenant IS NOT NULL AND n.platform IS NOT NULL THEN 'tenant:' || n.platform || '/' || n.tenant
               WHEN g.group_name IS NOT NULL THEN 'name:' || g.group_name
               ELSE 'name:' || n.name
           END AS key_conn,
           n.platform IS NULL
             AND length(split_part(n.name, '.', 1)) >= $label_min_len
             AND length(n.name) - length(replace(n.name, '.', '')) > 1 AS parent_grouped
    FROM named n
    LEFT JOIN scan_name_groups g ON g.name = n.name
)
SELECT k.*,
       CAST(dense_rank() OVER (ORDER BY k.name) AS INTEGER) AS name_id,
       CASE WHEN k.parent_grouped
            THEN 'name:' || substr(k.name, length(split_part(k.name, '.', 1)) + length('.') + 1)
            ELSE k.key_conn END AS key_dns
FROM keyed k;
