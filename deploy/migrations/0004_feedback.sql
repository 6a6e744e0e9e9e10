-- 0004: feedback flows back to the submitter. ncap-ingestd answers a trust's `ncap feedback` with
-- every problem of its submission from every stage, so its role reads the problems linkage and
-- validation keep. Those tables carry no identifiers: linkage's problems name the identifier
-- field but never its value, and validation never sees identifiers. Of validation.record ingest
-- reads only the columns that say how far a record has got and whether it was rejected, never the
-- pseudonym or the payload (ingest holds the identities: pseudonym beside them would undo it).

GRANT USAGE ON SCHEMA linkage, validation TO ncap_ingest;
GRANT SELECT ON linkage.problem, validation.problem TO ncap_ingest;
GRANT SELECT (record_id, version, submission_id, valid) ON validation.record TO ncap_ingest;

-- Feedback finds a submission's problems by submission; validation.problem has this index already.
CREATE INDEX IF NOT EXISTS linkage_problem_sub_idx ON linkage.problem (submission_id);
-- ... and how far its stored records have got.
CREATE INDEX IF NOT EXISTS raw_record_sub_idx ON ingest.raw_record (submission_id);
CREATE INDEX IF NOT EXISTS validation_record_sub_idx ON validation.record (submission_id);
