-- 0035 (issue 14): linkage.block without its foreign key to linkage.patient. Every row of the
-- patient index is written by patient_index.c in the statement that creates the batch's new
-- patients (their ids come from that insert) or with the id of a patient read from linkage.block
-- itself, and no patient is ever deleted (0012 grants linkage no DELETE on linkage.patient), so
-- the key checked nothing that can happen; it cost a lookup of the patient and a row lock on it
-- (FOR KEY SHARE) per row stored, about four per record. linkage.link keeps its foreign key: one
-- row per record, and what every other stage's data hangs on.
ALTER TABLE linkage.block DROP CONSTRAINT IF EXISTS block_patient_id_fkey;
