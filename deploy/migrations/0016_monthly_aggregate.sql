-- 0016: the sums of risk-adjusted, continuous and monthly figures (issue 13): metric.aggregate
-- keeps each cell per month, with the expected count of a ratio and the records held back or
-- missing an input; metric.measure keeps the values of median and mean metrics as a histogram
-- per cell; a release's run charts (spc.csv) are drawn from the months.

-- What a record's contribution adds, kept with it so that when a newer version supersedes it
-- exactly that is subtracted again (services/metric/contribution.h): its month ('YYYY-MM' of the
-- period field; '' only for a contribution stored before this migration), the observed count of a
-- ratio (numerator, now bigint), its expected value in fixed point (x 1e9, llround: sums of
-- integers are exact and the same in any order, so a release is byte-identical however its
-- records arrived), the value of a median or mean metric (NULL: none), and whether it is held
-- (follow-up not complete) or missing an input.
ALTER TABLE metric.contribution
  ALTER COLUMN numerator TYPE bigint,
  ADD COLUMN month       text NOT NULL DEFAULT '' CHECK (month = '' OR month ~ '^[0-9]{4}-[0-9]{2}$'),
  ADD COLUMN expected_e9 bigint NOT NULL DEFAULT 0,
  ADD COLUMN value       double precision,
  ADD COLUMN held        boolean NOT NULL DEFAULT false,
  ADD COLUMN missing     boolean NOT NULL DEFAULT false;

-- metric.aggregate (0014) per month: a period's figures are the sums of its months (publish sums
-- them per cell), a run chart's points are the months' own. The same rule keeps it: at all times
-- exactly metric.contribution's GROUP BY (audit, period, month, trust, site, metric_id) per
-- breakdown and category, a cell deleted when every sum is 0. ncap-metricd refuses a transaction
-- that would leave any sum negative, or the numerator of a metric its definition declares a
-- proportion, median or mean above its denominator (a ratio's observed count may exceed the records
-- counted; a metric the definition no longer has is not checked so, its kind unknown).
ALTER TABLE metric.aggregate
  ADD COLUMN month       text NOT NULL DEFAULT '',
  ADD COLUMN expected_e9 bigint NOT NULL DEFAULT 0,
  ADD COLUMN held        bigint NOT NULL DEFAULT 0,
  ADD COLUMN missing     bigint NOT NULL DEFAULT 0,
  DROP CONSTRAINT aggregate_pkey,
  ADD PRIMARY KEY (audit, period, month, trust, site, metric_id, breakdown, category);
-- month '' is only for what was there before; ncap-metricd always names the month
ALTER TABLE metric.contribution ALTER COLUMN month DROP DEFAULT;
ALTER TABLE metric.aggregate ALTER COLUMN month DROP DEFAULT;

-- The values of median and mean metrics: per cell of metric.aggregate (with its month), how many
-- of its records have each value. A release's median, mean and their intervals come from these
-- counts, never from a record (publish may read this table, not metric.contribution). Kept by
-- ncap-metricd in the same transaction as the aggregate, in the same way: a superseded
-- contribution's value counted off, the new one's on, upserted in key order; a count reaching 0
-- deletes its row. O(distinct values) per cell: values are measured to a resolution (hours, a
-- score), so a cell holds far fewer rows than records.
CREATE TABLE metric.measure (
  audit     text NOT NULL,
  period    text NOT NULL,
  month     text NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
  trust     text NOT NULL,
  site      text NOT NULL,
  metric_id text NOT NULL,
  breakdown text NOT NULL CHECK (breakdown IN ('all', 'imd_decile', 'ethnicity', 'sex', 'age')),
  category  text NOT NULL CHECK ((breakdown = 'all') = (category = '')),
  value     double precision NOT NULL,
  -- no CHECK, as on metric.aggregate's sums: ncap-metricd refuses a count below 0
  count     bigint NOT NULL,
  PRIMARY KEY (audit, period, month, trust, site, metric_id, breakdown, category, value)
);

-- An existing deployment: its contributions have no month. The aggregate keeps their sums as
-- cells of month '' (the default above), so every period's figures stay right from the start;
-- then ncap-metricd takes every record again, as 0014 had it do: forgetting what it has taken in
-- (metric.processed) and lowering each applied link revision below any real one (-1) makes the
-- latest version of each record newer than the one applied, so it is applied again, its old
-- contribution subtracted from the month '' cell and the new one added to its month's. No
-- period's figures change meanwhile (publish sums the months, '' among them); a run chart covers
-- only the records already taken again until the backlog is done (`ncap status` shows it), and
-- the month '' cells empty and are deleted on the way. The month cannot be filled in by SQL: it
-- comes from each audit's period field, which SQL does not see. On a new database the two
-- statements do nothing.
DELETE FROM metric.processed;
UPDATE metric.record_state SET link_revision = -1;

-- A release also keeps its run charts (spc.csv, spc_summary.csv), written out with the others.
ALTER TABLE publish.release_file DROP CONSTRAINT release_file_name_check,
  ADD CONSTRAINT release_file_name_check CHECK (name IN ('latest.csv', 'latest.json',
    'fingertips.csv', 'spc.csv', 'spc_summary.csv'));

-- metric keeps the measures as it keeps the aggregate; publish reads the measures and the sums,
-- never a contribution.
GRANT SELECT, INSERT, UPDATE, DELETE ON metric.measure TO ncap_metric;
GRANT SELECT ON metric.measure TO ncap_publish;
