-- 0028 (issue 15): a final release's late.csv kept up to date, `ncap release diff` telling a
-- death loaded from a new pseudonymisation key, and the ledgers (delays.csv, ascertainment.csv)
-- kept with each revision. (0027 is left to another change made alongside.)

-- ---- late.csv against the final ----
-- The records of a final's year with a version received after its cutoff, one row each, so that
-- late.csv (per trust and quarter, records added and corrected) counts every record that came
-- late, also those received after the final was made: `ncap release finalise` writes the ones it
-- finds, in its transaction; then a trigger on publish.seen, in publish's transaction, adds each
-- record whose newly published version was received after the cutoff (moved to its new quarter,
-- or taken off when it left the year). publish writes late.csv from these rows after a round when
-- it changed (its hash in final_late_export; period is 'final/<year>', the file's folder under
-- the audit's). publish.final.late_csv keeps late.csv as it stood when the final was made. Record
-- ids are publish's own keys already (publish.seen); the file has counts only.
CREATE TABLE publish.final_late (
  audit     text NOT NULL,
  year      integer NOT NULL,
  record_id bigint NOT NULL,
  trust     text NOT NULL,
  period    text NOT NULL,
  -- a version of the record was received by the cutoff: corrected; else added
  corrected boolean NOT NULL,
  PRIMARY KEY (audit, year, record_id)
);
CREATE TABLE publish.final_late_export (
  audit        text NOT NULL,
  period       text NOT NULL,
  content_hash text NOT NULL,
  PRIMARY KEY (audit, period)
);

-- Runs with its owner's rights to read the version's receipt time (ingest.raw_record) and trust
-- (metric.record_state) by key, as publish.delay_count does: publish gets no right on either.
-- Cost: one lookup of the audit's finals per published version; two index lookups and an upsert
-- only where a final of the audit exists.
CREATE FUNCTION publish.final_late_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  f        record;
  received timestamptz;
  unit     text;
BEGIN
  IF TG_OP = 'UPDATE' AND OLD.version = NEW.version
     AND OLD.period IS NOT DISTINCT FROM NEW.period THEN
    RETURN NULL; -- a link revision: the same version in the same quarter
  END IF;
  FOR f IN SELECT year, cutoff FROM publish.final WHERE audit = NEW.audit LOOP
    IF received IS NULL THEN
      SELECT r.ingested_at INTO received FROM ingest.raw_record r
        WHERE r.record_id = NEW.record_id AND r.version = NEW.version;
      IF received IS NULL THEN
        RETURN NULL;
      END IF;
    END IF;
    IF received <= f.cutoff THEN
      CONTINUE; -- in the final as received (or an older version of it is)
    END IF;
    IF NEW.period IN (f.year || 'Q2', f.year || 'Q3', f.year || 'Q4', (f.year + 1) || 'Q1') THEN
      SELECT m.trust INTO unit FROM metric.record_state m WHERE m.record_id = NEW.record_id;
      INSERT INTO publish.final_late AS l
        SELECT NEW.audit, f.year, NEW.record_id, coalesce(unit, ''), NEW.period,
               EXISTS (SELECT 1 FROM ingest.raw_record e WHERE e.record_id = NEW.record_id
                       AND e.ingested_at <= f.cutoff)
        ON CONFLICT (audit, year, record_id) DO UPDATE SET period = EXCLUDED.period,
          trust = EXCLUDED.trust;
    ELSE
      DELETE FROM publish.final_late l WHERE l.audit = NEW.audit AND l.year = f.year
        AND l.record_id = NEW.record_id;
    END IF;
  END LOOP;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION publish.final_late_count() FROM PUBLIC;
CREATE TRIGGER seen_final_late AFTER INSERT OR UPDATE ON publish.seen
  FOR EACH ROW EXECUTE FUNCTION publish.final_late_count();

GRANT SELECT ON publish.final_late TO ncap_publish;
GRANT SELECT (audit, year) ON publish.final TO ncap_publish;
GRANT SELECT, INSERT, UPDATE ON publish.final_late_export TO ncap_publish;

-- ---- why a record was relinked ----
-- A link revision re-derives a record's linked values (a death loaded or removed, the register's
-- coverage reaching its follow-up: the payload changes) or gives it a new pseudonym under a new
-- key (linkage's rekey sweep: the payload stays). payload_revision is the revision at which the
-- payload last changed, set by the trigger below on every path that makes a revision, so that
-- publish can tell the two apart: a relink whose payload revision is newer than the revision the
-- releases reflected is "deaths loaded", one whose payload is older only re-keyed. Rows from
-- before this migration have none (NULL) until their next revision, which takes their revision
-- then as the payload's (an older revision counted as a death loaded, as before).
ALTER TABLE linkage.pseudo_record ADD COLUMN payload_revision integer;
ALTER TABLE linkage.pseudo_record ALTER COLUMN payload_revision SET DEFAULT 0;

CREATE FUNCTION linkage.payload_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.payload IS DISTINCT FROM OLD.payload THEN
    NEW.payload_revision := NEW.revision;
  ELSIF OLD.payload_revision IS NULL THEN
    NEW.payload_revision := OLD.revision;
  END IF;
  RETURN NEW;
END $$;
REVOKE ALL ON FUNCTION linkage.payload_revision() FROM PUBLIC;
CREATE TRIGGER pseudo_record_payload_revision BEFORE UPDATE ON linkage.pseudo_record
  FOR EACH ROW WHEN (NEW.revision <> OLD.revision)
  EXECUTE FUNCTION linkage.payload_revision();

-- The revision at which a record version's payload last changed, for publish (a number, no
-- identifier), with its owner's rights: publish reads nothing of linkage otherwise. NULL when
-- linkage holds no such version.
CREATE FUNCTION publish.link_payload_revision(rid bigint, ver integer) RETURNS integer
LANGUAGE sql STABLE SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
  SELECT coalesce(p.payload_revision, p.revision) FROM linkage.pseudo_record p
    WHERE p.record_id = rid AND p.version = ver
$$;
REVOKE ALL ON FUNCTION publish.link_payload_revision(bigint, integer) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION publish.link_payload_revision(bigint, integer) TO ncap_publish;

-- The counts of why a revision changed (0025) get the re-keyed records apart: relinked now
-- counts the link revisions that changed a record's linked values (deaths loaded), rekeyed those
-- that gave it a new pseudonym only. Revisions before this migration have rekeyed 0.
ALTER TABLE publish.pending_change ADD COLUMN rekeyed integer NOT NULL DEFAULT 0;
ALTER TABLE publish.release_change ADD COLUMN rekeyed integer NOT NULL DEFAULT 0;
-- UPDATE: a pruned revision's counts are added to the oldest revision kept, so that a diff from a
-- final to a later revision still counts what changed in between
GRANT UPDATE ON publish.release_change TO ncap_publish;

-- ---- the ledgers kept with each revision ----
-- A revision's folder holds the period's delays.csv and ascertainment.csv as they stood when it
-- was made (a final's quarter ascertainment.csv at its cutoff): stored with its other files.
ALTER TABLE publish.release_file DROP CONSTRAINT release_file_name_check,
  ADD CONSTRAINT release_file_name_check CHECK (name IN ('latest.csv', 'latest.json',
    'fingertips.csv', 'spc.csv', 'spc_summary.csv', 'delays.csv', 'ascertainment.csv'));
