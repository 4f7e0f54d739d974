-- Stage 02: Suricata eve.json -> conn, dns, tls (tls and quic events), http.
-- Statements are separated by "-- name:" lines; parameters are bound by name.
-- Each event is parsed once, into _eve_v: the text of the nine top-level values the model takes,
-- the lists fl, dn, tl, ht of those of the flow, dns, tls and http objects (in the order of their
-- paths in values_lines), and d, a DNS event's answers as JSON values. Two ways (analyzer/ingest/eve.py):
-- * values_lines, from TEMP _lines(line, l) (the file) and _jl(line) (its data lines): one
--   json_extract_string call per line with every path; try() makes a line that is no JSON a NULL
--   list, whose reason eve.py asks for separately, for those lines only; a DNS event's line is
--   parsed once more for its answers.
-- * values_json, the fast path: DuckDB's JSON reader parses the file itself, in parallel, every
--   value the model takes read as JSON, from which the same texts and paths are taken.
--   Used only when it gives what values_lines would: DuckDB refuses the whole file (and the lines
--   are read instead) for a line that is no JSON object, a duplicate key or a bad escape, and a blank
--   line is caught by the count; eve.py then numbers the rows in file order.
--
-- Mapping choices (documented in analyzer/ingest/eve.py too):
-- * uid is flow_id as text, the join key between the tables, like Zeek's uid.
-- * flow -> conn: ts = flow.start (Zeek's conn ts is the first packet too), duration = end - start,
--   orig/resp_ip_bytes = bytes_toserver/bytes_toclient (Suricata counts whole packets, like Zeek's
--   *_ip_bytes), orig/resp_pkts = pkts_toserver/pkts_toclient, orig/resp_bytes (payload) = NULL
--   (eve has no payload byte count), service = app_proto (NULL when 'failed'), conn_state = flow.state
--   (Suricata's new/established/closed, not Zeek's S0/SF...), history = NULL.
-- * quic -> tls: the event that carries the client's hello (quic.sni, quic.ja3, quic.ja4), the first
--   of its flow, is the QUIC connection's TLS handshake (as Zeek logs it in ssl.log), version 'QUIC'
--   and quic.version; other QUIC events are skipped.
-- * dns: one row per transaction: within (flow_id, dns.id) the k-th request record pairs with the
--   k-th response, a response being all answer records of one packet (same timestamp), so v1's
--   one-record-per-answer records merge into one answers list and a retransmitted query with its
--   own answer stays a transaction of its own. Unpaired requests/responses give rows of their own.
-- * tls: version in Zeek's spelling (TLSv13); established = NULL (eve does not say).
-- * http: status, response_body_len = http.length; request_body_len = NULL (not in eve).

-- name: values_lines
-- The line path's _eve_v: a view over the lines, read once by the events statement.
CREATE OR REPLACE TEMP VIEW _eve_v AS
SELECT line,
    v[1] AS event_type, v[2] AS r_ts, v[3] AS flow_id, v[4] AS src, v[5] AS r_src_port, v[6] AS dst,
    v[7] AS r_dst_port, v[8] AS r_proto, v[9] AS app_proto,
    v[10:16] AS fl, v[17:28] AS dn, CASE WHEN v[1] = 'quic' THEN v[40:44] ELSE v[29:33] END AS tl, v[34:39] AS ht,
    -- a DNS event's answers as JSON values: the line parsed once more (both paths in one call), DNS
    -- lines only
    CASE WHEN v[1] = 'dns' THEN json_extract(l, ['$.dns.answers', '$.dns.grouped']) END AS d
FROM (
    SELECT line, l, try(json_extract_string(l, [
        '$.event_type', '$.timestamp', '$.flow_id',
        '$.src_ip', '$.src_port', '$.dest_ip', '$.dest_port', '$.proto', '$.app_proto',
        '$.flow.start', '$.flow.end', '$.flow.bytes_toserver', '$.flow.bytes_toclient',
        '$.flow.pkts_toserver', '$.flow.pkts_toclient', '$.flow.state',
        '$.dns.version', '$.dns.type', '$.dns.id',
        '$.dns.rrname', '$.dns.queries[0].rrname', '$.dns.query[0].rrname',
        '$.dns.rrtype', '$.dns.queries[0].rrtype', '$.dns.query[0].rrtype',
        '$.dns.rcode', '$.dns.rdata', '$.dns.ttl',
        '$.tls.sni', '$.tls.ja3.hash', '$.tls.ja4', '$.tls.ja4.hash', '$.tls.version',
        '$.http.hostname', '$.http.url', '$.http.http_user_agent', '$.http.http_method',
        '$.http.status', '$.http.length',
        '$.quic.sni', '$.quic.ja3.hash', '$.quic.ja4', '$.quic.ja4.hash', '$.quic.version'
    ])) AS v
    FROM _lines JOIN _jl USING (line)
) AS p;

-- name: values_json
-- The fast path's _eve_v, a query that eve.py puts in the events statement in place of the view
-- (a view cannot hold the bound $path). The same values as values_lines, taken the same way: every
-- value is read as JSON and its text taken by json_extract_string, as from the line (read as VARCHAR
-- instead, a number is written by another routine: 1e+16 where the line gives 10000000000000000.0);
-- the paths of the four objects are taken from each as they would be from the line (a value that is
-- not an object gives NULL for them, as on the line, and so does a key that is absent or null).
-- line is NULL here: eve.py numbers the rows after.
SELECT NULL::BIGINT AS line,
    top[1] AS event_type, top[2] AS r_ts, top[3] AS flow_id, top[4] AS src, top[5] AS r_src_port,
    top[6] AS dst, top[7] AS r_dst_port, top[8] AS r_proto, top[9] AS app_proto, fl, dn, tl, ht, d
FROM (
    SELECT
        [json_extract_string(event_type, '$'), json_extract_string("timestamp", '$'),
         json_extract_string(flow_id, '$'), json_extract_string(src_ip, '$'), json_extract_string(src_port, '$'),
         json_extract_string(dest_ip, '$'), json_extract_string(dest_port, '$'), json_extract_string(proto, '$'),
         json_extract_string(app_proto, '$')] AS top,
        json_extract_string(flow, ['$.start', '$.end', '$.bytes_toserver', '$.bytes_toclient',
                                   '$.pkts_toserver', '$.pkts_toclient', '$.state']) AS fl,
        json_extract_string(dns, ['$.version', '$.type', '$.id',
                                  '$.rrname', '$.queries[0].rrname', '$.query[0].rrname',
                                  '$.rrtype', '$.queries[0].rrtype', '$.query[0].rrtype',
                                  '$.rcode', '$.rdata', '$.ttl']) AS dn,
        -- a QUIC event's client hello (sni, ja3, ja4) where a TLS event's is
        json_extract_string(CASE WHEN json_extract_string(event_type, '$') = 'quic' THEN quic ELSE tls END,
                            ['$.sni', '$.ja3.hash', '$.ja4', '$.ja4.hash', '$.version']) AS tl,
        json_extract_string(http, ['$.hostname', '$.url', '$.http_user_agent', '$.http_method',
                                   '$.status', '$.length']) AS ht,
        CASE WHEN json_extract_string(event_type, '$') = 'dns' THEN json_extract(dns, ['$.answers', '$.grouped']) END AS d
    FROM read_json($path, format = 'newline_delimited', auto_detect = false, compression = 'none',
        columns = {event_type: 'JSON', "timestamp": 'JSON', flow_id: 'JSON', src_ip: 'JSON', src_port: 'JSON',
                   dest_ip: 'JSON', dest_port: 'JSON', proto: 'JSON', app_proto: 'JSON',
                   flow: 'JSON', dns: 'JSON', tls: 'JSON', http: 'JSON', quic: 'JSON'})
) AS j

-- name: events
-- Each event with what it is: `modelled` (flow, dns, tls, http), and `reason`, why a modelled event
-- cannot be loaded (other event types are skipped, reason NULL); a line with no event_type says so
-- here, and eve.py asks only those lines whether they are JSON objects at all (JSON_REASON).
-- In the same pass as the parse: a second statement rewriting the table cost 0.8 of 7.6 s on a
-- 545 MB eve.json.
CREATE OR REPLACE TEMP TABLE _eve AS
SELECT *,
    event_type IN ('flow', 'dns', 'tls', 'http') OR quic_hello AS modelled,
    CASE
        WHEN event_type IS NULL THEN 'no event_type'
        WHEN event_type NOT IN ('flow', 'dns', 'tls', 'http') AND NOT quic_hello THEN NULL
        WHEN event_type = 'flow' AND coalesce(flow_start, t_epoch) IS NULL THEN 'unparseable timestamp'
        WHEN event_type <> 'flow' AND t_epoch IS NULL THEN 'unparseable timestamp'
        WHEN NOT ingest_epoch_ok(CASE WHEN event_type = 'flow' THEN coalesce(flow_start, t_epoch) ELSE t_epoch END)
            THEN 'timestamp out of range'
        WHEN r_src_port IS NOT NULL AND src_port IS NULL THEN 'bad src_port'
        WHEN r_dst_port IS NOT NULL AND dst_port IS NULL THEN 'bad dest_port'
        WHEN event_type = 'http' AND r_status IS NOT NULL AND TRY_CAST(r_status AS INTEGER) IS NULL THEN 'bad http.status'
    END AS reason
FROM (
SELECT line,
    event_type,
    r_ts,
    ingest_epoch(r_ts) AS t_epoch,
    flow_id,
    ingest_addr(src) AS src, r_src_port, ingest_port(r_src_port) AS src_port,     -- 0 to 65535, else a bad port
    ingest_addr(dst) AS dst, r_dst_port, ingest_port(r_dst_port) AS dst_port,     -- IPv6 as Zeek writes it
    lower(r_proto) AS proto,
    app_proto,
    -- fl: flow's start, end, bytes_toserver, bytes_toclient, pkts_toserver, pkts_toclient, state
    ingest_epoch(fl[1]) AS flow_start, ingest_epoch(fl[2]) AS flow_end,
    -- (counters are unsigned 64-bit: one past 2^63 - 1 is held there, one below zero is none: ingest_count)
    ingest_count(fl[3]) AS bytes_toserver, ingest_count(fl[4]) AS bytes_toclient,
    ingest_count(fl[5]) AS pkts_toserver, ingest_count(fl[6]) AS pkts_toclient,
    fl[7] AS flow_state,
    -- dn: dns's version, type, id, the rrname and rrtype (v2, v3 queries[], query[]), rcode, rdata, ttl
    TRY_CAST(dn[1] AS INTEGER) AS dns_version, dn[2] AS dns_type, dn[3] AS dns_id,
    coalesce(dn[4], dn[5], dn[6]) AS qname,
    coalesce(dn[7], dn[8], dn[9]) AS qtype,
    dn[10] AS rcode, dn[11] AS rdata, ingest_double(dn[12]) AS ttl,
    -- tl: tls's sni, ja3.hash, ja4 (text, or an object), ja4.hash, version (quic's, for a QUIC event)
    tl[1] AS sni, tl[2] AS ja3,
    coalesce(tl[4], CASE WHEN NOT starts_with(tl[3], '{') THEN tl[3] END) AS ja4,
    tl[5] AS tls_version,
    -- a QUIC event that carries the client's hello (its SNI or fingerprint): the TLS handshake of a
    -- QUIC connection, which Zeek logs in ssl.log. The server's hello (ja3s only) and packets with
    -- neither are skipped, and so is a repeat of the hello in one flow (eve.py keeps the first).
    coalesce(event_type = 'quic' AND (tl[1] IS NOT NULL OR tl[2] IS NOT NULL OR tl[3] IS NOT NULL
                                      OR tl[4] IS NOT NULL), false) AS quic_hello,
    -- ht: http's hostname, url, http_user_agent, http_method, status, length
    ht[1] AS hostname, ht[2] AS url, ht[3] AS user_agent, ht[4] AS method,
    ht[5] AS r_status, ht[6] AS r_length,
    TRY_CAST(d[1] AS JSON[]) AS answers_json,
    json_extract(d[2], '$.*') AS grouped_json
FROM _eve_v
) AS e;

