-- 0026: the selection ledger (issue 15): a release states what its figures leave out. Records
-- whose validation failed now count in metric.aggregate (and metric.contribution), once each, under
-- the metric id '!rejected' (services/metric/contribution.h CONTRIBUTION_REJECTED: numerator 0,
-- denominator 1, breakdown 'all', per trust, site and month of the record's period field), so that
-- publish reads them as sums like every other count and never a record (latest.csv's `rejected`,
-- README.md "latest.csv"). No new table and no new grant: publish already reads metric.aggregate.
--
-- An existing deployment: metric took its invalid records and kept nothing of them. Forgetting
-- that it took them (metric.processed) and lowering their applied link revision below any real one
-- (-1) makes metric take each again and count it; the valid ones are not touched. Its watermark
-- goes back to the start so that its sweep finds them (0018). On a new database these do nothing
-- but move the watermark, which is at the start already.
DELETE FROM metric.processed p USING metric.record_state s
  WHERE s.record_id = p.record_id AND s.version = p.version AND NOT s.valid;
UPDATE metric.record_state SET link_revision = -1 WHERE NOT valid;
UPDATE metric.watermark SET write_xid = '0', record_id = 0, version = 0;

-- The delay ledger (issue 15): per audit, period and trust, how long records take from the
-- clinical event (the definition's period field) to submission (ingest's receipt of the record
-- version), and from submission to publication (the round whose releases first include that
-- version: publish.seen's published_at). Kept as histograms, never per record: publish reads the
-- counts per delay and writes delays.csv (median and 90th percentile) beside each period's latest
-- release. metric states each record's event time (it reads the period field already); a trigger on
-- publish.seen, in publish's own transaction, adds each newly published record version to the
-- histograms. The trigger's function runs with its owner's rights (SECURITY DEFINER) to look up the
-- version's receipt time (ingest.raw_record) and its event time and trust (metric.record_state) by
-- key: publish itself gets no right on either and sees only the counts. Cost: two index lookups and
-- two upserts per record version published. A version published before this migration is in no
-- histogram; a new link revision of a version already published (a death loaded later) counts
-- nothing again.
ALTER TABLE metric.record_state ADD COLUMN event_at timestamptz;

-- delay_s, the delay rounded down to its bucket (seconds): event to submission in whole days
-- (86400 s); submission to publication in whole seconds below an hour, whole minutes below a day,
-- whole hours beyond. records: how many record versions had that delay.
CREATE TABLE publish.delay (
  audit   text NOT NULL,
  period  text NOT NULL,
  trust   text NOT NULL,
  stage   text NOT NULL CHECK (stage IN ('event_to_submission', 'submission_to_publication')),
  delay_s bigint NOT NULL,
  records bigint NOT NULL CHECK (records > 0),
  PRIMARY KEY (audit, period, trust, stage, delay_s)
);

-- The hash of each period's delays.csv as last written: written again only when it changes.
CREATE TABLE publish.delay_export (
  audit        text NOT NULL,
  period       text NOT NULL,
  content_hash text NOT NULL,
  PRIMARY KEY (audit, period)
);

CREATE FUNCTION publish.delay_count() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog, pg_temp AS $$
DECLARE
  received timestamptz;
  event    timestamptz;
  unit     text;
  s        bigint;
BEGIN
  IF NEW.period IS NULL OR (TG_OP = 'UPDATE' AND OLD.version = NEW.version) THEN
    RETURN NULL;
  END IF;
  SELECT r.ingested_at INTO received FROM ingest.raw_record r
    WHERE r.record_id = NEW.record_id AND r.version = NEW.version;
  SELECT m.event_at, m.trust INTO event, unit FROM metric.record_state m
    WHERE m.record_id = NEW.record_id AND m.version = NEW.version;
  IF received IS NULL OR unit IS NULL THEN
    RETURN NULL;
  END IF;
  IF event IS NOT NULL THEN
    s := floor(extract(epoch FROM received - event) / 86400) * 86400;
    INSERT INTO publish.delay AS d VALUES (NEW.audit, NEW.period, unit, 'event_to_submission', s, 1)
      ON CONFLICT (audit, period, trust, stage, delay_s) DO UPDATE SET records = d.records + 1;
  END IF;
  s := greatest(floor(extract(epoch FROM NEW.published_at - received)), 0);
  s := CASE WHEN s < 3600 THEN s WHEN s < 86400 THEN s / 60 * 60 ELSE s / 3600 * 3600 END;
  INSERT INTO publish.delay AS d
    VALUES (NEW.audit, NEW.period, unit, 'submission_to_publication', s, 1)
    ON CONFLICT (audit, period, trust, stage, delay_s) DO UPDATE SET records = d.records + 1;
  RETURN NULL;
END $$;
REVOKE ALL ON FUNCTION publish.delay_count() FROM PUBLIC;
CREATE TRIGGER seen_delay AFTER INSERT OR UPDATE ON publish.seen
  FOR EACH ROW EXECUTE FUNCTION publish.delay_count();

GRANT SELECT ON publish.delay TO ncap_publish;
GRANT SELECT, INSERT, UPDATE ON publish.delay_export TO ncap_publish;

-- Case ascertainment (issue 15): the cases each trust was expected to submit per period, from
-- another source (e.g. hospital episode statistics), loaded by the operator with `ncap refdata
-- load expected --audit A FILE` (which replaces the audit's rows in one transaction). Publish
-- reads them beside its record counts (metric.aggregate's metric '') and writes ascertainment.csv
-- (records / expected, rated against the definition's ascertainment_threshold) with the releases.
CREATE TABLE publish.expected_cases (
  audit     text NOT NULL,
  trust     text NOT NULL CHECK (trust ~ '^[A-Z0-9]{3}$'),
  period    text NOT NULL CHECK (period ~ '^[0-9]{4}(Q[1-4])?$'),
  expected  bigint NOT NULL CHECK (expected >= 0),
  loaded_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (audit, trust, period)
);
CREATE TABLE publish.ascertainment_export (
  audit        text NOT NULL,
  period       text NOT NULL,
  content_hash text NOT NULL,
  PRIMARY KEY (audit, period)
);
ALTER TABLE linkage.refdata_load DROP CONSTRAINT refdata_load_kind_check,
  ADD CONSTRAINT refdata_load_kind_check
  CHECK (kind IN ('deaths', 'optouts', 'imd', 'ods', 'expected'));
GRANT SELECT ON publish.expected_cases TO ncap_publish;
GRANT SELECT, INSERT, UPDATE ON publish.ascertainment_export TO ncap_publish;
