-- 0025: the annual assured release (issue 15). `ncap release finalise --audit A --year Y` makes a
-- final release of financial year Y (the quarters YQ2, YQ3, YQ4 and (Y+1)Q1) from the record
-- versions received by a cutoff, in one transaction of the administrator's connection: a row of
-- publish.release (status 'final', final_year Y) with its files and rows per quarter, then the
-- year's row here, last. A final is never changed, pruned or deleted (the trigger below), and a
-- year is finalised once (the primary key).

CREATE TABLE publish.final (
  audit      text NOT NULL,
  year       integer NOT NULL,
  cutoff     timestamptz NOT NULL,
  records    integer NOT NULL,
  -- the record versions received after the cutoff and before the final was made, per trust and
  -- quarter (trust,period,added,corrected; no identifier), as late.csv in the final's folder
  late_csv   text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (audit, year)
);

ALTER TABLE publish.release ADD COLUMN final_year integer,
  ADD CONSTRAINT release_final_check CHECK ((status = 'final') = (final_year IS NOT NULL)),
  -- the releases are inserted before the year's row: the reference is checked at commit
  ADD CONSTRAINT release_final_fkey FOREIGN KEY (audit, final_year)
    REFERENCES publish.final (audit, year) DEFERRABLE INITIALLY DEFERRED;

-- What publish takes as a period's last provisional revision, and the finals of an audit.
CREATE INDEX release_status_idx ON publish.release (audit, period, status, revision);

-- A final release's rows, files and release row are never updated or deleted, whoever asks
-- (publish's pruning touches only provisional revisions; this makes it a guarantee).
CREATE FUNCTION publish.final_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_TABLE_NAME = 'release' THEN
    IF OLD.status = 'final' THEN
      RAISE EXCEPTION 'release % is final: it is never changed or deleted', OLD.release_id
        USING ERRCODE = 'integrity_constraint_violation';
    END IF;
  ELSIF EXISTS (SELECT 1 FROM publish.release r WHERE r.release_id = OLD.release_id
                AND r.status = 'final') THEN
    RAISE EXCEPTION 'release % is final: it is never changed or deleted', OLD.release_id
      USING ERRCODE = 'integrity_constraint_violation';
  END IF;
  RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
END $$;
REVOKE ALL ON FUNCTION publish.final_immutable() FROM PUBLIC;
CREATE TRIGGER final_immutable BEFORE UPDATE OR DELETE ON publish.release
  FOR EACH ROW EXECUTE FUNCTION publish.final_immutable();
CREATE TRIGGER final_immutable BEFORE UPDATE OR DELETE ON publish.output
  FOR EACH ROW EXECUTE FUNCTION publish.final_immutable();
CREATE TRIGGER final_immutable BEFORE UPDATE OR DELETE ON publish.release_file
  FOR EACH ROW EXECUTE FUNCTION publish.final_immutable();
CREATE FUNCTION publish.final_row_immutable() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the final release of % % is never changed or deleted', OLD.audit, OLD.year
    USING ERRCODE = 'integrity_constraint_violation';
END $$;
REVOKE ALL ON FUNCTION publish.final_row_immutable() FROM PUBLIC;
CREATE TRIGGER final_immutable BEFORE UPDATE OR DELETE ON publish.final
  FOR EACH ROW EXECUTE FUNCTION publish.final_row_immutable();

-- `ncap release diff`: why a revision's cells changed. In each round publish counts, per audit,
-- period and trust, the records its releases take in that are new to the period (added, or moved
-- in from another period), have a new version (corrected), a new link revision of the same
-- version (relinked: a death loaded or removed, a new pseudonymisation key), or have left the
-- period (withdrawn: their new version is in another period or has none); the counts wait in
-- pending_change until the period's next revision, which takes them (release_change). No record
-- id, only counts. publish reads the trust of a record's state for them (a trust's code is
-- public in every release).
CREATE TABLE publish.pending_change (
  audit     text NOT NULL,
  period    text NOT NULL,
  trust     text NOT NULL,
  added     integer NOT NULL,
  corrected integer NOT NULL,
  relinked  integer NOT NULL,
  withdrawn integer NOT NULL,
  PRIMARY KEY (audit, period, trust)
);
CREATE TABLE publish.release_change (
  release_id bigint NOT NULL REFERENCES publish.release,
  trust      text NOT NULL,
  added      integer NOT NULL,
  corrected  integer NOT NULL,
  relinked   integer NOT NULL,
  withdrawn  integer NOT NULL,
  PRIMARY KEY (release_id, trust)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON publish.pending_change TO ncap_publish;
-- DELETE: a pruned revision's
GRANT SELECT, INSERT, DELETE ON publish.release_change TO ncap_publish;
GRANT SELECT (trust) ON metric.record_state TO ncap_publish;
