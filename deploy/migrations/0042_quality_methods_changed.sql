-- 0042 (issue 14): linkage.quality_methods (0030) looks up only the records whose method changes.
-- It joined every record of the patients it was given back to linkage.record_quality by the
-- primary key, one index probe a record, and compared the method there: a batch passes the
-- records of every held patient it touched (about 500 at 100,000 records), and few of them change
-- (a singleton turning linked, a second record of an NHS number and date of birth). Now the
-- records whose method differs from the rule's are picked out before the join, from the rows the
-- rule reads anyway, so the probes are one per record changed (a copy of a 100,000-record
-- benchmark, 250 patients of 500 records, none changed: 36 ms to 6 ms, PostgreSQL 15). The
-- method is still compared on the row the UPDATE finds (under READ COMMITTED, the newest version
-- of a row another transaction changed meanwhile), so what is written, and the revisions counted,
-- are as before. The locking is unchanged: every record of the patients, in record id order.
CREATE OR REPLACE FUNCTION linkage.quality_methods(patient_ids bigint[]) RETURNS void
LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
BEGIN
  PERFORM 1 FROM linkage.record_quality q WHERE q.patient_id = ANY(patient_ids)
    ORDER BY q.record_id FOR UPDATE;
  WITH r AS (
    SELECT q.record_id, q.method AS held,
      CASE WHEN count(*) OVER (PARTITION BY q.patient_id, q.audit) = 1 THEN 'singleton'
           WHEN q.nhs_key <> '' AND count(*) OVER (PARTITION BY q.patient_id, q.audit, q.nhs_key) > 1
             THEN 'nhs_number'
           ELSE 'probabilistic' END AS method
    FROM linkage.record_quality q WHERE q.patient_id = ANY(patient_ids)),
  g AS (SELECT record_id, method FROM r WHERE held <> method)
  UPDATE linkage.record_quality q SET method = g.method, revision = q.revision + 1 FROM g
    WHERE q.record_id = g.record_id AND q.method <> g.method;
END $$;