-- name: quic_repeats
-- A QUIC client's hello seen again in its flow (resent after the server's Retry): skipped, the flow's
-- first kept, so that one connection is one handshake (a second would pair with the flow again).
UPDATE _eve SET modelled = false
WHERE quic_hello AND reason IS NULL AND flow_id IS NOT NULL
  AND line NOT IN (SELECT min(line) FROM _eve WHERE quic_hello AND reason IS NULL AND flow_id IS NOT NULL
                   GROUP BY flow_id);

-- name: conn
CREATE OR REPLACE TEMP TABLE _stage AS
SELECT line,
    ingest_ts(coalesce(flow_start, t_epoch)) AS ts, coalesce(flow_start, t_epoch) AS epoch,
    flow_id AS uid, src, src_port, dst, dst_port, proto,
    CASE WHEN app_proto IS NULL OR app_proto = 'failed' THEN NULL ELSE app_proto END AS service,
    flow_end - flow_start AS duration,
    NULL::BIGINT AS orig_bytes, NULL::BIGINT AS resp_bytes,
    bytes_toserver AS orig_ip_bytes, bytes_toclient AS resp_ip_bytes,
    pkts_toserver AS orig_pkts, pkts_toclient AS resp_pkts,
    flow_state AS conn_state, NULL::VARCHAR AS history,
    NULL::VARCHAR AS reason
