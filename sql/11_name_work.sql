-- Stage 11: the names the Python matcher must look at, out of every distinct name.
-- Input tables:  name_candidates, name_cname_edges (stage 10);
--                _name_tails(tail VARCHAR): the last three labels of every catalogue anchor and intel pattern
--                (the whole pattern when it has two), written by analyzer.matcher.Matcher.match_store.
-- Output tables: _name_work(raw_name VARCHAR, canonical BOOLEAN)
--                  every name that is not canonical (Python normalizes it), and every canonical name whose
--                  last two or last three labels are a tail. This filter is exact: every pattern has two
--                  labels or more and matches only names that end with it on a label boundary, so a name
--                  it matches ends with its tail; a canonical name outside this set matches nothing.
--                _name_work_edges(query_raw VARCHAR, target_raw VARCHAR)
--                  the CNAME edges whose target is in _name_work (the only ones that can carry a match).
-- Parameters: none.

CREATE OR REPLACE TEMP TABLE _name_work AS
SELECT raw_name, canonical
FROM name_candidates
WHERE NOT canonical
   OR regexp_extract(raw_name, '[^.]+[.][^.]+$') IN (SELECT tail FROM _name_tails)
   OR regexp_extract(raw_name, '[^.]+[.][^.]+[.][^.]+$') IN (SELECT tail FROM _name_tails);

CREATE OR REPLACE TEMP TABLE _name_work_edges AS
SELECT e.query_raw, e.target_raw
FROM name_cname_edges e
SEMI JOIN _name_work w ON w.raw_name = e.target_raw;
