-- 0020: outlier management (issue 15). A unit (a trust, or a site of one) flagged by a release's
-- funnel (an alert beyond 95% or an alarm beyond 99.8%) gets an outlier case per audit, period,
-- metric and unit, which follows the staged process of common/audit/outlier_process.h:
-- detected -> trust_notified -> trust_responded -> published, or closed when corrected data
-- clears it. Publish opens, updates, clears and moves cases on past their deadlines; ingest
-- takes a trust's response (the only state a trust changes). Every change of state is kept in
-- publish.outlier_transition by a trigger, in the writer's transaction, whoever writes it.
CREATE TABLE publish.outlier_case (
  case_id         bigserial PRIMARY KEY,
  audit           text NOT NULL,
  period          text NOT NULL,
  metric_id       text NOT NULL,
  level           text NOT NULL CHECK (level IN ('trust', 'site')),
  area_code       text NOT NULL,             -- the trust's code, or the site's
  trust           text NOT NULL,             -- the trust (a site's own trust): who is notified
  state           text NOT NULL CHECK (state IN ('detected', 'trust_notified', 'trust_responded',
                                                 'published', 'closed')),
  state_at        timestamptz NOT NULL DEFAULT now(), -- when it entered its state
  state_by        text NOT NULL,             -- what moved it: release, deadline, trust
  notified_at     timestamptz,               -- first notified: the trust sees the case from then
  -- the latest release's figures of the unit's all row, before the public gate
  flag            text NOT NULL,             -- funnel flag: alarm_high, alert_low, in_control ...
  numerator       bigint,
  denominator     bigint,
  expected        double precision,
  value           double precision,
  england_value   double precision,
  funnel_lower998 double precision,
  funnel_upper998 double precision,
  updated_at      timestamptz NOT NULL DEFAULT now(),
  UNIQUE (audit, period, metric_id, level, area_code)
);
-- the open cases publish looks at on each tick; a trust's cases
CREATE INDEX outlier_case_open_idx ON publish.outlier_case (state)
  WHERE state IN ('detected', 'trust_notified', 'trust_responded');
CREATE INDEX outlier_case_trust_idx ON publish.outlier_case (trust);

CREATE TABLE publish.outlier_transition (
  transition_id bigserial PRIMARY KEY,
  case_id       bigint NOT NULL REFERENCES publish.outlier_case,
  from_state    text,                        -- NULL: the case was opened
  to_state      text NOT NULL,
  at            timestamptz NOT NULL,
  by_what       text NOT NULL
);
CREATE INDEX outlier_transition_case_idx ON publish.outlier_transition (case_id, transition_id);

CREATE TABLE publish.outlier_response (
  response_id bigserial PRIMARY KEY,
  case_id     bigint NOT NULL REFERENCES publish.outlier_case,
  trust       text NOT NULL,
  text        text NOT NULL CHECK (length(text) BETWEEN 1 AND 65536),
  received_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outlier_response_case_idx ON publish.outlier_response (case_id);

-- The audit team's file of an audit period (outliers.csv) as last written, so that publish
-- writes it again only after a change.
CREATE TABLE publish.outlier_export (
  audit           text NOT NULL,
  period          text NOT NULL,
  content_hash    text NOT NULL, -- sha256 of the file as last written
  PRIMARY KEY (audit, period)
);

CREATE FUNCTION publish.outlier_transition_kept() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' OR NEW.state IS DISTINCT FROM OLD.state THEN
    INSERT INTO publish.outlier_transition (case_id, from_state, to_state, at, by_what)
    VALUES (NEW.case_id, CASE WHEN TG_OP = 'UPDATE' THEN OLD.state END, NEW.state, NEW.state_at,
            NEW.state_by);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER outlier_transition_kept AFTER INSERT OR UPDATE OF state ON publish.outlier_case
  FOR EACH ROW EXECUTE FUNCTION publish.outlier_transition_kept();
-- a trigger function runs whatever EXECUTE says: nothing for PUBLIC, as 0012 and 0018
REVOKE EXECUTE ON FUNCTION publish.outlier_transition_kept() FROM PUBLIC;

GRANT SELECT, INSERT, UPDATE ON publish.outlier_case TO ncap_publish;
GRANT SELECT, INSERT ON publish.outlier_transition TO ncap_publish;
GRANT SELECT ON publish.outlier_response TO ncap_publish;
GRANT SELECT, INSERT, UPDATE ON publish.outlier_export TO ncap_publish;
GRANT USAGE ON publish.outlier_case_case_id_seq, publish.outlier_transition_transition_id_seq
  TO ncap_publish;

-- ingest answers a trust about its own cases (the figures, its records' local ids) and takes its
-- response: it reads the cases and moves one to trust_responded, and reads which records make up
-- a metric's denominator (never a value: record id, unit, metric, period only).
GRANT USAGE ON SCHEMA publish, metric TO ncap_ingest;
GRANT SELECT ON publish.outlier_case TO ncap_ingest;
GRANT UPDATE (state, state_at, state_by, updated_at) ON publish.outlier_case TO ncap_ingest;
GRANT INSERT ON publish.outlier_transition TO ncap_ingest;
GRANT SELECT, INSERT ON publish.outlier_response TO ncap_ingest;
GRANT USAGE ON publish.outlier_transition_transition_id_seq,
  publish.outlier_response_response_id_seq TO ncap_ingest;
GRANT SELECT (record_id, audit, period, trust, site, metric_id, denominator)
  ON metric.contribution TO ncap_ingest;
