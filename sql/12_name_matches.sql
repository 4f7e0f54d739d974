-- Stage 12: name_matches, one row per distinct raw name (matching or not), for the SQL stages to join on.
-- Run by analyzer.matcher.Matcher.match_store as  CREATE OR REPLACE TABLE name_matches AS <this query>.
-- Input tables:  name_candidates (stage 10) and three temp tables written by the Python matcher:
--                _nm_changed(raw_name, name, name_kind, name_note)  every non-canonical raw name, normalized
--                                                                   (name_kind: hostname | ip | invalid | empty)
--                _nm_matched(name, entry_idx, tenant, via_cname, intel_pattern, intel_source, severity,
--                            bare_severity)                          one row per matching normalized name
--                _nm_entries(entry_idx, entry_id, platform, provider, category, confidence, pattern)
-- Output: raw_name, name (NULL unless hostname or ip), name_kind, platform (NULL: no match), provider, tenant,
--         category, confidence, severity, pattern, entry_id, via_cname (the CNAME target that matched, when the
--         name itself did not), bare_severity, intel_pattern, intel_source, seen_in, name_note.
-- Join: <log>.query / server_name / host / uri = name_matches.raw_name. Matches join on the normalized name,
-- so every spelling of a name (SNI 'Shop.Example.com.', query 'shop.example.com') gets the same result.
WITH source_names AS (   -- the 32 possible source bit sets, spelled out once (not once per row)
    SELECT range::INTEGER AS sources,
           list_concat(
               CASE WHEN range & 1 <> 0 THEN ['cname'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 2 <> 0 THEN ['connect'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 4 <> 0 THEN ['dns'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 8 <> 0 THEN ['http'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 16 <> 0 THEN ['tls'] ELSE []::VARCHAR[] END) AS seen_in
    FROM range(32)
), named AS (
    SELECT c.raw_name, c.sources,
           CASE WHEN c.canonical THEN c.raw_name ELSE ch.name END AS name,
           CASE WHEN c.canonical THEN 'hostname' ELSE coalesce(ch.name_kind, 'invalid') END AS name_kind,
           CASE WHEN c.canonical THEN '' ELSE coalesce(ch.name_note, '') END AS name_note
    FROM name_candidates c
    LEFT JOIN _nm_changed ch ON NOT c.canonical AND ch.raw_name = c.raw_name
)
SELECT
    n.raw_name,
    n.name,
    n.name_kind,
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
    s.seen_in,
    n.name_note
FROM named n
LEFT JOIN _nm_matched m ON n.name_kind = 'hostname' AND m.name = n.name
LEFT JOIN _nm_entries e ON e.entry_idx = m.entry_idx
LEFT JOIN source_names s ON s.sources = n.sources
