-- 0036 (issue 14): less work per record on linkage's write path.
--
-- linkage.link without its foreign key to linkage.patient, as linkage.block since 0035. A link's
-- patient_id is the id the batch's own INSERT INTO linkage.patient returned or one read from
-- linkage.block (patient_index.c), and a merge (0032) moves links only to a patient read from
-- there too; no patient is ever deleted (linkage has no DELETE on linkage.patient, 0012). So the
-- key checked nothing that can happen, and cost per record a query of the patient through SPI, a
-- row lock on it (FOR KEY SHARE: a WAL record, and the patient's page dirtied again) and the
-- trigger's queue entry: about 3 ms of CPU a batch of 500 records (PostgreSQL 15, measured on a
-- copy of a 100,000-record benchmark). linkage.death_link and linkage.patient.merged_into keep
-- theirs: a handful of rows, written by the death sweep and merges.
ALTER TABLE linkage.link DROP CONSTRAINT IF EXISTS link_patient_id_fkey;

-- Room on each page of linkage.record_quality for the updates that follow its inserts: a held
-- patient's record changes method when another record of its patient arrives (0030), and the
-- death sweep sets death_matched. With full pages such an update writes the new version on
-- another page and a new entry in both indexes (58 % of them at 100,000 records); with room it is
-- a heap-only update. Pages written from now on keep 10 % free; existing ones are unchanged.
ALTER TABLE linkage.record_quality SET (fillfactor = 90);

-- linkage.quality_count: one row per cell, every row updated again and again (0027's triggers),
-- never by an index column: room for those updates to stay on the page.
ALTER TABLE linkage.quality_count SET (fillfactor = 70);
