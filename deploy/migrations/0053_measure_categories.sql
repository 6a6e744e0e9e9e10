-- 0053 (issue 14): metric.measure counts a value once per record, its categories in the key.
--
-- metric.measure held a value's count in every cell it counts in: breakdown 'all' of its
-- record's month, and each of the four breakdowns (IMD decile, ethnicity, sex, age) of the
-- period (0041, 0046): about 4.7 rows a record with a value at 100,000 NHFD records (447,957
-- rows), and upserting them was metric's largest statement. Now a row is a value of a cell of
-- breakdown 'all' (audit, period, month, trust, site, metric: metric.cell) under the record's four
-- categories (imd_decile, ethnicity, sex, age, each '' where the audit declares no such
-- breakdown, as metric.record_contribution holds them): 94,926 rows for the same records, about
-- one a record, upserted in a third of the time. Publish spreads each row over the cells it
-- counts in as it reads them (release_values.c, value_cache.c): breakdown 'all' of its month, and
-- of the period each breakdown whose category is not ''. The releases are the same bytes.
--
-- An existing deployment: the values are counted again from metric.record_contribution (which
-- metric.measure has always been the GROUP BY of, with a value), the cells numbered afresh;
-- publish reads every period whole once after it restarts (its memory of the old rows goes with
-- the process). The keys gone (metric.measure_gone) start empty: a publisher of the old rows is
-- not running across this migration.

-- the old rows first (what they held is counted again below, from the contributions)
DROP TABLE metric.measure, metric.measure_gone, metric.cell;

-- A cell of breakdown 'all': a unit's metric in a month (written once, never deleted, as 0041's).
CREATE TABLE metric.cell (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  audit     text NOT NULL,
  period    text NOT NULL,
  month     text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
  trust     text NOT NULL,
  site      text NOT NULL,
  metric_id text NOT NULL,
  UNIQUE (audit, period, month, trust, site, metric_id)
);

-- How many records of a cell have a value, per combination of their categories. The value comes
-- before the categories in the key: two rows of a cell mostly differ in value (a double compared
-- at once), and publish reads a cell's rows whole, never by category.
CREATE TABLE metric.measure (
  cell       bigint NOT NULL,
  value      double precision NOT NULL,
  imd_decile text NOT NULL,
  ethnicity  text NOT NULL,
  sex        text NOT NULL,
  age        text NOT NULL,
  -- no CHECK, as on metric.aggregate's sums: ncap-metricd refuses a count below 0
  count      bigint NOT NULL,
  write_xid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (cell, value, imd_decile, ethnicity, sex, age)
);
-- publish: the rows written since its last round (0047)
CREATE INDEX measure_write_xid_idx ON metric.measure (write_xid);

-- The keys metric deleted (0040), by the new key; publish reads those gone since a snapshot.
CREATE TABLE metric.measure_gone (
  cell       bigint NOT NULL,
  value      double precision NOT NULL,
  imd_decile text NOT NULL,
  ethnicity  text NOT NULL,
  sex        text NOT NULL,
  age        text NOT NULL,
  write_xid  xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gone_at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX measure_gone_xid_idx ON metric.measure_gone (write_xid);
CREATE INDEX measure_gone_at_idx ON metric.measure_gone (gone_at);

-- every value a record holds ("-0 counts as 0", as metric_store.c sends it)
CREATE VIEW metric.value_0053 AS
  SELECT r.audit, r.period, r.month, r.trust, r.site, c.metric_id, r.imd_decile, r.ethnicity,
         r.sex, r.age, c.value + 0.0 AS value
  FROM metric.record_contribution r
  CROSS JOIN LATERAL unnest(r.metric_id, r.value) AS c(metric_id, value)
  WHERE c.value IS NOT NULL;

INSERT INTO metric.cell (audit, period, month, trust, site, metric_id)
  SELECT DISTINCT audit, period, month, trust, site, metric_id FROM metric.value_0053
  ORDER BY 1, 2, 3, 4, 5, 6;

INSERT INTO metric.measure (cell, value, imd_decile, ethnicity, sex, age, count)
  SELECT x.id, v.value, v.imd_decile, v.ethnicity, v.sex, v.age, count(*)
  FROM metric.value_0053 v
  JOIN metric.cell x USING (audit, period, month, trust, site, metric_id)
  GROUP BY x.id, v.value, v.imd_decile, v.ethnicity, v.sex, v.age
  ORDER BY 1, 2, 3, 4, 5, 6;

DROP VIEW metric.value_0053;

-- as 0041: metric writes cells and counts; publish reads all three
GRANT SELECT, INSERT ON metric.cell TO ncap_metric;
GRANT SELECT, INSERT, UPDATE, DELETE ON metric.measure TO ncap_metric;
GRANT SELECT, INSERT, DELETE, UPDATE (gone_at) ON metric.measure_gone TO ncap_metric;
GRANT SELECT ON metric.cell, metric.measure, metric.measure_gone TO ncap_publish;
