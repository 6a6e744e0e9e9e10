-- 0014: what benchmarked releases are built from (issue 12): the metric stage's sums per cell, and
-- the organisations (trust names and regions).

-- A record's inequality categories, kept with each of its contributions (services/metric/
-- breakdown.h: imd_decile "1".."10", ethnicity "white".."not_stated", sex, age band, each
-- "unknown" when the record has no value and '' when the audit's definition does not declare the
-- breakdown), so that when a newer version supersedes it, what it added to each category is
-- subtracted again.
ALTER TABLE metric.contribution
  ADD COLUMN imd_decile text NOT NULL DEFAULT '',
  ADD COLUMN ethnicity  text NOT NULL DEFAULT '',
  ADD COLUMN sex        text NOT NULL DEFAULT '',
  ADD COLUMN age        text NOT NULL DEFAULT '';

-- The sums of metric.contribution per cell: at all times exactly its GROUP BY (audit, period,
-- trust, site, metric_id) as breakdown 'all' (category ''), and per declared breakdown and
-- category ('imd_decile', 'ethnicity', 'sex', 'age'). ncap-metricd keeps it so in the transaction
-- that replaces a record's contributions: it subtracts those it deletes and adds the new ones,
-- summed per cell first and upserted in key order (two instances lock cells in the same order,
-- which keeps deadlocks rare; 40P01 is retried). A cell whose denominator falls to 0 is deleted.
-- Publish reads these sums, never a record: a release's cost is O(cells), whatever the number of
-- records.
CREATE TABLE metric.aggregate (
  audit       text NOT NULL,
  period      text NOT NULL,
  trust       text NOT NULL,
  site        text NOT NULL,
  metric_id   text NOT NULL,
  breakdown   text NOT NULL CHECK (breakdown IN ('all', 'imd_decile', 'ethnicity', 'sex', 'age')),
  category    text NOT NULL CHECK ((breakdown = 'all') = (category = '')),
  -- No CHECK on the sums: PostgreSQL checks the row an upsert proposes (the change, which may be
  -- negative) before it finds the row to update. ncap-metricd refuses instead a transaction that
  -- would leave a sum negative or a numerator above its denominator.
  numerator   bigint NOT NULL,
  denominator bigint NOT NULL,
  PRIMARY KEY (audit, period, trust, site, metric_id, breakdown, category)
);

-- An existing deployment: the contributions it holds have no categories yet. Their sums go in as
-- the 'all' rows, so every figure without breakdown is right from the start; then ncap-metricd
-- takes every record again to place it in its categories. Forgetting what it has taken in
-- (metric.processed) makes its backlog sweep read every row of validation.record again, oldest
-- first; lowering each applied link revision below any real one (-1) makes the latest version of
-- each record newer than the one applied, so it is applied again: its contributions are deleted
-- (subtracting their sums) and stored again with their categories (adding them back, in their
-- categories too). The numerators and denominators do not change, only the breakdowns fill in,
-- over minutes for millions of records (`ncap status` shows metric's backlog meanwhile); until
-- then a release's breakdowns cover only the records already taken again. This was chosen over
-- clearing metric's state (whose figures would be partial while it recomputes) and over a
-- backfill in SQL (the categories depend on each audit's definition, which SQL does not see).
-- Each valid record with a period is also counted once under metric id '' (numerator 0,
-- denominator 1: CONTRIBUTION_RECORDS in services/metric/contribution.h), the record count a release
-- states, kept as a sum rather than recounted; an existing deployment gets that row for every
-- record with a contribution now (a valid record in no metric's denominator gets it when taken
-- again). On a new database all four statements do nothing.
INSERT INTO metric.contribution (record_id, metric_id, audit, trust, site, period, numerator,
                                 denominator)
  SELECT DISTINCT ON (record_id) record_id, '', audit, trust, site, period, 0, 1
  FROM metric.contribution ORDER BY record_id;
INSERT INTO metric.aggregate (audit, period, trust, site, metric_id, breakdown, category,
                              numerator, denominator)
  SELECT audit, period, trust, site, metric_id, 'all', '', sum(numerator), sum(denominator)
  FROM metric.contribution GROUP BY audit, period, trust, site, metric_id;
DELETE FROM metric.processed;
UPDATE metric.record_state SET link_revision = -1;

-- NHS trusts, from the ODS etr extract (`ncap refdata load ods FILE`, which replaces the whole
-- table in one transaction): a trust's name and region (its national grouping code, e.g. Y56, or
-- 'unknown' where the extract gives none; common/nhs/nhs_code_list.h names the codes). A trust
-- not here is published under its code, in region 'unknown'.
CREATE TABLE publish.organisation (
  code      text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]{3}$'),
  name      text NOT NULL CHECK (name <> ''),
  region    text NOT NULL CHECK (region = 'unknown' OR region ~ '^[A-Z][0-9]{2}$'),
  loaded_at timestamptz NOT NULL DEFAULT now()
);

-- `ncap refdata status` and the audit trail list the loads of organisations with the others.
ALTER TABLE linkage.refdata_load DROP CONSTRAINT refdata_load_kind_check,
  ADD CONSTRAINT refdata_load_kind_check CHECK (kind IN ('deaths', 'optouts', 'imd', 'ods'));

-- metric adds to and subtracts from the sums (an upsert reads the row it updates) and deletes a
-- cell gone to 0; publish reads the sums and the organisations, and writes neither (the operator
-- loads organisations).
GRANT SELECT, INSERT, UPDATE, DELETE ON metric.aggregate TO ncap_metric;
GRANT SELECT ON metric.aggregate TO ncap_publish;
GRANT SELECT ON publish.organisation TO ncap_publish;
