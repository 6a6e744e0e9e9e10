-- 0008: link revisions. A death loaded (or removed) after a patient's records were passed on
-- changes their linked date_of_death: linkage re-derives the latest version of each such record in
-- place and counts a revision; every stage downstream takes a revision newer than the one it holds
-- (found through its backlog like any record, DESIGN.md invariant 2).

-- linkage: the revision of each pseudonymised record version (0 when first linked).
ALTER TABLE linkage.pseudo_record ADD COLUMN revision integer NOT NULL DEFAULT 0;

-- Deaths linkage's death sweep has not yet compared with the patients already held (a death
-- loaded after them); NULL until then.
ALTER TABLE linkage.death ADD COLUMN considered_at timestamptz;
CREATE INDEX death_unconsidered_idx ON linkage.death (death_id) WHERE considered_at IS NULL;

-- Patients whose death link changed (linked, taken over, removed with its death by a reload):
-- the death sweep re-derives date_of_death of their records. Filled by the trigger below, so
-- that no path that changes linkage.death_link (a record's batch, the sweep, a cascade from a
-- reload of the register) can forget it. No identifiers: patient ids only.
CREATE TABLE linkage.death_recheck (
  patient_id bigint PRIMARY KEY,
  queued_at  timestamptz NOT NULL DEFAULT now()
);

CREATE FUNCTION linkage.death_link_queue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP IN ('UPDATE', 'DELETE') THEN
    INSERT INTO linkage.death_recheck (patient_id) VALUES (OLD.patient_id) ON CONFLICT DO NOTHING;
  END IF;
  IF TG_OP IN ('UPDATE', 'INSERT') THEN
    INSERT INTO linkage.death_recheck (patient_id) VALUES (NEW.patient_id) ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END $$;

CREATE TRIGGER death_link_queue AFTER INSERT OR UPDATE OR DELETE ON linkage.death_link
  FOR EACH ROW EXECUTE FUNCTION linkage.death_link_queue();

-- The sweep finds a patient's records by patient.
CREATE INDEX link_patient_idx ON linkage.link (patient_id);

-- validation: the link revision each record version was validated at.
ALTER TABLE validation.record ADD COLUMN link_revision integer NOT NULL DEFAULT 0;

-- metric: the link revision taken in, and the one applied.
ALTER TABLE metric.processed ADD COLUMN link_revision integer NOT NULL DEFAULT 0;
ALTER TABLE metric.record_state ADD COLUMN link_revision integer NOT NULL DEFAULT 0;

-- publish: the link revision the releases reflect.
ALTER TABLE publish.seen ADD COLUMN link_revision integer NOT NULL DEFAULT 0;

GRANT SELECT, INSERT, UPDATE, DELETE ON linkage.death_recheck TO ncap_linkage;
