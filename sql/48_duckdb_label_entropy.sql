-- Stage 48 (DuckDB-only: string_split(s, '') and list_entropy have no portable equivalent; on Spark
-- use a UDF or explode(split(label, '')) + a grouped entropy). Isolated here on purpose.
-- High-entropy first labels of the names a channel used (DNS tunnels, generated C2 names), counted per
-- channel. The platform-generated label of a serverless name (the tenant, e.g. a Lambda URL id) is
-- not judged: it is random by design.
CREATE OR REPLACE TEMP TABLE scan_entropy AS
WITH labels AS (
    SELECT DISTINCT k.chan_id, split_part(k.name, '.', 1) AS label
    FROM scan_chan_names k
    JOIN scan_candidates x ON x.chan_id = k.chan_id     -- the channels that can be findings (stage 45)
    LEFT JOIN (SELECT name, min(tenant) AS tenant FROM scan_names GROUP BY name) n ON n.name = k.name
    WHERE k.name IS NOT NULL
      AND length(split_part(k.name, '.', 1)) >= $label_min_len
      AND (n.tenant IS NULL OR split_part(k.name, '.', 1) <> n.tenant)
), scored AS (
    SELECT chan_id, label, list_entropy(string_split(label, '')) AS h FROM labels
)
SELECT s.chan_id, count(*) AS random_labels, max(s.h) AS max_label_entropy
FROM scored s
WHERE s.h >= $label_min_entropy
GROUP BY s.chan_id;