FROM _eve WHERE event_type = 'flow' AND reason IS NULL;

-- name: tls
CREATE OR REPLACE TEMP TABLE _stage AS
SELECT line, ingest_ts(t_epoch) AS ts, t_epoch AS epoch,
    flow_id AS uid, src, src_port, dst, dst_port,
    sni AS server_name, ja3, ja4,
    CASE WHEN quic_hello THEN 'QUIC' || coalesce(' ' || tls_version, '') ELSE tls_version_name(tls_version) END AS version,
    NULL::BOOLEAN AS established,
    NULL::VARCHAR AS sensor_platform, NULL::VARCHAR AS sensor_tenant,
    NULL::VARCHAR AS reason
FROM _eve WHERE (event_type = 'tls' OR quic_hello) AND modelled AND reason IS NULL;

-- name: http
CREATE OR REPLACE TEMP TABLE _stage AS
SELECT line, ingest_ts(t_epoch) AS ts, t_epoch AS epoch,
    flow_id AS uid, src, src_port, dst, dst_port,
    method, hostname AS host, url AS uri, user_agent, TRY_CAST(r_status AS INTEGER) AS status,
    NULL::BIGINT AS request_body_len, ingest_count(r_length) AS response_body_len,
    NULL::VARCHAR AS sensor_platform, NULL::VARCHAR AS sensor_tenant,
    NULL::VARCHAR AS reason
