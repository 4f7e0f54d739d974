-- Stage 02: Suricata eve.json -> conn, dns, tls, http.
-- Input: TEMP _lines(line, l) (the file) and _jl(line) (its data lines). Statements are separated by
-- "-- name:" lines; parameters are bound by name.
-- Each line is parsed once (one json_extract_string call with every path needed; try() makes a line
-- that is no JSON a NULL list, whose reason eve.py asks for separately, for those lines only); a DNS
-- event once more, for its answers as JSON values.
--
-- Mapping choices (documented in analyzer/ingest/eve.py too):
-- * uid is flow_id as text, the join key between the tables, like Zeek's uid.
-- * flow -> conn: ts = flow.start (Zeek's conn ts is the first packet too), duration = end - start,
--   orig/resp_ip_bytes = bytes_toserver/bytes_toclient (Suricata counts whole packets, like Zeek's
--   *_ip_bytes), orig/resp_pkts = pkts_toserver/pkts_toclient, orig/resp_bytes (payload) = NULL
--   (eve has no payload byte count), service = app_proto (NULL when 'failed'), conn_state = flow.state
--   (Suricata's new/established/closed, not Zeek's S0/SF...), history = NULL.
-- * dns: one row per transaction: within (flow_id, dns.id) the k-th request record pairs with the
--   k-th response, a response being all answer records of one packet (same timestamp), so v1's
--   one-record-per-answer records merge into one answers list and a retransmitted query with its
--   own answer stays a transaction of its own. Unpaired requests/responses give rows of their own.
-- * tls: version in Zeek's spelling (TLSv13); established = NULL (eve does not say).
-- * http: status, response_body_len = http.length; request_body_len = NULL (not in eve).

-- name: events
-- Each event with what it is: `modelled` (flow, dns, tls, http), and `reason`, why a modelled event
-- cannot be loaded (other event types are skipped, reason NULL); a line with no event_type says so
-- here, and eve.py asks only those lines whether they are JSON objects at all (JSON_REASON).
-- In the same pass as the parse: a second statement rewriting the table cost 0.8 of 7.6 s on a
-- 545 MB eve.json.
CREATE OR REPLACE TEMP TABLE _eve AS
SELECT *,
    event_type IN ('flow', 'dns', 'tls', 'http') AS modelled,
    CASE
        WHEN event_type IS NULL THEN 'no event_type'
        WHEN event_type NOT IN ('flow', 'dns', 'tls', 'http') THEN NULL
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
    v[1] AS event_type,
    v[2] AS r_ts,
    ingest_epoch(v[2]) AS t_epoch,
    v[3] AS flow_id,
    v[4] AS src, v[5] AS r_src_port, TRY_CAST(v[5] AS INTEGER) AS src_port,
    v[6] AS dst, v[7] AS r_dst_port, TRY_CAST(v[7] AS INTEGER) AS dst_port,
    lower(v[8]) AS proto,
    v[9] AS app_proto,
    ingest_epoch(v[10]) AS flow_start, ingest_epoch(v[11]) AS flow_end,
    TRY_CAST(v[12] AS BIGINT) AS bytes_toserver, TRY_CAST(v[13] AS BIGINT) AS bytes_toclient,
    TRY_CAST(v[14] AS BIGINT) AS pkts_toserver, TRY_CAST(v[15] AS BIGINT) AS pkts_toclient,
    v[16] AS flow_state,
    TRY_CAST(v[17] AS INTEGER) AS dns_version, v[18] AS dns_type, v[19] AS dns_id,
    coalesce(v[20], v[21], v[22]) AS qname,
    coalesce(v[23], v[24], v[25]) AS qtype,
    v[26] AS rcode, v[27] AS rdata, TRY_CAST(v[28] AS DOUBLE) AS ttl,
    v[29] AS sni, v[30] AS ja3,
    coalesce(v[32], CASE WHEN NOT starts_with(v[31], '{') THEN v[31] END) AS ja4,
    v[33] AS tls_version,
    v[34] AS hostname, v[35] AS url, v[36] AS user_agent, v[37] AS method,
    v[38] AS r_status, v[39] AS r_length,
    TRY_CAST(d[1] AS JSON[]) AS answers_json,
    json_extract(d[2], '$.*') AS grouped_json
FROM (
    -- a DNS event's answers as JSON values: the line parsed once more (both paths in one call), DNS
    -- lines only
    SELECT *, CASE WHEN v[1] = 'dns' THEN json_extract(l, ['$.dns.answers', '$.dns.grouped']) END AS d
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
        '$.http.status', '$.http.length'
    ])) AS v
    FROM _lines JOIN _jl USING (line)
    ) AS p
) AS s
) AS e;

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
    sni AS server_name, ja3, ja4, tls_version_name(tls_version) AS version, NULL::BOOLEAN AS established,
    NULL::VARCHAR AS sensor_platform, NULL::VARCHAR AS sensor_tenant,
    NULL::VARCHAR AS reason
FROM _eve WHERE event_type = 'tls' AND reason IS NULL;

-- name: http
CREATE OR REPLACE TEMP TABLE _stage AS
SELECT line, ingest_ts(t_epoch) AS ts, t_epoch AS epoch,
    flow_id AS uid, src, src_port, dst, dst_port,
    method, hostname AS host, url AS uri, user_agent, TRY_CAST(r_status AS INTEGER) AS status,
    NULL::BIGINT AS request_body_len, TRY_CAST(r_length AS BIGINT) AS response_body_len,
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
            lambda a: json_extract_string(a, '$.rdata')), []),
        nullif(flatten(list_transform(grouped_json, lambda g: TRY_CAST(g AS VARCHAR[]))), []),
        CASE WHEN rdata IS NOT NULL THEN [rdata] END) END AS answers,
    CASE WHEN dns_type IN ('answer', 'response') THEN coalesce(
        nullif(list_transform(
            list_filter(answers_json, lambda a: json_extract_string(a, '$.rdata') IS NOT NULL),
            lambda a: TRY_CAST(json_extract_string(a, '$.ttl') AS DOUBLE)), []),
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
