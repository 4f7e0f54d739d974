-- Stage 01: helper macros for the ingest stages (02, 03). Created as TEMP macros on the
-- ingesting connection; they hold no data. Every value they see comes from a log and is only
-- ever a bound value or a column, never SQL text.

-- Decode Zeek's TSV escapes: \xNN (non-printable bytes, TAB, invalid UTF-8) and \\ (a backslash).
-- Percent-encode first so url_decode does the byte-level decoding in C. When the decoded bytes are
-- not valid UTF-8 (Zeek escapes invalid UTF-8 as \xNN), url_decode raises; try() turns that into
-- NULL and the escaped text is kept as it was.
-- A value holding escaped invalid UTF-8 gets its ASCII escapes (\x00-\x7f, always valid)
-- decoded and keeps the others as \xNN text.
CREATE OR REPLACE TEMP MACRO zeek_unescape(x) AS
    CASE WHEN contains(x, '\') THEN coalesce(
        try(url_decode(regexp_replace(
            replace(replace(x, '%', '%25'), '\\', '%5C'),
            '\\x([0-9A-Fa-f]{2})', '%\1', 'g'))),
        try(url_decode(regexp_replace(
            replace(replace(x, '%', '%25'), '\\', '%5C'),
            '\\x([0-7][0-9A-Fa-f])', '%\1', 'g'))),
        x)
    ELSE x END;

