-- 0030 (issue 18): a record's link method in the linkage quality report no longer depends on which
-- of its patient's records came first. 0027 counted as 'singleton' every record that matched no
-- patient and no record before it, so the first record of every patient seen twice was one. Now
-- the method is a fact of the patient's records as linkage holds them (README.md,
-- "linkage_quality.csv"), within the record's audit:
--   'singleton'     no other record of the audit (of any trust, withheld or not) is linked to
--                   the record's patient;
--   'nhs_number'    otherwise, when the record carries a valid NHS number and a date of birth
--                   (nhs_key) and another record of the patient in the audit carries the same
--                   two: what ties them is the deterministic match (link_ident_deterministic);
--   'probabilistic' otherwise.
-- So both records of a patient seen twice with the same NHS number and date of birth count as
-- linked by NHS number, and a record that starts a patient turns from singleton to linked when
-- the patient's second record arrives. linkage.quality_methods sets it for the records of the
-- patients a batch touched (their new and their previous patients), in linkage's transaction
-- (quality_store.c); 0027's triggers move the counts.

-- The record's NHS number and date of birth, 'NNNNNNNNNN:YYYYMMDD', when the NHS number is valid
-- and the date of birth known; else ''. Versions linked before this migration have '' until their
-- next version (they count as probabilistic where their patient has other records).
ALTER TABLE linkage.record_quality ADD COLUMN nhs_key text NOT NULL DEFAULT '';

-- Sets method of every record of the patients patient_ids to the rule above, counting the
-- revision up where it changed. First locks those records (in record id order, as every caller
-- does), so that of two transactions changing one patient's records the later one sets the
-- methods seeing the earlier one's (READ COMMITTED: each statement here takes a new snapshot).
-- O(records of the patients), by record_quality_patient_idx.
CREATE FUNCTION linkage.quality_methods(patient_ids bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM 1 FROM linkage.record_quality q WHERE q.patient_id = ANY(patient_ids)
    ORDER BY q.record_id FOR UPDATE;
  WITH g AS (
    SELECT q.record_id,
      CASE WHEN count(*) OVER (PARTITION BY q.patient_id, q.audit) = 1 THEN 'singleton'
           WHEN q.nhs_key <> '' AND count(*) OVER (PARTITION BY q.patient_id, q.audit, q.nhs_key) > 1
             THEN 'nhs_number'
           ELSE 'probabilistic' END AS method
    FROM linkage.record_quality q WHERE q.patient_id = ANY(patient_ids))
  UPDATE linkage.record_quality q SET method = g.method, revision = q.revision + 1 FROM g
    WHERE q.record_id = g.record_id AND q.method <> g.method;
END $$;
REVOKE ALL ON FUNCTION linkage.quality_methods(bigint[]) FROM PUBLIC;
GRANT EXECUTE ON FUNCTION linkage.quality_methods(bigint[]) TO ncap_linkage;

-- The facts already held, by the rule (their nhs_key unknown: see above).
SELECT linkage.quality_methods(ARRAY(SELECT DISTINCT patient_id FROM linkage.record_quality));