FROM _eve WHERE event_type = 'http' AND reason IS NULL;

-- name: dns_events
-- One row per dns event, oriented client -> server: a response sent from port 53/853/5353 to
-- another port is swapped (Suricata 8 logs responses from the responder; 7 does not always).
CREATE OR REPLACE TEMP TABLE _dnsev AS
SELECT line, t_epoch AS epoch, flow_id, proto, qname, qtype, dns_version,
    dns_type IN ('answer', 'response') AS is_resp,
    CASE WHEN flow_id IS NULL OR dns_id IS NULL THEN 'line:' || line ELSE flow_id || ':' || dns_id END AS grp,
    (dns_type IN ('answer', 'response') AND src_port IN (53, 853, 5353) AND coalesce(dst_port, 0) NOT IN (53, 853, 5353)) AS swap,
    CASE WHEN dns_type IN ('answer', 'response') THEN rcode END AS rcode,
    CASE WHEN dns_type IN ('answer', 'response') THEN coalesce(
        nullif(list_transform(
            list_filter(answers_json, lambda a: json_extract_string(a, '$.rdata') IS NOT NULL),
            lambda a: ingest_addr(json_extract_string(a, '$.rdata'))), []),
        nullif(list_transform(flatten(list_transform(grouped_json, lambda g: TRY_CAST(g AS VARCHAR[]))),
                              lambda a: ingest_addr(a)), []),
        CASE WHEN rdata IS NOT NULL THEN [ingest_addr(rdata)] END) END AS answers,
    CASE WHEN dns_type IN ('answer', 'response') THEN coalesce(
        nullif(list_transform(
            list_filter(answers_json, lambda a: json_extract_string(a, '$.rdata') IS NOT NULL),
            lambda a: ingest_double(json_extract_string(a, '$.ttl'))), []),
        CASE WHEN rdata IS NOT NULL THEN [ttl] END) END AS ttls,
    src, src_port, dst, dst_port