-- A Zeek/Suricata time value as epoch seconds: epoch float (Zeek TSV, Zeek JSON TS_EPOCH) or an
-- ISO-8601 string with Z or a +hhmm offset (Zeek JSON TS_ISO8601, Suricata `timestamp`).
-- The TIMESTAMPTZ route makes the offset count, whatever the session TimeZone is.
-- Rounded to whole microseconds (Zeek's precision), so that an epoch float and the ISO string of the
-- same instant give the same DOUBLE; TRY_CAST turns NaN/inf/absurd values into NULL.
-- Zeek JSON's TS_MILLIS writes integer milliseconds: numbers from 1e11 (1973 in ms, year 5138 in s)
-- to 2100 in ms are read as milliseconds.
CREATE OR REPLACE TEMP MACRO ingest_seconds(d) AS
    CASE WHEN d >= 1e11 AND d < 4102444800000 THEN d / 1000 ELSE d END;
CREATE OR REPLACE TEMP MACRO ingest_epoch(x) AS
    TRY_CAST(round(coalesce(ingest_seconds(TRY_CAST(x AS DOUBLE)),
                            epoch_us(TRY_CAST(x AS TIMESTAMPTZ)) / 1e6) * 1e6) AS BIGINT) / 1e6;

-- A count (Zeek's `count` fields, Suricata's byte and packet counters: unsigned 64-bit) as the model's
-- BIGINT. A value past BIGINT's range that is still an unsigned 64-bit number (a wrapped or corrupt
-- counter can log 18446744073709551615) is held at BIGINT's largest value, 2^63 - 1: the connection
-- is kept, and its count still reads as absurdly large, instead of the whole line being rejected.
-- Text that is no such number, a negative number included, stays NULL, which the typing treats as
-- a bad value (a negative byte count would be summed into a channel's bytes).
CREATE OR REPLACE TEMP MACRO ingest_count(x) AS
    CASE WHEN TRY_CAST(x AS UBIGINT) IS NOT NULL
         THEN coalesce(TRY_CAST(x AS BIGINT), CAST(9223372036854775807 AS BIGINT)) END;

-- A port (Zeek's `port`, Suricata's src_port/dest_port) as the model's INTEGER: 0 to 65535, or no
-- value (a bad value, which the typing rejects): a crafted 70000 or -1 would be a channel's port.
CREATE OR REPLACE TEMP MACRO ingest_port(x) AS
    CASE WHEN TRY_CAST(x AS INTEGER) BETWEEN 0 AND 65535 THEN TRY_CAST(x AS INTEGER) END;

-- A Zeek interval or double (a duration, a TTL) as the model's DOUBLE, and a vector of them: NaN and
-- the infinities, which no sensor writes there but a crafted log can, are no value (a bad value, which
-- the typing rejects): an 'inf' duration would read as a connection open forever.
CREATE OR REPLACE TEMP MACRO ingest_double(x) AS
    CASE WHEN isfinite(TRY_CAST(x AS DOUBLE)) THEN TRY_CAST(x AS DOUBLE) END;
CREATE OR REPLACE TEMP MACRO ingest_doubles(x) AS
    CASE WHEN len(list_filter(TRY_CAST(x AS DOUBLE[]), lambda e: NOT isfinite(e))) = 0 THEN TRY_CAST(x AS DOUBLE[]) END;

-- An address as Zeek writes it: Suricata writes IPv6 in full (fd00:0001:0000:0000:0000:0000:0000:0022),
-- Zeek and every tool an analyst pivots to compressed (fd00:1::22, RFC 5952): the full form, and only
-- it, is compressed (leading zeros of each group dropped, the longest run of two or more zero groups,
-- the first of equal ones, made '::'), so that one host is one address whichever sensor logged it.
CREATE OR REPLACE TEMP MACRO ingest_v6_short(z) AS
    CASE
         WHEN regexp_matches(z, '(^|:)0(:0){7}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){7}(:|$)', '::')
         WHEN regexp_matches(z, '(^|:)0(:0){6}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){6}(:|$)', '::')
         WHEN regexp_matches(z, '(^|:)0(:0){5}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){5}(:|$)', '::')
         WHEN regexp_matches(z, '(^|:)0(:0){4}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){4}(:|$)', '::')
         WHEN regexp_matches(z, '(^|:)0(:0){3}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){3}(:|$)', '::')
         WHEN regexp_matches(z, '(^|:)0(:0){2}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){2}(:|$)', '::')
         WHEN regexp_matches(z, '(^|:)0(:0){1}(:|$)') THEN regexp_replace(z, '(^|:)0(:0){1}(:|$)', '::')
         ELSE z
    END;
CREATE OR REPLACE TEMP MACRO ingest_addr(a) AS
    CASE WHEN length(a) = 39 AND regexp_full_match(a, '[0-9a-fA-F]{4}(:[0-9a-fA-F]{4}){7}')
         THEN ingest_v6_short(regexp_replace(lower(a), '(^|:)0{1,3}', '\1', 'g'))
         ELSE a END;

-- The range of times accepted: 1970-01-01 (relative pcap replays start there) to 2100.
CREATE OR REPLACE TEMP MACRO ingest_epoch_ok(e) AS e >= 0 AND e < 4102444800;

-- A uid as a scratch store keeps it (analyzer.store.SCRATCH_KEYS): its 64-bit hash, a join key.
-- NULL stays NULL (hash(NULL) is a number), so that a row without a uid still joins nothing.
CREATE OR REPLACE TEMP MACRO ingest_uid_key(u) AS CASE WHEN u IS NOT NULL THEN hash(u) END;

-- Epoch seconds to a naive UTC TIMESTAMP with microsecond precision (no time zone involved).
CREATE OR REPLACE TEMP MACRO ingest_ts(e) AS
    CASE WHEN ingest_epoch_ok(e) THEN make_timestamp(CAST(round(e * 1e6) AS BIGINT)) END;

-- Zeek TSV field to its value: the unset marker -> NULL, the empty marker -> ''.
CREATE OR REPLACE TEMP MACRO zeek_field(x, unset_s, empty_s) AS
    CASE WHEN x IS NULL OR x = unset_s THEN NULL WHEN x = empty_s THEN '' ELSE x END;

-- Zeek TSV set/vector field to a list: unset -> NULL, empty -> [], else split then unescape
-- each element (split first: a ',' inside an element is written as \x2c).
CREATE OR REPLACE TEMP MACRO zeek_list(x, unset_s, empty_s, set_sep) AS
    CASE WHEN x IS NULL OR x = unset_s THEN NULL
         WHEN x = empty_s THEN []::VARCHAR[]
         ELSE list_transform(string_split(x, set_sep), lambda e: zeek_unescape(e)) END;

-- Suricata TLS version text ("TLS 1.3", "SSLv3") in Zeek's spelling ("TLSv13", "SSLv3"),
-- so tls.version means the same whichever sensor wrote it.
CREATE OR REPLACE TEMP MACRO tls_version_name(v) AS
    CASE WHEN v IS NULL THEN NULL
         WHEN regexp_matches(v, '^TLS ?1\.[0-3]$') THEN 'TLSv1' || right(v, 1)
         WHEN regexp_matches(v, '^TLS ?v?1\.0$') THEN 'TLSv10'
         ELSE v END;
