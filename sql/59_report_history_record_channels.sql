-- Stage 59 (report): remember the channels a report listed. Parameters: $run_id and parallel
-- lists $keys, $severities, $scores, $srcs, $hosts, $platforms (one element per finding).
INSERT INTO report_channels (run_id, channel_key, severity, score, src, host, platform)
SELECT $run_id,
       unnest($keys::VARCHAR[]), unnest($severities::VARCHAR[]), unnest($scores::DOUBLE[]),
       unnest($srcs::VARCHAR[]), unnest($hosts::VARCHAR[]), unnest($platforms::VARCHAR[]);
