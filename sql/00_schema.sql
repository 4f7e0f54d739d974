-- Stage 00: the normalized model. One shape for every sensor (Zeek TSV, Zeek JSON, Suricata eve.json).
-- Timestamps are UTC. `epoch` is the same instant as seconds since 1970 (DOUBLE), kept so that the
-- scoring SQL can do arithmetic on time without engine-specific interval functions.
-- `uid` is the join key between tables: the Zeek uid, or the Suricata flow_id as text.
-- `file_id`/`line` say where each row came from (line is NULL where the format has no line, 1-based).
-- `sensor` is 'zeek' or 'suricata'.

CREATE TABLE IF NOT EXISTS ingest_files (
    file_id      BIGINT PRIMARY KEY,
    path         VARCHAR NOT NULL,      -- as given / resolved absolute path
    kind         VARCHAR,               -- conn | dns | ssl | http | eve | NULL when skipped
    format       VARCHAR,               -- zeek-tsv | zeek-json | eve
    size_bytes   BIGINT,                -- bytes consumed (uncompressed for .gz)
    head_sha256  VARCHAR,               -- content fingerprint of the consumed prefix: blake3:<hex> (bare
                                        -- SHA-256 hex in stores written before 2026-12-03)
    data_lines   BIGINT,                -- data lines seen in the file (loaded + rejected)
    rows_loaded  BIGINT,
    lines_rejected BIGINT,
    skipped_events BIGINT,              -- eve events of other types, counted and skipped
    status       VARCHAR,               -- loaded | appended | unchanged | skipped
    reason       VARCHAR,               -- why skipped / warnings (truncated gzip ...)
    min_ts       TIMESTAMP,
    max_ts       TIMESTAMP,
    loaded_at    TIMESTAMP
);

CREATE TABLE IF NOT EXISTS ingest_rejects (
    file_id  BIGINT,
    line     BIGINT,
    reason   VARCHAR,
    text     VARCHAR                    -- the rejected line, truncated
);

CREATE TABLE IF NOT EXISTS conn (
    ts TIMESTAMP, epoch DOUBLE, uid VARCHAR,
    src VARCHAR, src_port INTEGER, dst VARCHAR, dst_port INTEGER,
    proto VARCHAR, service VARCHAR, duration DOUBLE,
    orig_bytes BIGINT, resp_bytes BIGINT, orig_ip_bytes BIGINT, resp_ip_bytes BIGINT,
    orig_pkts BIGINT, resp_pkts BIGINT, conn_state VARCHAR, history VARCHAR,
    sensor VARCHAR, file_id BIGINT, line BIGINT
);

CREATE TABLE IF NOT EXISTS dns (
    ts TIMESTAMP, epoch DOUBLE, uid VARCHAR,
    src VARCHAR, src_port INTEGER, dst VARCHAR, dst_port INTEGER,
    proto VARCHAR, query VARCHAR, qtype VARCHAR,      -- qtype name: A, AAAA, TXT, CNAME ...
    rcode VARCHAR,                                    -- rcode name: NOERROR, NXDOMAIN ...
    answers VARCHAR[], ttls DOUBLE[],
    sensor VARCHAR, file_id BIGINT, line BIGINT
);

CREATE TABLE IF NOT EXISTS tls (
    ts TIMESTAMP, epoch DOUBLE, uid VARCHAR,
    src VARCHAR, src_port INTEGER, dst VARCHAR, dst_port INTEGER,
    server_name VARCHAR, ja3 VARCHAR, ja4 VARCHAR, version VARCHAR, established BOOLEAN,
    sensor_platform VARCHAR, sensor_tenant VARCHAR,   -- from zeek-scripts' serverless_platform/serverless_tenant when present
    sensor VARCHAR, file_id BIGINT, line BIGINT
);

CREATE TABLE IF NOT EXISTS http (
    ts TIMESTAMP, epoch DOUBLE, uid VARCHAR,
    src VARCHAR, src_port INTEGER, dst VARCHAR, dst_port INTEGER,
    method VARCHAR, host VARCHAR, uri VARCHAR, user_agent VARCHAR, status INTEGER,
    request_body_len BIGINT, response_body_len BIGINT,
    sensor_platform VARCHAR, sensor_tenant VARCHAR,
    sensor VARCHAR, file_id BIGINT, line BIGINT
);
