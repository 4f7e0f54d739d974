-- Stage 22: attach what the matcher knows about each name (platform, tenant, category ...).
-- name_matches has one row per distinct raw name (written by analyzer.matcher); a name it does not
-- know keeps its normalized form (lower case, no trailing dot, no :port) and a NULL platform.
-- scan_name_groups maps names that belong to one logical destination (the Apps Script redirect pair
-- script.google.com -> script.googleusercontent.com) to one group name; it is filled by scan.py.
CREATE OR REPLACE TEMP TABLE scan_named AS
SELECT e.*,
       coalesce(nm.name, lower(regexp_replace(regexp_replace(e.raw_name, ':[0-9]+$', ''), '[.]$', ''))) AS name,
       nm.platform, nm.provider, nm.tenant, nm.category, nm.severity AS platform_severity,
       nm.via_cname
FROM scan_events e
LEFT JOIN name_matches nm ON nm.raw_name = e.raw_name;
