-- 0054 (issue 14): validation's history rules find a patient's other records of an audit by a hash
-- index on the pseudonym (services/validation/history_store.c) instead of the B-tree of 0005 over
-- (audit, pseudonym, record_id, version DESC). The lookup is only ever by equality of the
-- pseudonym (the audit, the record and the latest version are checked on the rows it finds, a
-- patient's few), and a pseudonym is 64 hex characters of an HMAC: the B-tree's entries were the
-- widest of any index a record adds (14 MB of the 100,000-record benchmark's 110 MB schema),
-- each inserted at a random place. A hash index holds a 4-byte hash code a row and inserts into
-- its bucket. Measured on that benchmark's rows (100,000, upserted in 200 batches of 500 as
-- validation stores them, twice each alternately): 0.98-0.99 s with the B-tree, 0.73-0.77 s
-- with the hash index, 0.64-0.67 s with neither. Hash indexes are WAL-logged and crash-safe
-- since PostgreSQL 10. On a large table this builds the index under a lock validation waits for:
-- about a second per million records.
DROP INDEX validation.validation_record_patient_idx;
CREATE INDEX validation_record_pseudonym_idx ON validation.record USING hash (pseudonym);
