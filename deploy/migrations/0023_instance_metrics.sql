-- 0023: where each daemon instance serves its metrics and health (--metrics-listen): the URL
-- ("http://HOST:PORT", the port the one bound, also for an ephemeral one) beside the endpoint it
-- takes work on, so that operators, `deploy/local/up` and the tests find /metrics, /healthz and
-- /readyz of every live instance. NULL for an instance that serves none. The row-level security
-- of 0011 covers it: a stage's role writes it for its own stage's instances only.
ALTER TABLE ops.instance ADD COLUMN metrics text;
