-- 0011: the instance registry (ops.instance) under row-level security. Upstream stages find the
-- instances to send records to here, so a row is a claim to receive data: a stage's role may
-- register, refresh and remove instances of its own stage only (ncap_linkage: stage 'linkage'),
-- and may read every row (an upstream looks up its downstream; ncap submit looks up ingest). The
-- owner and superusers (migrations, ncap status as the operator) are not subject to it.
-- Another stage's row cannot be written even through INSERT ... ON CONFLICT DO UPDATE: the
-- existing row must pass the UPDATE policy too. A row of one's own stage pointing elsewhere is
-- stopped by CurveZMQ instead: the upstream sends only to a listener proving the stage's key.

ALTER TABLE ops.instance ENABLE ROW LEVEL SECURITY;

CREATE POLICY instance_read ON ops.instance FOR SELECT
  TO ncap_ingest, ncap_linkage, ncap_validation, ncap_metric, ncap_publish
  USING (true);

CREATE POLICY instance_register ON ops.instance FOR INSERT
  TO ncap_ingest, ncap_linkage, ncap_validation, ncap_metric, ncap_publish
  WITH CHECK (current_user = 'ncap_' || stage);

CREATE POLICY instance_refresh ON ops.instance FOR UPDATE
  TO ncap_ingest, ncap_linkage, ncap_validation, ncap_metric, ncap_publish
  USING (current_user = 'ncap_' || stage)
  WITH CHECK (current_user = 'ncap_' || stage);

CREATE POLICY instance_remove ON ops.instance FOR DELETE
  TO ncap_ingest, ncap_linkage, ncap_validation, ncap_metric, ncap_publish
  USING (current_user = 'ncap_' || stage);
