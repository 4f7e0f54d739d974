-- Stage 11: name_matches, one row per distinct raw name (matching or not), for the SQL stages to join on.
-- Run by analyzer.matcher.Matcher.match_store as  CREATE OR REPLACE TABLE name_matches AS <this query>.
-- Input tables:  name_candidates (stage 10) and three temp tables written by the Python matcher:
--                _nm_changed(rid, name, name_kind, name_note)   names whose normal form differs from the raw one,
--                                                                or that are not hostnames (ip | invalid | empty)
--                _nm_matched(rid, entry_idx, tenant, via_cname, intel_pattern, intel_source, severity, bare_severity)
--                _nm_entries(entry_idx, entry_id, platform, provider, category, confidence, pattern)
-- Output: raw_name, name (NULL unless hostname or ip), name_kind, platform (NULL: no match), provider, tenant,
--         category, confidence, severity, pattern, entry_id, via_cname (the CNAME target that matched, when the
--         name itself did not), bare_severity, intel_pattern, intel_source, seen_in, name_note.
-- Join: <log>.query / server_name / host / uri = name_matches.raw_name.
SELECT
    c.raw_name,
    CASE WHEN ch.rid IS NULL THEN c.raw_name ELSE ch.name END AS name,
    coalesce(ch.name_kind, 'hostname') AS name_kind,
    e.platform,
    e.provider,
    m.tenant,
    e.category,
    e.confidence,
    m.severity,
    e.pattern,
    e.entry_id,
    m.via_cname,
    m.bare_severity,
    m.intel_pattern,
    m.intel_source,
    c.seen_in,
    coalesce(ch.name_note, '') AS name_note
FROM name_candidates c
LEFT JOIN _nm_changed ch ON ch.rid = c.rid
LEFT JOIN _nm_matched m ON m.rid = c.rid
LEFT JOIN _nm_entries e ON e.entry_idx = m.entry_idx
