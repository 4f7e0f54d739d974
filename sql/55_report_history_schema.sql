-- Stage 55 (report): the report's own memory in a persistent store, so that tomorrow's report can
-- say what is new and what recurs. Created on demand; never touched by scan.
-- report_runs: one row per report written. report_channels: the channels it listed.
CREATE TABLE IF NOT EXISTS report_runs (
    run_id        BIGINT PRIMARY KEY,
    generated_at  TIMESTAMP NOT NULL,
    window_start  TIMESTAMP,
    window_end    TIMESTAMP,
    findings      BIGINT
);

CREATE TABLE IF NOT EXISTS report_channels (
    run_id       BIGINT NOT NULL,
    channel_key  VARCHAR NOT NULL,
    severity     VARCHAR,
    score        DOUBLE,
    src          VARCHAR,
    host         VARCHAR,
    platform     VARCHAR
);
