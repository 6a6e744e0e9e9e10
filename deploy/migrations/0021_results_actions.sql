-- 0021: each trust's own results, privately (`ncap results`), and what a trust did about them
-- (`ncap action add`) (issue 15).

-- A trust's results: ingest answers `ncap results` over the trust's authenticated connection with
-- the trust's figures per metric and site and the records that make them up (its own local ids,
-- from ingest.record, which ingest owns). It reads what each record contributes, never the
-- record's pseudonym or categories: the columns below of metric.contribution, and of
-- metric.record_state the version metric applied (whose period field, in ingest.raw_record, is the
-- record's date). Only the trust whose key the connection proved is answered (request_gate.c).
GRANT USAGE ON SCHEMA metric TO ncap_ingest;
GRANT SELECT (record_id, metric_id, site, period, numerator, denominator, expected_e9, value, held,
              missing) ON metric.contribution TO ncap_ingest;
GRANT SELECT (record_id, version) ON metric.record_state TO ncap_ingest;

-- A page of a trust's records of one metric is the next rows of this index after the last local
-- id sent (byte order, whatever the database's locale), each joined to its contribution by its
-- primary key: a page costs its own rows, not the trust's records. ingest.record gets a row per
-- new record only (not per version), so the index costs submissions little.
CREATE INDEX record_trust_local_idx ON ingest.record (audit, trust, local_id COLLATE "C");

-- What a trust did about its results: a change it made (a new pathway, a staffing change) to one
-- metric on a day, recorded by the operator (`ncap action add`, the administrator's connection).
-- Publish starts a new period of the trust's run chart of that metric at the action's month
-- (services/publish/benchmark_spc.c), and `ncap action list` gives each action its verdict
-- (common/stats/spc_verdict.h).
CREATE TABLE publish.action (
  action_id   bigserial PRIMARY KEY,
  audit       text NOT NULL CHECK (audit ~ '^[a-z0-9_]{1,39}$'),
  trust       text NOT NULL CHECK (trust ~ '^[A-Z0-9]{3}$'),
  metric_id   text NOT NULL CHECK (metric_id <> '' AND length(metric_id) < 64),
  action_date date NOT NULL,
  text        text NOT NULL CHECK (text <> '' AND length(text) <= 2000),
  recorded_at timestamptz NOT NULL DEFAULT now(),
  -- publish has rebuilt the audit's releases since (release_actions_pending): an action registered
  -- while no record changes still breaks the charts within seconds
  published   boolean NOT NULL DEFAULT false
);
CREATE INDEX action_audit_idx ON publish.action (audit, trust, metric_id, action_date);

-- publish reads where the charts break, not what the trust wrote, and marks what it has rebuilt.
GRANT SELECT (action_id, audit, trust, metric_id, action_date, published) ON publish.action
  TO ncap_publish;
GRANT UPDATE (published) ON publish.action TO ncap_publish;
