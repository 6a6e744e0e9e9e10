-- 0043 (issue 14): less work per record on ingest's and validation's write paths. Data kept: no
-- row changes; the indexes on validation.record's pseudonym are rebuilt (no table rewrite).
--
-- ingest.raw_record without its foreign keys to ingest.record and ingest.submission, as
-- linkage.block and linkage.link since 0035 and 0036. Every raw row is written by
-- ingest_store.c's versioning statement with the id of a record it has just made or locked in
-- the same transaction, and the id of the submission that transaction inserted; ingest may not
-- delete a record or a submission (0012), and nothing else does. So the keys checked nothing that
-- can happen, and cost two queries through SPI and two row locks per record version stored
-- (about 80 ms of a 3,200-row file's 550 ms versioning statement, PostgreSQL 15, measured on a
-- copy of a 100,000-record benchmark).
ALTER TABLE ingest.raw_record DROP CONSTRAINT IF EXISTS raw_record_record_id_fkey,
  DROP CONSTRAINT IF EXISTS raw_record_submission_id_fkey;

-- validation.record's pseudonym in the "C" collation. A pseudonym is a hex digest: compared only
-- for equality (history rules, a re-keyed patient), never sorted for anyone to read, and equal
-- under every deterministic collation alike. Under the database's linguistic collation each
-- comparison in the patient index (audit, pseudonym, record_id, version) was a strcoll() call,
-- some twenty per row stored, at random places in the index: about a quarter of the CPU of
-- validation's INSERT (5 of 24 us a row, same copy). Byte comparison makes the same index.
ALTER TABLE validation.record ALTER COLUMN pseudonym TYPE text COLLATE "C";
