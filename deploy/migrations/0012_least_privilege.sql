-- 0012: least privilege (issue 11). Each daemon's role keeps what its SQL uses and nothing else:
-- SELECT of the columns it reads where the rest would tell it more than it needs (metric never sees
-- a pseudonym or a local id, publish never a record's own contributions), INSERT where it stores,
-- UPDATE and DELETE only where it updates and deletes. The operator's commands (`ncap refdata
-- load`, `ncap link-train`, `ncap quarantine`, `ncap status`) run as the administrator, never as a
-- daemon's role. The whole matrix, role by object, is asserted by
-- tests/common/runtime/test_privileges.c: a grant changed here, or in a later migration, changes it
-- there too.

-- The database: only the daemons' roles connect (besides its owner and superusers), and only
-- ingest makes a temporary table (sub_rows, the COPY target of a submission). Nothing for PUBLIC,
-- in the schema public either (it holds only public.ncap_schema_migration).
DO $$
BEGIN
  EXECUTE format('REVOKE ALL ON DATABASE %I FROM PUBLIC', current_database());
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO ncap_ingest, ncap_linkage, ncap_validation,'
                 ' ncap_metric, ncap_publish', current_database());
  EXECUTE format('GRANT TEMPORARY ON DATABASE %I TO ncap_ingest', current_database());
END $$;
REVOKE ALL ON SCHEMA public FROM PUBLIC;
-- A trigger function fires whoever may call it; nobody need call it by hand.
REVOKE EXECUTE ON FUNCTION linkage.death_link_queue() FROM PUBLIC;

-- Sequences: nextval, through a column's default, needs USAGE only; currval (SELECT) and setval
-- (UPDATE) go. Linkage does not number deaths or loads: `ncap refdata load` does.
REVOKE SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ingest FROM ncap_ingest;
REVOKE SELECT, UPDATE ON linkage.patient_patient_id_seq FROM ncap_linkage;
REVOKE ALL ON linkage.death_death_id_seq, linkage.refdata_load_load_id_seq FROM ncap_linkage;
REVOKE SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA publish FROM ncap_publish;

-- ingest: a raw record version is stored once and never rewritten; nothing is deleted. (Its reads
-- of linkage and validation, 0004 and 0006, are the feedback's: problems and progress, no
-- identifier and no pseudonym.)
REVOKE DELETE ON ingest.submission, ingest.record, ingest.raw_record, ingest.problem
  FROM ncap_ingest;
REVOKE UPDATE ON ingest.raw_record, ingest.problem FROM ncap_ingest;

-- linkage: patients, blocking keys and links are only ever added. The reference data is the
-- operator's (`ncap refdata load`, `ncap link-train`): the daemon reads it and marks the deaths its
-- sweep has considered. linkage.patient_key is unused since 0003 (the blocking index).
REVOKE ALL ON linkage.patient_key, linkage.refdata_load FROM ncap_linkage;
REVOKE UPDATE, DELETE ON linkage.patient, linkage.block, linkage.link, linkage.problem,
  linkage.optout_withheld, linkage.match_param, linkage.match_setting FROM ncap_linkage;
REVOKE DELETE ON linkage.pseudo_record, linkage.optout_count FROM ncap_linkage;
REVOKE UPDATE ON linkage.death_link, linkage.death_recheck FROM ncap_linkage;
REVOKE INSERT, UPDATE, DELETE ON linkage.death, linkage.optout, linkage.imd,
  linkage.match_term_freq FROM ncap_linkage;
GRANT UPDATE (considered_at) ON linkage.death TO ncap_linkage;

-- validation: an outcome is replaced in place (a newer link revision), its problems deleted and
-- stored again.
REVOKE DELETE ON validation.record FROM ncap_validation;
REVOKE UPDATE ON validation.problem FROM ncap_validation;

-- metric reads of validation.record the key, where the record belongs and its fields: not the
-- pseudonym, the local id, the submission or the row (0001 gave it the whole row).
REVOKE SELECT ON validation.record FROM ncap_metric;
GRANT SELECT (record_id, version, link_revision, audit, trust, site, payload, valid, validated_at)
  ON validation.record TO ncap_metric;
REVOKE DELETE ON metric.processed, metric.record_state FROM ncap_metric;
REVOKE UPDATE ON metric.contribution FROM ncap_metric;

-- publish sums contributions by trust and metric and counts valid records by period: it needs no
-- record's own contribution (record_id) nor its site.
REVOKE SELECT ON metric.record_state, metric.contribution FROM ncap_publish;
GRANT SELECT (record_id, version, link_revision, audit, period, valid) ON metric.record_state
  TO ncap_publish;
GRANT SELECT (audit, period, trust, metric_id, numerator, denominator) ON metric.contribution
  TO ncap_publish;
-- A release and its outputs are immutable.
REVOKE DELETE ON publish.seen FROM ncap_publish;
REVOKE UPDATE, DELETE ON publish.release, publish.output FROM ncap_publish;
