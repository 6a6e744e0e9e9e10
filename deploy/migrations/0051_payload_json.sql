-- 0051 (issue 14): the records' payloads are stored as json (their text, checked to be JSON),
-- not jsonb (parsed into a binary tree with its keys sorted). No statement looks inside a
-- payload on the stages' path: each stage reads the text and parses it itself
-- (message_record_from_json), and writes text ncap made (message_record_to_json: compact, keys
-- sorted, each once). jsonb parsed each payload as it was written (ingest's COPY, linkage's
-- pseudonymised records) and printed it back as text for every read (linkage, validation and
-- metric each read their upstream's): about 4.9 us a payload written and 3.1 us one read, against
-- 1.8 us and 0.1 us as json (100,000 NHFD payloads of 750 bytes, PostgreSQL 15 on this project's
-- bench machine): some 15 us a record of the pipeline's 410-490 us. validation.record copies
-- linkage's payload in SQL, so it takes json too.
--
-- json keeps the operators an operator reads a field with (payload->>'field'); those of jsonb
-- alone (payload ? 'field', @>) want payload::jsonb. The tables are rewritten here, under their
-- locks: the stages wait for it.
ALTER TABLE ingest.raw_record ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE linkage.pseudo_record ALTER COLUMN payload TYPE json USING payload::json;
ALTER TABLE validation.record ALTER COLUMN payload TYPE json USING payload::json;

-- json has no equality: a payload changed when its content did (as jsonb compares), whatever
-- the order of its keys (rows written before this migration have jsonb's).
CREATE OR REPLACE FUNCTION linkage.payload_revision() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.payload::jsonb IS DISTINCT FROM OLD.payload::jsonb THEN
    NEW.payload_revision := NEW.revision;
  ELSIF OLD.payload_revision IS NULL THEN
    NEW.payload_revision := OLD.revision;
  END IF;
  RETURN NEW;
END $$;