FROM _eve WHERE event_type = 'dns' AND reason IS NULL;

-- name: dns
CREATE OR REPLACE TEMP TABLE _stage AS
SELECT line, ingest_ts(epoch) AS ts, epoch, uid, src, src_port, dst, dst_port, proto,
    query, qtype, rcode, answers, ttls, NULL::VARCHAR AS reason
FROM (
    SELECT tx,
        min(line) AS line,
        min(epoch) AS epoch,
        any_value(flow_id) AS uid,
        coalesce(arg_min(src, line) FILTER (WHERE NOT is_resp), arg_min(CASE WHEN swap THEN dst ELSE src END, line)) AS src,
        coalesce(arg_min(src_port, line) FILTER (WHERE NOT is_resp), arg_min(CASE WHEN swap THEN dst_port ELSE src_port END, line)) AS src_port,
        coalesce(arg_min(dst, line) FILTER (WHERE NOT is_resp), arg_min(CASE WHEN swap THEN src ELSE dst END, line)) AS dst,
        coalesce(arg_min(dst_port, line) FILTER (WHERE NOT is_resp), arg_min(CASE WHEN swap THEN src_port ELSE dst_port END, line)) AS dst_port,
        arg_min(proto, line) AS proto,
        coalesce(arg_min(qname, line) FILTER (WHERE NOT is_resp AND qname IS NOT NULL), arg_min(qname, line)) AS query,
        coalesce(arg_min(qtype, line) FILTER (WHERE NOT is_resp AND qtype IS NOT NULL), arg_min(qtype, line)) AS qtype,
        arg_min(rcode, line) FILTER (WHERE is_resp AND rcode IS NOT NULL) AS rcode,
        nullif(flatten(list(answers ORDER BY line) FILTER (WHERE answers IS NOT NULL)), []) AS answers,
        nullif(flatten(list(ttls ORDER BY line) FILTER (WHERE ttls IS NOT NULL)), []) AS ttls
    FROM (
        -- the k-th request of (flow, dns.id) pairs with its k-th response; a response is every
        -- answer record of one packet (v1 writes one record per answer, all with the packet's time)
        SELECT *, grp || '#' || dense_rank() OVER (
            PARTITION BY grp, is_resp ORDER BY CASE WHEN is_resp THEN epoch ELSE line END) AS tx
        FROM _dnsev
    ) AS e
    GROUP BY tx
) AS t;
