-- 0039 (issue 14): a final release's rows and files kept immutable per statement, not per row.
--
-- publish prunes a period's older provisional revisions each round (about 1,100 rows of
-- publish.output and 7 files a revision): the row trigger of 0025 ran a PL/pgSQL function and a
-- lookup of the release for every row deleted. The same guarantee now comes from one check per
-- statement over the rows it changed or deleted (its transition table): the statement fails, and
-- nothing of it is kept, when one of them belongs to a final release, with the same error.
-- publish.release and publish.final keep their row triggers (a handful of rows a statement).
CREATE FUNCTION publish.final_rows_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  final_id bigint;
BEGIN
  SELECT r.release_id INTO final_id FROM publish.release r
    WHERE r.release_id IN (SELECT DISTINCT o.release_id FROM old_rows o) AND r.status = 'final'
    ORDER BY r.release_id LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'release % is final: it is never changed or deleted', final_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION publish.final_rows_immutable() FROM PUBLIC;

DROP TRIGGER final_immutable ON publish.output;
DROP TRIGGER final_immutable ON publish.release_file;
-- (a trigger with a transition table takes one event: one for updates, one for deletes)
CREATE TRIGGER final_immutable_update AFTER UPDATE ON publish.output
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.final_rows_immutable();
CREATE TRIGGER final_immutable_delete AFTER DELETE ON publish.output
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.final_rows_immutable();
CREATE TRIGGER final_immutable_update AFTER UPDATE ON publish.release_file
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.final_rows_immutable();
CREATE TRIGGER final_immutable_delete AFTER DELETE ON publish.release_file
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.final_rows_immutable();

-- publish.seen's ledgers (0033): a statement's trigger asks delay_add (a SQL function, planned
-- again at each call: a few ms) only when the statement has record versions to count. A round's
-- upsert of publish.seen fires both triggers, the one of its updates mostly with no new version.
-- What they count is unchanged.
CREATE OR REPLACE FUNCTION publish.seen_inserted() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ids bigint[];
  versions integer[];
  audits text[];
  periods text[];
  published timestamptz[];
BEGIN
  SELECT array_agg(record_id), array_agg(version), array_agg(audit), array_agg(period),
         array_agg(published_at)
    INTO ids, versions, audits, periods, published FROM new_rows;
  IF ids IS NULL THEN
    RETURN NULL;
  END IF;
  PERFORM publish.delay_add(ids, versions, audits, periods, published);
  IF EXISTS (SELECT 1 FROM publish.final) THEN
    PERFORM publish.final_late_add(ids, versions, audits, periods);
  END IF;
  RETURN NULL;
END $$;

CREATE OR REPLACE FUNCTION publish.seen_updated() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  ids bigint[];
  versions integer[];
  audits text[];
  periods text[];
  published timestamptz[];
BEGIN
  SELECT array_agg(n.record_id), array_agg(n.version), array_agg(n.audit), array_agg(n.period),
         array_agg(n.published_at)
    INTO ids, versions, audits, periods, published
    FROM new_rows n JOIN old_rows o ON o.record_id = n.record_id WHERE o.version <> n.version;
  IF ids IS NOT NULL THEN
    PERFORM publish.delay_add(ids, versions, audits, periods, published);
  END IF;
  IF EXISTS (SELECT 1 FROM publish.final) THEN
    PERFORM publish.final_late_add(array_agg(n.record_id), array_agg(n.version),
                                   array_agg(n.audit), array_agg(n.period))
      FROM new_rows n JOIN old_rows o ON o.record_id = n.record_id
      WHERE o.version <> n.version OR o.period IS DISTINCT FROM n.period;
  END IF;
  RETURN NULL;
END $$;

-- publish.output's reference to its release, checked per statement. As a foreign key it ran a
-- query of publish.release through SPI and took a row lock for each row inserted (about 1,100 a
-- revision, 4 revisions a round: half the time of their COPY). The same rule now: the rows a
-- statement inserts or updates belong to releases that exist, locked as the key locked them
-- (FOR KEY SHARE: not deleted before this commits), and a statement that deletes or re-keys
-- releases leaves no rows of theirs; each fails with foreign_key_violation, as the key did. With
-- their owner's rights (publish may not lock releases FOR KEY SHARE itself).
ALTER TABLE publish.output DROP CONSTRAINT output_release_id_fkey;

CREATE FUNCTION publish.output_release_exists() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  missing bigint;
BEGIN
  PERFORM 1 FROM publish.release r
    WHERE r.release_id IN (SELECT DISTINCT n.release_id FROM new_rows n) FOR KEY SHARE;
  SELECT n.release_id INTO missing FROM (SELECT DISTINCT release_id FROM new_rows) n
    WHERE NOT EXISTS (SELECT 1 FROM publish.release r WHERE r.release_id = n.release_id)
    ORDER BY 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'rows of release % in publish.output: no such release', missing
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;

CREATE FUNCTION publish.release_rows_gone() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  kept bigint;
BEGIN
  SELECT o.release_id INTO kept FROM (SELECT DISTINCT release_id FROM old_rows) d
    JOIN LATERAL (SELECT x.release_id FROM publish.output x WHERE x.release_id = d.release_id
                  LIMIT 1) o ON true
    WHERE TG_OP = 'DELETE' OR NOT EXISTS (SELECT 1 FROM publish.release r
                                          WHERE r.release_id = d.release_id)
    ORDER BY 1 LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'release % still has rows in publish.output', kept
      USING ERRCODE = 'foreign_key_violation';
  END IF;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION publish.output_release_exists(), publish.release_rows_gone() FROM PUBLIC;

CREATE TRIGGER output_release_insert AFTER INSERT ON publish.output
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.output_release_exists();
CREATE TRIGGER output_release_update AFTER UPDATE ON publish.output
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.output_release_exists();
CREATE TRIGGER release_rows_delete AFTER DELETE ON publish.release
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.release_rows_gone();
CREATE TRIGGER release_rows_update AFTER UPDATE ON publish.release
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION publish.release_rows_gone();
