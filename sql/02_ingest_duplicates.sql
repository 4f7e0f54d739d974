-- Stage 02, duplicates: the records of a file that an earlier file of the same traffic already
-- loaded, removed before the file's transaction commits (analyzer/ingest/duplicates.py).
-- The same traffic reaches a store twice when a folder holds two copies of one log in different
-- forms: Zeek's TSV and its JSON (zed-sample-data ships both), a day's file beside its hourly
-- rotations, a log also kept under another name. Content fingerprints catch byte-identical copies
-- (status unchanged); these do not, and without this stage every connection of the copy counts
-- twice: a channel of 41 check-ins would say 82.
-- Which files are compared, cheaply first:
-- 1. `earlier`: files of one sensor (Zeek with Zeek, Suricata with Suricata: their uids never
--    match) and one kind (conn with open_conn, ssl with open_ssl, http with open_http), whose
--    time ranges overlap for at least $min_share of the shorter range.
--    That alone does not tell a copy from the next hourly rotation: a conn.log's range starts at its
--    longest connection, hours before the hour it holds.
-- 2. `<table>_probe`: whether any of the first $probe rows of this file inside the time range of
--    those files ($lo..$hi: a day's file beside one hour of it is probed in that hour) is in one of
--    them. A copy repeats every row; a rotation repeats none. Only then does `<table>` delete, so that a
--    folder of hourly logs never pays for a comparison of whole files. An open_* log (connections
--    still open at a rotation, Zeek's open-connections package) is always compared, and so is a
--    log compared with one: some of its connections were logged before, by the previous hour's
--    open log or by conn.log once closed (or, closed, were open in the open log of the day
--    before), and a probe of its first rows would not tell. The record loaded first is kept, and
--    open_* files load after every other file of an ingest (analyzer.ingest.files.expand_paths),
--    so a connection's closed record wins over its open ones unless an earlier ingest had them.
-- Within one file nothing is removed: two alike records of one file are both the log's.
-- A record is a duplicate when an earlier file holds one with the same identity, at the same time
-- give or take $same_s (a copy may spell the time otherwise: JSON's float, an export cut to
-- milliseconds):
--   conn, tls  uid: a Zeek uid (Suricata flow_id) is one connection, logged once per log
--   http       uid, method, host, uri: the requests of one connection
--   dns        src, query, qtype, rcode, and uid where the store keeps it (`dns_uid`; a scratch
--              store keeps no dns uid, analyzer.store)
-- http and dns also join on the second (floor(epoch)), so that a host asking one name all day, or a
-- kept-alive connection polling one URI, is not compared row by row with each of its others.
-- In a store that ends with its scan, earlier rows of conn and tls may have been moved into the
-- narrowed tables already (analyzer.narrow): the *_moved statements compare with those, which keep
-- uid and epoch. They leave out the connections whose service is DNS (stage 04), so a copy's DNS
-- connections stay loaded there: the scan never reads them (DNS is scored from dns rows).
-- Every removed record is counted, per file, and said (FileReport.duplicates, a warning naming the
-- earlier file): nothing is dropped silently.
-- Parameters: $file_id (the file being loaded), $earlier (the ids of the files it overlaps),
-- $kinds (the kinds that fill the file's tables: conn and open_conn are one), $format_family
-- ('zeek' or 'eve'), $min_ts, $max_ts (this file's range), $min_share, $probe, $lo, $hi (epoch
-- seconds: the part of this file's range the earlier files cover), $same_s.

-- name: earlier
-- Earlier loaded files of the same kind and sensor whose time range overlaps this file's for at least
-- $min_share of the shorter of the two (both one instant: the same instant).
SELECT file_id, path, epoch(min_ts) AS lo, epoch(max_ts) AS hi, kind
FROM ingest_files
WHERE file_id <> $file_id
  AND status IN ('loaded', 'appended')
  AND list_contains($kinds, kind)
  AND (CASE WHEN format = 'eve' THEN 'eve' ELSE 'zeek' END) = $format_family
  AND min_ts IS NOT NULL AND max_ts IS NOT NULL
  AND least(max_ts, $max_ts) >= greatest(min_ts, $min_ts)
  AND epoch(least(max_ts, $max_ts)) - epoch(greatest(min_ts, $min_ts))
      >= $min_share * least(epoch(max_ts) - epoch(min_ts), epoch($max_ts) - epoch($min_ts))
ORDER BY file_id;

-- name: conn_probe
SELECT count(*) FROM (SELECT uid, epoch FROM conn WHERE file_id = $file_id AND epoch BETWEEN $lo AND $hi LIMIT $probe) p
WHERE EXISTS (SELECT 1 FROM conn o
              WHERE list_contains($earlier, o.file_id) AND o.uid = p.uid AND abs(o.epoch - p.epoch) <= $same_s);

-- name: conn_moved_probe
SELECT count(*) FROM (SELECT uid, epoch FROM conn WHERE file_id = $file_id AND epoch BETWEEN $lo AND $hi LIMIT $probe) p
WHERE EXISTS (SELECT 1 FROM conn_n o WHERE o.uid = p.uid AND abs(o.epoch - p.epoch) <= $same_s);

-- name: tls_probe
SELECT count(*) FROM (SELECT uid, epoch FROM tls WHERE file_id = $file_id AND epoch BETWEEN $lo AND $hi LIMIT $probe) p
WHERE EXISTS (SELECT 1 FROM tls o
              WHERE list_contains($earlier, o.file_id) AND o.uid = p.uid AND abs(o.epoch - p.epoch) <= $same_s);

-- name: tls_moved_probe
SELECT count(*) FROM (SELECT uid, epoch FROM tls WHERE file_id = $file_id AND epoch BETWEEN $lo AND $hi LIMIT $probe) p
WHERE EXISTS (SELECT 1 FROM tls_n o WHERE o.uid = p.uid AND abs(o.epoch - p.epoch) <= $same_s);

-- name: http_probe
SELECT count(*) FROM (SELECT uid, epoch FROM http WHERE file_id = $file_id AND epoch BETWEEN $lo AND $hi LIMIT $probe) p
WHERE EXISTS (SELECT 1 FROM http o
              WHERE list_contains($earlier, o.file_id) AND o.uid = p.uid AND abs(o.epoch - p.epoch) <= $same_s);

-- name: dns_probe
SELECT count(*) FROM (SELECT epoch, src, query FROM dns WHERE file_id = $file_id AND epoch BETWEEN $lo AND $hi LIMIT $probe) p
WHERE EXISTS (SELECT 1 FROM dns o
              WHERE list_contains($earlier, o.file_id)
                AND floor(o.epoch) = floor(p.epoch) AND abs(o.epoch - p.epoch) <= $same_s
                AND o.src IS NOT DISTINCT FROM p.src AND o.query IS NOT DISTINCT FROM p.query);

-- name: conn
DELETE FROM conn
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM conn o
              WHERE list_contains($earlier, o.file_id)
                AND o.uid = conn.uid AND abs(o.epoch - conn.epoch) <= $same_s);

-- name: conn_moved
DELETE FROM conn
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM conn_n o WHERE o.uid = conn.uid AND abs(o.epoch - conn.epoch) <= $same_s);

-- name: tls
DELETE FROM tls
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM tls o
              WHERE list_contains($earlier, o.file_id)
                AND o.uid = tls.uid AND abs(o.epoch - tls.epoch) <= $same_s);

-- name: tls_moved
DELETE FROM tls
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM tls_n o WHERE o.uid = tls.uid AND abs(o.epoch - tls.epoch) <= $same_s);

