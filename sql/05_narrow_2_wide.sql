-- Stage 05, second file (the last batch of a scan only, analyzer.narrow): the strings of the logs
-- that stay as logged (http, dns: small, and read by name later), added to the batch so that every
-- address and name of the store has one number in one dictionary.
INSERT INTO _nb_addrs
SELECT src FROM http UNION SELECT dst FROM http UNION SELECT src FROM dns;

INSERT INTO _nb_names (raw_name)
SELECT host FROM http WHERE host <> ''
UNION
SELECT query FROM dns WHERE query <> '';
