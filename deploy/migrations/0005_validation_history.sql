-- 0005: validation's history rules look up a patient's other records of the same audit by
-- pseudonym, the latest version of each (services/validation/history_store.c).
CREATE INDEX validation_record_patient_idx
  ON validation.record (audit, pseudonym, record_id, version DESC);
