-- 0001: one schema per stage, one role per daemon (DESIGN.md invariant 8), and the tables through
-- which each stage finds its backlog in PostgreSQL (invariant 2).

DO $$
DECLARE r text;
BEGIN
  FOREACH r IN ARRAY ARRAY['ncap_ingest','ncap_linkage','ncap_validation','ncap_metric','ncap_publish']
  LOOP
    BEGIN
      EXECUTE format('CREATE ROLE %I LOGIN', r);
    EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
    END;
  END LOOP;
END $$;

CREATE SCHEMA ops;
CREATE SCHEMA ingest;
CREATE SCHEMA linkage;
CREATE SCHEMA validation;
CREATE SCHEMA metric;
CREATE SCHEMA publish;

-- Live daemon instances: where each takes work, and a heartbeat.
CREATE TABLE ops.instance (
  instance_id  text PRIMARY KEY,
  stage        text NOT NULL,
  host         text NOT NULL,
  pid          integer NOT NULL,
  endpoint     text,
  started_at   timestamptz NOT NULL DEFAULT now(),
  heartbeat_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX instance_stage_idx ON ops.instance (stage, heartbeat_at);

-- ingest: what trusts sent, as sent (identifiable).
CREATE TABLE ingest.submission (
  submission_id bigserial PRIMARY KEY,
  audit         text NOT NULL,
  trust         text NOT NULL,
  filename      text NOT NULL DEFAULT '',
  bytes         bigint NOT NULL DEFAULT 0,
  received_at   timestamptz NOT NULL DEFAULT now(),
  rows          integer NOT NULL DEFAULT 0,
  accepted      integer NOT NULL DEFAULT 0,
  unchanged     integer NOT NULL DEFAULT 0,
  rejected      integer NOT NULL DEFAULT 0
);

-- A record is a trust's local record id within an audit; each resubmission that changes it adds a version.
CREATE TABLE ingest.record (
  record_id      bigserial PRIMARY KEY,
  audit          text NOT NULL,
  trust          text NOT NULL,
  local_id       text NOT NULL,
  latest_version integer NOT NULL DEFAULT 0,
  UNIQUE (audit, trust, local_id)
);

CREATE TABLE ingest.raw_record (
  record_id     bigint NOT NULL REFERENCES ingest.record,
  version       integer NOT NULL,
  submission_id bigint NOT NULL REFERENCES ingest.submission,
  row_number    integer NOT NULL,
  site          text NOT NULL DEFAULT '',
  payload       jsonb NOT NULL,
  content_hash  text NOT NULL,
  ingested_at   timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (record_id, version)
);
CREATE INDEX raw_record_ingested_idx ON ingest.raw_record (ingested_at);

-- Problems found in a submission before any record was stored (shape, trust mismatch).
CREATE TABLE ingest.problem (
  submission_id bigint NOT NULL REFERENCES ingest.submission,
  row_number    integer NOT NULL,
  field         text NOT NULL DEFAULT '',
  rule          text NOT NULL,
  severity      text NOT NULL,
  message       text NOT NULL
);
CREATE INDEX ingest_problem_sub_idx ON ingest.problem (submission_id);

-- linkage: patients and how records link to them (identifiable); the pseudonymised hand-off.
CREATE TABLE linkage.patient (
  patient_id bigserial PRIMARY KEY,
  created_at timestamptz NOT NULL DEFAULT now()
);

-- Blocking keys of a patient, e.g. NHS number + date of birth.
CREATE TABLE linkage.patient_key (
  key        text PRIMARY KEY,
  patient_id bigint NOT NULL REFERENCES linkage.patient
);
CREATE INDEX patient_key_patient_idx ON linkage.patient_key (patient_id);

CREATE TABLE linkage.link (
  record_id  bigint NOT NULL,
  version    integer NOT NULL,
  patient_id bigint NOT NULL REFERENCES linkage.patient,
  method     text NOT NULL,
  linked_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (record_id, version)
);
CREATE INDEX link_linked_idx ON linkage.link (linked_at);

CREATE TABLE linkage.pseudo_record (
  record_id     bigint NOT NULL,
  version       integer NOT NULL,
  audit         text NOT NULL,
  trust         text NOT NULL,
  site          text NOT NULL,
  local_id      text NOT NULL,
  submission_id bigint NOT NULL,
  row_number    integer NOT NULL,
  pseudonym     text NOT NULL,
  payload       jsonb NOT NULL,
  linked_at     timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (record_id, version)
);

CREATE TABLE linkage.problem (
  record_id     bigint NOT NULL,
  version       integer NOT NULL,
  submission_id bigint NOT NULL,
  row_number    integer NOT NULL,
  field         text NOT NULL,
  rule          text NOT NULL,
  severity      text NOT NULL,
  message       text NOT NULL,
  PRIMARY KEY (record_id, version, field, rule)
);

-- validation: the outcome per record version, and every problem found.
CREATE TABLE validation.record (
  record_id     bigint NOT NULL,
  version       integer NOT NULL,
  audit         text NOT NULL,
  trust         text NOT NULL,
  site          text NOT NULL,
  local_id      text NOT NULL,
  submission_id bigint NOT NULL,
  row_number    integer NOT NULL,
  pseudonym     text NOT NULL,
  valid         boolean NOT NULL,
  payload       jsonb NOT NULL,
  validated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (record_id, version)
);
CREATE INDEX validation_record_at_idx ON validation.record (validated_at);

CREATE TABLE validation.problem (
  record_id     bigint NOT NULL,
  version       integer NOT NULL,
  submission_id bigint NOT NULL,
  row_number    integer NOT NULL,
  field         text NOT NULL,
  rule          text NOT NULL,
  severity      text NOT NULL,
  value         text NOT NULL DEFAULT '',
  message       text NOT NULL,
  PRIMARY KEY (record_id, version, field, rule)
);
CREATE INDEX validation_problem_sub_idx ON validation.problem (submission_id);

-- metric: what it has taken in, the latest version applied per record, and each metric's contribution.
CREATE TABLE metric.processed (
  record_id    bigint NOT NULL,
  version      integer NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (record_id, version)
);
CREATE INDEX metric_processed_at_idx ON metric.processed (processed_at);

CREATE TABLE metric.record_state (
  record_id  bigint PRIMARY KEY,
  version    integer NOT NULL,
  audit      text NOT NULL,
  trust      text NOT NULL,
  period     text,
  valid      boolean NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX record_state_audit_idx ON metric.record_state (audit, period);

CREATE TABLE metric.contribution (
  record_id   bigint NOT NULL,
  metric_id   text NOT NULL,
  audit       text NOT NULL,
  trust       text NOT NULL,
  site        text NOT NULL,
  period      text NOT NULL,
  numerator   integer NOT NULL,
  denominator integer NOT NULL,
  PRIMARY KEY (record_id, metric_id)
);
CREATE INDEX contribution_period_idx ON metric.contribution (audit, period);

-- publish: which record versions the releases reflect, and the immutable releases themselves.
CREATE TABLE publish.seen (
  record_id    bigint PRIMARY KEY,
  version      integer NOT NULL,
  audit        text NOT NULL,
  period       text,
  published_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX seen_published_idx ON publish.seen (published_at);

CREATE TABLE publish.release (
  release_id   bigserial PRIMARY KEY,
  audit        text NOT NULL,
  period       text NOT NULL,
  revision     integer NOT NULL,
  status       text NOT NULL DEFAULT 'provisional',
  records      integer NOT NULL,
  content_hash text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  UNIQUE (audit, period, revision)
);

CREATE TABLE publish.output (
  release_id  bigint NOT NULL REFERENCES publish.release,
  unit_level  text NOT NULL,
  unit        text NOT NULL,
  metric_id   text NOT NULL,
  numerator   bigint NOT NULL,
  denominator bigint NOT NULL,
  value       double precision,
  lower95     double precision,
  upper95     double precision,
  PRIMARY KEY (release_id, unit_level, unit, metric_id)
);

-- Rights: each daemon on its own schema, read on its upstream's outputs only.
GRANT USAGE ON SCHEMA ops TO ncap_ingest, ncap_linkage, ncap_validation, ncap_metric, ncap_publish;
GRANT SELECT, INSERT, UPDATE, DELETE ON ops.instance
  TO ncap_ingest, ncap_linkage, ncap_validation, ncap_metric, ncap_publish;

GRANT USAGE ON SCHEMA ingest TO ncap_ingest, ncap_linkage;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA ingest TO ncap_ingest;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA ingest TO ncap_ingest;
GRANT SELECT ON ingest.raw_record, ingest.record TO ncap_linkage;

GRANT USAGE ON SCHEMA linkage TO ncap_linkage, ncap_validation;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA linkage TO ncap_linkage;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA linkage TO ncap_linkage;
GRANT SELECT ON linkage.pseudo_record TO ncap_validation;

GRANT USAGE ON SCHEMA validation TO ncap_validation, ncap_metric;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA validation TO ncap_validation;
GRANT SELECT ON validation.record TO ncap_metric;

GRANT USAGE ON SCHEMA metric TO ncap_metric, ncap_publish;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA metric TO ncap_metric;
GRANT SELECT ON metric.record_state, metric.contribution TO ncap_publish;

GRANT USAGE ON SCHEMA publish TO ncap_publish;
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA publish TO ncap_publish;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA publish TO ncap_publish;
