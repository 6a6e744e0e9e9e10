-- 0043 (issue 14): ingest.raw_record without its foreign keys to ingest.record and
-- ingest.submission, as linkage.block and linkage.link since 0035 and 0036. Data kept: only the
-- two constraints go.
--
-- Every raw row is written by ingest_store.c's versioning statement with the id of a record it
-- has just made or locked in the same transaction, and the id of the submission that transaction
-- inserted; ingest may not delete a record or a submission (0012), and nothing else does. So the
-- keys checked nothing that can happen, and cost per record version stored two queries through
-- SPI and two row locks: 75-95 ms of the statement's 545-650 ms for a file of 3,205 new records
-- (EXPLAIN ANALYZE, PostgreSQL 15, on a copy of a 100,000-record benchmark).
ALTER TABLE ingest.raw_record DROP CONSTRAINT IF EXISTS raw_record_record_id_fkey,
  DROP CONSTRAINT IF EXISTS raw_record_submission_id_fkey;
