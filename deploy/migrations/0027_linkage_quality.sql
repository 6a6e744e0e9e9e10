-- 0027: who fails to link (issue 18) and the records withheld under the opt-out in the selection
-- ledger (issue 15). Linkage keeps, per record, how its latest version linked and whether it was
-- withheld, and the counts of those facts per audit, period, trust, site and inequality category.
-- Only the counts leave linkage: publish reads them through a view (publish.linkage_quality) and
-- writes linkage_quality.csv and latest.csv's withheld_opt_out; `ncap report linkage` prints them.

-- One row per record: the facts of the latest version linkage took (a newer version replaces the
-- row; an older or equal one is ignored: ON CONFLICT ... WHERE, so a retried batch changes
-- nothing). method: how the version joined a patient when linked (services/linkage/decide/
-- link_quality.h): 'nhs_number' (a valid NHS number with an agreeing date of birth),
-- 'probabilistic' (the Fellegi-Sunter score at or above the threshold), 'singleton' (no patient
-- held and no record before it matched: it started a patient of its own). death_matched: its
-- patient is linked to the register of deaths (kept true to linkage.death_link by the death sweep).
-- withheld: withheld under the national data opt-out (it went no further). period: the quarter of
-- the definition's period field ('' none: counted nowhere). The categories are metric's
-- (services/metric/breakdown.h via common/audit/breakdown.h): imd_quintile '1'..'5' (from the
-- linked decile), ethnicity, sex, age band; 'unknown' when the record has no value, '' when the
-- definition does not declare the breakdown. patient_id lets the death sweep find the records of a
-- patient whose death link changed (withheld versions are in no linkage.link).
CREATE TABLE linkage.record_quality (
  record_id     bigint PRIMARY KEY,
  version       integer NOT NULL,
  revision      integer NOT NULL DEFAULT 0,
  patient_id    bigint NOT NULL,
  audit         text NOT NULL,
  trust         text NOT NULL,
  site          text NOT NULL,
  period        text NOT NULL,
  method        text NOT NULL CHECK (method IN ('nhs_number', 'probabilistic', 'singleton')),
  death_matched boolean NOT NULL,
  withheld      boolean NOT NULL,
  imd_quintile  text NOT NULL,
  ethnicity     text NOT NULL,
  sex           text NOT NULL,
  age           text NOT NULL
);
CREATE INDEX record_quality_patient_idx ON linkage.record_quality (patient_id);

-- The counts: at all times exactly linkage.record_quality's rows with a period, grouped by (audit,
-- period, trust, site) as breakdown 'all' (category '') and per declared breakdown and category.
-- records: versions linked and passed on; nhs_number, probabilistic, singleton: of those, by
-- method (they sum to records); death_matched: of those, matched to the register of deaths;
-- withheld_opt_out: versions withheld under the opt-out (in none of the others). Kept by the
-- statement triggers below in the transaction that writes the facts: a superseded version's row
-- subtracted, the new one's added, summed per cell and upserted in key order (two linkage
-- instances lock cells in one order; a deadlock, 40P01, is retried); a cell whose counts all reach
-- 0 is deleted. Cost: one set-based upsert per statement, O(cells touched), never a recount.
CREATE TABLE linkage.quality_count (
  audit            text NOT NULL,
  period           text NOT NULL,
  trust            text NOT NULL,
  site             text NOT NULL,
  breakdown        text NOT NULL
    CHECK (breakdown IN ('all', 'imd_quintile', 'ethnicity', 'sex', 'age')),
  category         text NOT NULL CHECK ((breakdown = 'all') = (category = '')),
  -- no CHECK on the counts: an upsert's proposed row is the change, which may be negative
  records          bigint NOT NULL,
  nhs_number       bigint NOT NULL,
  probabilistic    bigint NOT NULL,
  singleton        bigint NOT NULL,
  death_matched    bigint NOT NULL,
  withheld_opt_out bigint NOT NULL,
  PRIMARY KEY (audit, period, trust, site, breakdown, category)
);

