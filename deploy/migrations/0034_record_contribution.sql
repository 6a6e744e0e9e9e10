-- 0034 (issue 14): a record's contributions in one row, and room for the sums to change in place.
--
-- metric.contribution held a row per record and metric (six to a dozen a record, each repeating
-- the record's audit, trust, site, period, month and categories, with two indexes): the largest
-- part of the metric schema, and most of what ncap-metricd's PostgreSQL backend did per record.
-- metric.record_contribution holds them as one row per record: the record's cell fields once, and
-- its contributions as arrays of the same length (element i of each is contribution i, in the
-- order metric computed them). ncap-metricd replaces the row whole when a newer version or link
-- revision of the record is applied (services/metric/metric_store.c); nothing else writes it.
CREATE TABLE metric.record_contribution (
  record_id   bigint PRIMARY KEY,
  audit       text NOT NULL,
  trust       text NOT NULL,
  site        text NOT NULL,
  period      text NOT NULL,
  month       text NOT NULL CHECK (month = '' OR month ~ '^[0-9]{4}-[0-9]{2}$'),
  imd_decile  text NOT NULL DEFAULT '',
  ethnicity   text NOT NULL DEFAULT '',
  sex         text NOT NULL DEFAULT '',
  age         text NOT NULL DEFAULT '',
  metric_id   text[] NOT NULL,
  numerator   bigint[] NOT NULL,
  denominator integer[] NOT NULL,
  expected_e9 bigint[] NOT NULL,
  value       double precision[] NOT NULL, -- NULL elements: no value
  held        boolean[] NOT NULL,
  missing     boolean[] NOT NULL,
  CHECK (cardinality(metric_id) > 0 AND cardinality(numerator) = cardinality(metric_id)
         AND cardinality(denominator) = cardinality(metric_id)
         AND cardinality(expected_e9) = cardinality(metric_id)
         AND cardinality(value) = cardinality(metric_id)
         AND cardinality(held) = cardinality(metric_id)
         AND cardinality(missing) = cardinality(metric_id))
);
-- a period's records (ingest's outlier_request.c: the records in an outlier case's denominator)
CREATE INDEX record_contribution_period_idx ON metric.record_contribution (audit, period);

-- An existing deployment: each record's rows become its one row. A record's contributions were
-- always stored together from the one version, so they share its cell fields; a record whose rows
-- did not would make two rows of one record_id, and the migration fail rather than guess.
INSERT INTO metric.record_contribution (record_id, audit, trust, site, period, month, imd_decile,
                                        ethnicity, sex, age, metric_id, numerator, denominator,
                                        expected_e9, value, held, missing)
  SELECT record_id, audit, trust, site, period, month, imd_decile, ethnicity, sex, age,
         array_agg(metric_id ORDER BY metric_id), array_agg(numerator ORDER BY metric_id),
         array_agg(denominator ORDER BY metric_id), array_agg(expected_e9 ORDER BY metric_id),
         array_agg(value ORDER BY metric_id), array_agg(held ORDER BY metric_id),
         array_agg(missing ORDER BY metric_id)
  FROM metric.contribution
  GROUP BY record_id, audit, trust, site, period, month, imd_decile, ethnicity, sex, age;
DROP TABLE metric.contribution;

-- Its readers (ingest's `ncap results` and outlier cases, tests) still see a row per record and
-- metric, with the columns and the names they had: a view over the one row per record. A join on
-- record_id, or a filter on audit and period, reaches the table's indexes through it.
CREATE VIEW metric.contribution AS
  SELECT r.record_id, c.metric_id, r.audit, r.trust, r.site, r.period, c.numerator,
         c.denominator, r.imd_decile, r.ethnicity, r.sex, r.age, r.month, c.expected_e9, c.value,
         c.held, c.missing
  FROM metric.record_contribution r
  CROSS JOIN LATERAL unnest(r.metric_id, r.numerator, r.denominator, r.expected_e9, r.value,
                            r.held, r.missing)
    AS c(metric_id, numerator, denominator, expected_e9, value, held, missing);

-- metric inserts and deletes a record's row (never updates it) and reads the view in its tests;
-- ingest reads the columns of the view it read of the table (0020, 0021): never a category.
GRANT SELECT, INSERT, DELETE ON metric.record_contribution TO ncap_metric;
GRANT SELECT ON metric.contribution TO ncap_metric;
GRANT SELECT (record_id, metric_id, audit, trust, site, period, numerator, denominator,
              expected_e9, value, held, missing) ON metric.contribution TO ncap_ingest;

-- Every batch adds to and subtracts from the sums of many cells: room on each page lets
-- PostgreSQL write a cell's new row version beside the old one (a HOT update, no new index entry),
-- where a full page made it write a new index entry for a quarter of the updates (and the table
-- and its index grow with dead versions). New pages keep the room; existing ones get it as they
-- are rewritten. metric.measure is mostly inserted into (a value's first record in its cell) and
-- keeps its pages full.
ALTER TABLE metric.aggregate SET (fillfactor = 50);

-- metric.measure holds a row per cell and value; a continuous value (NHFD's hours from arrival to
-- surgery) makes that about one row per record in each of its breakdowns, each a new entry in the
-- primary key: most of ncap-metricd's backend time per record went into finding where in the key
-- (audit, period, month, trust, site, metric_id, breakdown, category, value) a new value goes,
-- comparing the text columns that the rows of a batch mostly share before reaching the one that
-- differs. The same columns with the value fifth (a float, which mostly tells two rows apart at
-- once) after the audit, period, month and trust, and the site and category next, cost about a
-- fifth less to insert into and to probe for the upsert. Publish still reads a period's values by
-- the key's first two columns, and a trust's by its first four (audit, period, month, trust: one
-- index range per month and trust of the trusts a round changed). The columns and what each row
-- means do not change.
ALTER TABLE metric.measure DROP CONSTRAINT measure_pkey,
  ADD PRIMARY KEY (audit, period, month, trust, value, site, category, breakdown, metric_id);

-- No query looks metric.record_state up by audit and period (publish follows it by its write
-- position, record_state_write_idx; ncap release finalise joins it by record_id): its index on
-- them only cost an entry per record applied.
DROP INDEX metric.record_state_audit_idx;
