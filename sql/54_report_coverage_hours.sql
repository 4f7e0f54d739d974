-- Stage 54 (report): log coverage by hour per (log kind, sensor), so that a sensor that went quiet
-- at 03:00 shows as a run of empty hours. Read-only.
-- Input tables: conn, dns, tls, http. Parameters:
--   $since, $until  the report window as epoch seconds, [since, until); NULL = the data's extent.
-- Output: kind ('conn' | 'dns' | 'ssl' | 'http'), sensor, hour_epoch (start of the UTC hour),
-- rows. Every hour of the window appears for every stream the store holds (zero-filled), so the
-- caller sees gaps as rows = 0, including leading and trailing ones and whole silent windows.
WITH
events AS (
    SELECT 'conn' AS kind, sensor, epoch FROM conn
    UNION ALL SELECT 'dns', sensor, epoch FROM dns
    UNION ALL SELECT 'ssl', sensor, epoch FROM tls
    UNION ALL SELECT 'http', sensor, epoch FROM http
),
in_window AS (
    SELECT kind, coalesce(sensor, '?') AS sensor, epoch
    FROM events
    WHERE epoch IS NOT NULL
      AND ($since IS NULL OR epoch >= $since)
      AND ($until IS NULL OR epoch < $until)
),
bounds AS (
    -- clock hours; an edge hour counts when more than half of it is inside the window, so that a
    -- window ending at 23:59:59.999 does not report the empty 23:59-24:00 sliver as a gap. Hours
    -- before the store's first row of any kind are not gaps either: the store starts there.
    SELECT CAST(greatest(coalesce(round($since / 3600), floor(min(epoch) / 3600)),
                         (SELECT floor(min(epoch) / 3600) FROM events)) AS BIGINT)       AS first_hour,
           CAST(coalesce(round($until / 3600), floor(max(epoch) / 3600) + 1) AS BIGINT) AS end_hour
    FROM in_window
),
hours AS (
    SELECT unnest(range(first_hour, end_hour)) AS hour FROM bounds
),
binned AS (
    SELECT kind, sensor, CAST(floor(epoch / 3600) AS BIGINT) AS hour, count(*) AS rows
    FROM in_window
    GROUP BY ALL
),
streams AS (
    -- every stream the store has ever seen, so a sensor silent for the whole window still shows
    SELECT DISTINCT kind, coalesce(sensor, '?') AS sensor FROM events
)
SELECT s.kind, s.sensor, h.hour * 3600 AS hour_epoch, coalesce(b.rows, 0) AS rows
FROM streams AS s
CROSS JOIN hours AS h
LEFT JOIN binned AS b ON b.kind = s.kind AND b.sensor = s.sensor AND b.hour = h.hour
ORDER BY s.kind, s.sensor, h.hour;