-- Adds the rows plus and subtracts the rows minus (each linkage.record_quality rows) from the
-- counts. Runs as its owner: linkage's role has no right on linkage.quality_count.
CREATE FUNCTION linkage.quality_apply(plus linkage.record_quality[], minus linkage.record_quality[])
RETURNS void LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  WITH x AS (SELECT p.*, 1 AS s FROM unnest(plus) p
             UNION ALL SELECT m.*, -1 FROM unnest(minus) m),
  d AS (SELECT x.audit, x.period, x.trust, x.site, b.breakdown, b.category,
          sum(x.s * (NOT x.withheld)::int) AS records,
          sum(x.s * (NOT x.withheld AND x.method = 'nhs_number')::int) AS nhs_number,
          sum(x.s * (NOT x.withheld AND x.method = 'probabilistic')::int) AS probabilistic,
          sum(x.s * (NOT x.withheld AND x.method = 'singleton')::int) AS singleton,
          sum(x.s * (NOT x.withheld AND x.death_matched)::int) AS death_matched,
          sum(x.s * x.withheld::int) AS withheld_opt_out
        FROM x CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_quintile', x.imd_quintile),
          ('ethnicity', x.ethnicity), ('sex', x.sex), ('age', x.age)) AS b(breakdown, category)
        WHERE x.period <> '' AND (b.breakdown = 'all' OR b.category <> '')
        GROUP BY 1, 2, 3, 4, 5, 6)
  INSERT INTO linkage.quality_count AS c
    SELECT * FROM d WHERE (records, nhs_number, probabilistic, singleton, death_matched,
      withheld_opt_out) <> (0, 0, 0, 0, 0, 0)
    ORDER BY audit, period, trust, site, breakdown, category
  ON CONFLICT (audit, period, trust, site, breakdown, category) DO UPDATE SET
    records = c.records + excluded.records,
    nhs_number = c.nhs_number + excluded.nhs_number,
    probabilistic = c.probabilistic + excluded.probabilistic,
    singleton = c.singleton + excluded.singleton,
    death_matched = c.death_matched + excluded.death_matched,
    withheld_opt_out = c.withheld_opt_out + excluded.withheld_opt_out;
  -- a cell can empty only where something was subtracted: those units' cells, by the key's prefix
  IF cardinality(minus) > 0 THEN
    DELETE FROM linkage.quality_count c
      USING (SELECT DISTINCT m.audit, m.period, m.trust, m.site FROM unnest(minus) m) u
      WHERE (c.audit, c.period, c.trust, c.site) = (u.audit, u.period, u.trust, u.site)
      AND c.records = 0 AND c.withheld_opt_out = 0;
  END IF;
END $$;
REVOKE ALL ON FUNCTION linkage.quality_apply(linkage.record_quality[], linkage.record_quality[])
  FROM PUBLIC;

CREATE FUNCTION linkage.quality_count_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM linkage.quality_apply(ARRAY(SELECT n::linkage.record_quality FROM new_rows n), '{}');
  RETURN NULL;
END $$;
CREATE FUNCTION linkage.quality_count_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM linkage.quality_apply(ARRAY(SELECT n::linkage.record_quality FROM new_rows n),
                                ARRAY(SELECT o::linkage.record_quality FROM old_rows o));
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION linkage.quality_count_insert() FROM PUBLIC;
REVOKE ALL ON FUNCTION linkage.quality_count_update() FROM PUBLIC;
CREATE TRIGGER record_quality_insert AFTER INSERT ON linkage.record_quality
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION linkage.quality_count_insert();
CREATE TRIGGER record_quality_update AFTER UPDATE ON linkage.record_quality
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT
  EXECUTE FUNCTION linkage.quality_count_update();

-- What publish may see: the counts, through a view in its own schema (it has no right in
-- linkage's, and none on a per-record fact).
CREATE VIEW publish.linkage_quality AS
  SELECT audit, period, trust, site, breakdown, category, records, nhs_number, probabilistic,
         singleton, death_matched, withheld_opt_out
  FROM linkage.quality_count;

-- The hash of each period's linkage_quality.csv and linkage_quality.json as last written
-- (period_export.h): written again only when it changes.
CREATE TABLE publish.linkage_quality_export (
  audit        text NOT NULL,
  period       text NOT NULL,
  content_hash text NOT NULL,
  PRIMARY KEY (audit, period)
);
CREATE TABLE publish.linkage_quality_json_export (LIKE publish.linkage_quality_export INCLUDING ALL);

-- An existing deployment: the versions linked before this migration have no facts (their
-- categories and period come from each audit's definition, which SQL does not see); they count
-- from their next version on. `ncap report linkage` and linkage_quality.csv say "records linked
-- since" nothing: README.md ("linkage_quality.csv") states it.

-- linkage writes the facts (its revisions update them); publish reads the counts, and keeps the
-- hashes of its files.
GRANT SELECT, INSERT, UPDATE ON linkage.record_quality TO ncap_linkage;
GRANT SELECT ON publish.linkage_quality TO ncap_publish;
GRANT SELECT, INSERT, UPDATE ON publish.linkage_quality_export, publish.linkage_quality_json_export
  TO ncap_publish;
