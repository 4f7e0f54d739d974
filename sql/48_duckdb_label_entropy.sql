-- Stage 48 (DuckDB-only: string_split(s, '') and list_entropy have no portable equivalent; on Spark
-- use a UDF or explode(split(label, '')) + a grouped entropy). Isolated here on purpose.
-- High-entropy first labels of the names a channel used (DNS tunnels, generated C2 names), counted per
-- channel. The platform-generated label of a serverless name (the tenant, e.g. a Lambda URL id) is
-- not judged: it is random by design.
CREATE OR REPLACE TEMP TABLE scan_entropy AS
WITH labels AS (
    SELECT DISTINCT k.chan_key, split_part(k.name, '.', 1) AS label
    FROM scan_keyed k
    WHERE k.name IS NOT NULL
      AND length(split_part(k.name, '.', 1)) >= $label_min_len
      AND (k.tenant IS NULL OR split_part(k.name, '.', 1) <> k.tenant)
), scored AS (
    SELECT chan_key, label, list_entropy(string_split(label, '')) AS h FROM labels
)
SELECT c.chan_id, count(*) AS random_labels, max(s.h) AS max_label_entropy
FROM scored s
JOIN scan_channels c ON c.chan_key = s.chan_key
WHERE s.h >= $label_min_entropy
GROUP BY c.chan_id;
