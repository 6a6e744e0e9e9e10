-- 0055 (issue 14): linkage's quality counts (0027, 0038) appended as changes, folded after the
-- commit, so that two linkage instances no longer wait for each other's whole transaction.
--
-- The triggers of linkage.record_quality upserted each cell of linkage.quality_count (a trust's
-- site, period, breakdown and category) in the transaction that wrote the facts. A batch of 500
-- records touches most of the cells of its period, so a second instance's batch waited on the
-- first one's row locks until it committed: with `tests/bench/pipeline.sh --linkage 2`, that wait
-- (linkage.quality_methods' and the facts' statements on a transaction id) was the larger part of
-- linkage's time once a busy blocking key no longer made a batch wait (linkage_stage.c,
-- defer_busy). Now a statement appends its changes per cell to linkage.quality_delta (no key, no
-- index: an insert never waits), and linkage.quality_fold, in a transaction of its own after a
-- batch's or the sweep's commit (at most every second an instance: LINKAGE_FOLD_MS), moves them
-- into linkage.quality_count. publish reads the counts through publish.linkage_quality, which
-- adds the changes not yet folded: the same figures at every moment as before (one snapshot sees
-- a fold's delete and its upsert together).

CREATE TABLE linkage.quality_delta (
  audit            text NOT NULL,
  period           text NOT NULL,
  trust            text NOT NULL,
  site             text NOT NULL,
  breakdown        text NOT NULL,
  category         text NOT NULL,
  records          bigint NOT NULL,
  nhs_number       bigint NOT NULL,
  probabilistic    bigint NOT NULL,
  singleton        bigint NOT NULL,
  death_matched    bigint NOT NULL,
  withheld_opt_out bigint NOT NULL
);
-- publish's view reads a period's changes by this index: the table holds a second's changes
-- live, but every change folded stays a dead row until it is vacuumed (autovacuum looks once a
-- minute), and a scan of the whole table read them all (8 ms for each period publish rebuilt, in
-- a 100,000-record benchmark, with nothing left to fold). An index scan visits a dead entry once.
CREATE INDEX quality_delta_period_idx ON linkage.quality_delta (audit, period);
-- Every row is deleted within a second or so of its insert, and its page is only reused, or
-- given back, once vacuumed: the fold's scan reads the pages emptied since (a 100,000-record run
-- left 2.8 MB behind its last vacuum, 0.6-1 ms of each fold after it). Vacuumed at autovacuum's
-- next look (once a minute) once a thousand rows wait, whatever the table held when last
-- vacuumed (the default, 50 and a fifth of the rows it then held, grows with a backlog's).
ALTER TABLE linkage.quality_delta SET (autovacuum_vacuum_threshold = 1000,
                                       autovacuum_vacuum_scale_factor = 0);

-- The triggers' sums as before (0038), appended rather than upserted.
CREATE OR REPLACE FUNCTION linkage.quality_count_insert() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  -- every fact counts 1 in records or in withheld_opt_out: no cell's change is nought
  INSERT INTO linkage.quality_delta
    SELECT x.audit, x.period, x.trust, x.site, b.breakdown, b.category,
      count(*) FILTER (WHERE NOT x.withheld),
      count(*) FILTER (WHERE NOT x.withheld AND x.method = 'nhs_number'),
      count(*) FILTER (WHERE NOT x.withheld AND x.method = 'probabilistic'),
      count(*) FILTER (WHERE NOT x.withheld AND x.method = 'singleton'),
      count(*) FILTER (WHERE NOT x.withheld AND x.death_matched),
      count(*) FILTER (WHERE x.withheld)
    FROM new_rows x CROSS JOIN LATERAL (VALUES ('all', ''), ('imd_quintile', x.imd_quintile),
      ('ethnicity', x.ethnicity), ('sex', x.sex), ('age', x.age)) AS b(breakdown, category)
    WHERE x.period <> '' AND (b.breakdown = 'all' OR b.category <> '')
    GROUP BY 1, 2, 3, 4, 5, 6;
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
  INSERT INTO linkage.quality_delta
    SELECT * FROM d WHERE (records, nhs_number, probabilistic, singleton, death_matched,
      withheld_opt_out) <> (0, 0, 0, 0, 0, 0);
  RETURN NULL;
END $$;

-- Moves the changes appended so far into linkage.quality_count: each deleted by one fold only (a
-- second fold at once waits for the first's row locks and skips what it deleted), summed per cell
-- and upserted in key order; a cell whose counts all reach 0 is deleted, as the triggers did
-- before. O(changes since the last fold). Returns the changes folded.
CREATE FUNCTION linkage.quality_fold() RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  folded bigint;
  emptied linkage.quality_count[];
BEGIN
  WITH moved AS (DELETE FROM linkage.quality_delta RETURNING *),
  d AS (
    SELECT audit, period, trust, site, breakdown, category, sum(records) AS records,
      sum(nhs_number) AS nhs_number, sum(probabilistic) AS probabilistic,
      sum(singleton) AS singleton, sum(death_matched) AS death_matched,
      sum(withheld_opt_out) AS withheld_opt_out, count(*) AS n
    FROM moved GROUP BY 1, 2, 3, 4, 5, 6),
  up AS (
    INSERT INTO linkage.quality_count AS c
      SELECT audit, period, trust, site, breakdown, category, records, nhs_number, probabilistic,
        singleton, death_matched, withheld_opt_out
      FROM d WHERE (records, nhs_number, probabilistic, singleton, death_matched,
        withheld_opt_out) <> (0, 0, 0, 0, 0, 0)
      ORDER BY audit, period, trust, site, breakdown, category
    ON CONFLICT (audit, period, trust, site, breakdown, category) DO UPDATE SET
      records = c.records + excluded.records,
      nhs_number = c.nhs_number + excluded.nhs_number,
      probabilistic = c.probabilistic + excluded.probabilistic,
      singleton = c.singleton + excluded.singleton,
      death_matched = c.death_matched + excluded.death_matched,
      withheld_opt_out = c.withheld_opt_out + excluded.withheld_opt_out
    RETURNING c.*)
  SELECT (SELECT coalesce(sum(n), 0) FROM d),
    ARRAY(SELECT ROW(up.*)::linkage.quality_count FROM up
      WHERE up.records = 0 AND up.withheld_opt_out = 0)
    INTO folded, emptied;
  IF cardinality(emptied) > 0 THEN
    DELETE FROM linkage.quality_count c USING unnest(emptied) e
      WHERE (c.audit, c.period, c.trust, c.site, c.breakdown, c.category)
        = (e.audit, e.period, e.trust, e.site, e.breakdown, e.category)
      AND c.records = 0 AND c.withheld_opt_out = 0;
  END IF;
  RETURN folded;
END $$;
REVOKE ALL ON FUNCTION linkage.quality_fold() FROM PUBLIC;
GRANT EXECUTE ON FUNCTION linkage.quality_fold() TO ncap_linkage;

-- What publish sees: the counts with the changes not yet folded, a cell whose counts all sum to 0
-- left out (as the triggers deleted it). A period's cells by quality_count's primary key, plus
-- the changes waiting (a sweep's worth).
CREATE OR REPLACE VIEW publish.linkage_quality AS
  SELECT audit, period, trust, site, breakdown, category, sum(records)::bigint AS records,
         sum(nhs_number)::bigint AS nhs_number, sum(probabilistic)::bigint AS probabilistic,
         sum(singleton)::bigint AS singleton, sum(death_matched)::bigint AS death_matched,
         sum(withheld_opt_out)::bigint AS withheld_opt_out
  FROM (SELECT audit, period, trust, site, breakdown, category, records, nhs_number,
               probabilistic, singleton, death_matched, withheld_opt_out
        FROM linkage.quality_count
        UNION ALL
        SELECT audit, period, trust, site, breakdown, category, records, nhs_number,
               probabilistic, singleton, death_matched, withheld_opt_out
        FROM linkage.quality_delta) c
  GROUP BY audit, period, trust, site, breakdown, category
  HAVING sum(records) <> 0 OR sum(withheld_opt_out) <> 0;
