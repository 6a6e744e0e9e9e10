-- 0041 (issue 14): metric.measure keyed by a cell's number, its eight text fields held once.
--
-- metric.measure held a row per cell and value, each repeating its cell's eight text fields
-- (audit, period, month, trust, site, metric, breakdown, category) in a nine-column primary key: a
-- continuous value (NHFD's hours) makes about one new row per record in each of its breakdowns,
-- and inserting each was most of ncap-metricd's PostgreSQL backend time per record (comparing the
-- text columns a batch's rows mostly share at every level of the key: 12.7 us a row). Now each
-- cell is a row of metric.cell, written once (a cell is never deleted: what a cell is does not
-- change, and a cell without values costs one small row), and metric.measure keys its rows by the
-- cell's number and the value (about 5 us a row). Readers join the two; publish still reads a
-- period's values by metric.cell's key prefix (audit, period) and a trust's by (audit, period,
-- month, trust), then each cell's values by metric.measure's key prefix (cell).
CREATE TABLE metric.cell (
  id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  audit     text NOT NULL,
  period    text NOT NULL,
  month     text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
  trust     text NOT NULL,
  site      text NOT NULL,
  metric_id text NOT NULL,
  breakdown text NOT NULL CHECK (breakdown IN ('all', 'imd_decile', 'ethnicity', 'sex', 'age')),
  category  text NOT NULL CHECK ((breakdown = 'all') = (category = '')),
  UNIQUE (audit, period, month, trust, site, metric_id, breakdown, category)
);

-- An existing deployment: every cell with a value, or with a key publish may still read as gone.
INSERT INTO metric.cell (audit, period, month, trust, site, metric_id, breakdown, category)
  SELECT audit, period, month, trust, site, metric_id, breakdown, category FROM metric.measure
  UNION
  SELECT audit, period, month, trust, site, metric_id, breakdown, category
  FROM metric.measure_gone
  ORDER BY 1, 2, 3, 4, 5, 6, 7, 8;

-- the tables of 0040 out of the way, with their indexes' names, until their rows are carried over
ALTER TABLE metric.measure RENAME TO measure_0040;
ALTER INDEX metric.measure_pkey RENAME TO measure_0040_pkey;
ALTER TABLE metric.measure_gone RENAME TO measure_gone_0040;
ALTER INDEX metric.measure_gone_period_idx RENAME TO measure_gone_0040_period_idx;
ALTER INDEX metric.measure_gone_at_idx RENAME TO measure_gone_0040_at_idx;

-- The counts (0016) and the transaction that wrote each (0040: write_xid, publish's delta reads).
CREATE TABLE metric.measure (
  cell      bigint NOT NULL,
  value     double precision NOT NULL,
  -- no CHECK, as on metric.aggregate's sums: ncap-metricd refuses a count below 0
  count     bigint NOT NULL,
  write_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  PRIMARY KEY (cell, value)
);
-- (no foreign key to metric.cell: a cell is never deleted, and the check would cost a probe of
-- metric.cell's key per row inserted; its rows kept in key order, as they were)
INSERT INTO metric.measure (cell, value, count, write_xid)
  SELECT c.id, m.value, m.count, m.write_xid
  FROM metric.measure_0040 m
  JOIN metric.cell c USING (audit, period, month, trust, site, metric_id, breakdown, category)
  ORDER BY c.id, m.value;

-- The keys metric deleted (0040), by the new key; publish reads a period's by its cells.
CREATE TABLE metric.measure_gone (
  cell      bigint NOT NULL,
  value     double precision NOT NULL,
  write_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gone_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
INSERT INTO metric.measure_gone (cell, value, write_xid, gone_at)
  SELECT c.id, g.value, g.write_xid, g.gone_at
  FROM metric.measure_gone_0040 g
  JOIN metric.cell c USING (audit, period, month, trust, site, metric_id, breakdown, category);
-- publish: the keys gone since a snapshot (a round's worth, each joined to its cell); metric:
-- the rows past the horizon
CREATE INDEX measure_gone_xid_idx ON metric.measure_gone (write_xid);
CREATE INDEX measure_gone_at_idx ON metric.measure_gone (gone_at);

DROP TABLE metric.measure_0040;
DROP TABLE metric.measure_gone_0040;

-- metric writes cells (never updates or deletes one) and the counts as before (0016, 0040);
-- publish reads all three. (The identity's sequence needs no grant: an insert takes its numbers.)
GRANT SELECT, INSERT ON metric.cell TO ncap_metric;
GRANT SELECT, INSERT, UPDATE, DELETE ON metric.measure TO ncap_metric;
GRANT SELECT, INSERT, DELETE, UPDATE (gone_at) ON metric.measure_gone TO ncap_metric;
GRANT SELECT ON metric.cell, metric.measure, metric.measure_gone TO ncap_publish;
