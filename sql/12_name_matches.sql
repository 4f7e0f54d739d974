-- Stage 12: name_matches, one row per distinct raw name (matching or not), for the SQL stages to join on.
-- Run by analyzer.matcher.Matcher.match_store as  CREATE OR REPLACE TABLE name_matches AS <this query>.
-- Input tables:  name_candidates (stage 10) and two temp tables written by the Python matcher:
--                _nm_rows(raw_name, name, name_kind, name_note, entry_idx, tenant, via_cname, intel_pattern,
--                         intel_source, severity, bare_severity)
--                  one row per raw name that is not canonical (its normal form; name_kind hostname | ip | invalid
--                  | empty) or that matched (directly, or through a CNAME target: via_cname); a canonical raw
--                  name without a row is its own normal form and matched nothing.
--                _nm_entries(entry_idx, entry_id, platform, provider, category, confidence, pattern)
-- Output: raw_name, name (NULL unless hostname or ip), name_kind, platform (NULL: no match), provider, tenant,
--         category, confidence, severity, pattern, entry_id, via_cname (the CNAME target that matched, when the
--         name itself did not), bare_severity, intel_pattern, intel_source, seen_in, name_note.
-- Join: <log>.query / server_name / host / uri = name_matches.raw_name.
WITH source_names AS (   -- the 32 possible source bit sets, spelled out once (not once per row)
    SELECT range::INTEGER AS sources,
           list_concat(
               CASE WHEN range & 1 <> 0 THEN ['cname'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 2 <> 0 THEN ['connect'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 4 <> 0 THEN ['dns'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 8 <> 0 THEN ['http'] ELSE []::VARCHAR[] END,
               CASE WHEN range & 16 <> 0 THEN ['tls'] ELSE []::VARCHAR[] END) AS seen_in
    FROM range(32)
)
SELECT
    c.raw_name,
    CASE WHEN r.raw_name IS NULL THEN c.raw_name ELSE r.name END AS name,
    coalesce(r.name_kind, 'hostname') AS name_kind,
    e.platform,
    e.provider,
    r.tenant,
    e.category,
    e.confidence,
    r.severity,
    e.pattern,
    e.entry_id,
    r.via_cname,
    r.bare_severity,
    r.intel_pattern,
    r.intel_source,
    s.seen_in,
    coalesce(r.name_note, '') AS name_note
FROM name_candidates c
LEFT JOIN _nm_rows r ON r.raw_name = c.raw_name
LEFT JOIN _nm_entries e ON e.entry_idx = r.entry_idx
LEFT JOIN source_names s ON s.sources = c.sources