-- name: http
DELETE FROM http
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM http o
              WHERE list_contains($earlier, o.file_id)
                AND o.uid = http.uid AND floor(o.epoch) = floor(http.epoch)
                AND abs(o.epoch - http.epoch) <= $same_s
                AND o.method IS NOT DISTINCT FROM http.method AND o.host IS NOT DISTINCT FROM http.host
                AND o.uri IS NOT DISTINCT FROM http.uri);

-- name: dns
DELETE FROM dns
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM dns o
              WHERE list_contains($earlier, o.file_id)
                AND floor(o.epoch) = floor(dns.epoch) AND abs(o.epoch - dns.epoch) <= $same_s
                AND o.src IS NOT DISTINCT FROM dns.src
                AND o.query IS NOT DISTINCT FROM dns.query AND o.qtype IS NOT DISTINCT FROM dns.qtype
                AND o.rcode IS NOT DISTINCT FROM dns.rcode);

-- name: dns_uid
-- (a store that keeps dns.uid: two queries of one second and name in two connections are two)
DELETE FROM dns
WHERE file_id = $file_id
  AND EXISTS (SELECT 1 FROM dns o
              WHERE list_contains($earlier, o.file_id)
                AND floor(o.epoch) = floor(dns.epoch) AND abs(o.epoch - dns.epoch) <= $same_s
                AND o.uid IS NOT DISTINCT FROM dns.uid AND o.src IS NOT DISTINCT FROM dns.src
                AND o.query IS NOT DISTINCT FROM dns.query AND o.qtype IS NOT DISTINCT FROM dns.qtype
                AND o.rcode IS NOT DISTINCT FROM dns.rcode)
