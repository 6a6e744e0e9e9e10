-- 0040 (issue 14): publish reads only the rows of metric.measure that changed since its last round.
--
-- publish holds each period's values between its rounds (value_cache.h) and brought them up to a
-- round by reading again whole the (month, trust) ranges of the trusts whose records changed: at a
-- steady load every range changes every round, so a round still read most of its periods' rows.
-- Now each row of metric.measure says which transaction wrote its current version (write_xid, as
-- the stages' tables of 0018), and each row metric deletes (its count reached 0) leaves its key in
-- metric.measure_gone with the deleting transaction's id. A round whose held period was last
-- brought up to date under a snapshot of xmin h reads, by migration 0018's rule (every row written
-- since, or by a transaction still running then, has a write_xid of at least h): the period's gone
-- keys with write_xid >= h (each with its current count, if it was written again) and, in the
-- changed trusts' ranges, the rows with write_xid >= h, and sets those keys' absolute counts. A row
-- read twice is harmless: every count read is the one the round's snapshot sees.
--
-- write_xid is not indexed: metric's updates of a count stay HOT (no new index entry). metric sets
-- it on every insert (the default) and every update (its upsert sets it): any other writer of
-- metric.measure must do the same, and must record its deletes in metric.measure_gone.
--
-- A constant default fills the rows already there without rewriting the table (write_xid 0: older
-- than any round's snapshot; publish reads a period whole when it starts); new rows take their
-- writer's.
ALTER TABLE metric.measure ADD COLUMN write_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE metric.measure ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();

-- The keys metric deleted, kept for an hour (metric deletes older ones as it deletes measures:
-- metric_store.c's MEASURE_GONE_HORIZON): a publisher whose period was brought up to date longer
-- ago than half that reads the period whole instead. Rows only when a value's count reaches 0 (a
-- record's value changed, or the record withdrawn), so the table stays small.
CREATE TABLE metric.measure_gone (
  audit     text NOT NULL,
  period    text NOT NULL,
  month     text NOT NULL,
  trust     text NOT NULL,
  site      text NOT NULL,
  metric_id text NOT NULL,
  breakdown text NOT NULL,
  category  text NOT NULL,
  value     double precision NOT NULL,
  write_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gone_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- publish: a period's keys gone since a snapshot; metric: the rows past the horizon
CREATE INDEX measure_gone_period_idx ON metric.measure_gone (audit, period, write_xid);
CREATE INDEX measure_gone_at_idx ON metric.measure_gone (gone_at);

-- (UPDATE of one column: its delete skips the rows another instance is deleting, FOR UPDATE SKIP
-- LOCKED, which asks for it; metric updates no row)
GRANT SELECT, INSERT, DELETE, UPDATE (gone_at) ON metric.measure_gone TO ncap_metric;
GRANT SELECT ON metric.measure_gone TO ncap_publish;
