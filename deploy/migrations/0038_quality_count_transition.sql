-- 0038 (issue 14): linkage.quality_count's statement triggers (0027) aggregate their transition
-- tables directly. They passed them to linkage.quality_apply as arrays of linkage.record_quality
-- (every row of a batch made into a composite value, then unnested again): half the time of the
-- trigger (a batch of 455 records: 8 ms a call with the arrays, 4 ms without, PostgreSQL 15 on a
-- copy of a 100,000-record benchmark). The counts are the same: a statement inserting facts adds
-- each fact with a period to its cells ('all' and each declared breakdown's category); one
-- updating them adds the rows after and subtracts the rows before, leaves out the cells whose
-- change is nought, and deletes a cell whose counts all reach 0. Upserted in key order, as before
-- (two linkage instances lock cells in one order; a deadlock, 40P01, is retried). An UPDATE that
-- changed no row (linkage.quality_methods finding every method right) costs no statement more.

CREATE OR REPLACE FUNCTION linkage.quality_count_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- every fact counts 1 in records or in withheld_opt_out: no cell's change is nought
  WITH d AS (
    SELECT x.audit, x.period, x.trust, x.site, b.breakdown, b.category,
      count(*) FILTER (WHERE NOT x.withheld) AS records,
      count(*) FILTER (WHERE NOT x.withheld AND x.method = 'nhs_number') AS nhs_number,
      count(*) FILTER (WHERE NOT x.withheld AND x.method = 'probabilistic') AS probabilistic,
      count(*) FILTER (WHERE NOT x.withheld AND x.method = 'singleton') AS singleton,
      count(*) FILTER (WHERE NOT x.withheld AND x.death_matched) AS death_matched,
      count(*) FILTER (WHERE x.withheld) AS withheld_opt_out
    FROM new_rows x CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_quintile', x.imd_quintile),
      ('ethnicity', x.ethnicity), ('sex', x.sex), ('age', x.age)) AS b(breakdown, category)
    WHERE x.period <> '' AND (b.breakdown = 'all' OR b.category <> '')
    GROUP BY 1, 2, 3, 4, 5, 6)
  INSERT INTO linkage.quality_count AS c
    SELECT * FROM d ORDER BY audit, period, trust, site, breakdown, category
  ON CONFLICT (audit, period, trust, site, breakdown, category) DO UPDATE SET
    records = c.records + excluded.records,
    nhs_number = c.nhs_number + excluded.nhs_number,
    probabilistic = c.probabilistic + excluded.probabilistic,
    singleton = c.singleton + excluded.singleton,
    death_matched = c.death_matched + excluded.death_matched,
    withheld_opt_out = c.withheld_opt_out + excluded.withheld_opt_out;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION linkage.quality_count_update() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM new_rows) THEN
    RETURN NULL;
  END IF;
  WITH x AS (SELECT n.*, 1 AS s FROM new_rows n UNION ALL SELECT o.*, -1 FROM old_rows o),
  d AS (
    SELECT x.audit, x.period, x.trust, x.site, b.breakdown, b.category,
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
  DELETE FROM linkage.quality_count c
    USING (SELECT DISTINCT o.audit, o.period, o.trust, o.site FROM old_rows o) u
    WHERE (c.audit, c.period, c.trust, c.site) = (u.audit, u.period, u.trust, u.site)
    AND c.records = 0 AND c.withheld_opt_out = 0;
  RETURN NULL;
END $$;

-- The triggers call the functions above now; nothing else called this one.
DROP FUNCTION linkage.quality_apply(linkage.record_quality[], linkage.record_quality[]);
