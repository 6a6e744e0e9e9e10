-- 0045 (issue 14): publish reads only the sums of metric.aggregate that changed since its last round.
--
-- publish holds each period's sums between its rounds (sums_cache.h) and brought them up to a round
-- by reading again whole the (month, trust) ranges of the trusts whose records changed: at a steady
-- load from every trust each of those ranges changes every round, so a round read every row of every
-- period it rebuilt (about 50,000 a round at 1,000 records/s from 20 trusts, for ~2,000 changed).
-- As 0040 did for metric.measure: each row of metric.aggregate now says which transaction wrote its
-- current version (write_xid), and each cell metric deletes (its sums all 0) leaves its key in
-- metric.aggregate_gone with the deleting transaction's id. A round whose held period was last
-- brought up to date under a snapshot of xmin h reads, by migration 0018's rule (every row written
-- since, or by a transaction still running then, has a write_xid of at least h), the period's gone
-- keys with write_xid >= h and, in the changed trusts' ranges, the rows with write_xid >= h, and
-- sets those cells' sums.
--
-- write_xid is not indexed: metric's updates of a cell's sums stay HOT (no new index entry). metric
-- sets it on every insert (the default) and every update (its upsert sets it): any other writer of
-- metric.aggregate must do the same, and must record its deletes in metric.aggregate_gone.
--
-- A constant default fills the rows already there without rewriting the table (write_xid 0: older
-- than any round's snapshot; publish reads a period whole when it starts); new rows take their
-- writer's.
ALTER TABLE metric.aggregate ADD COLUMN write_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE metric.aggregate ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();

-- The cells metric deleted, kept for an hour (metric deletes older ones as it deletes cells:
-- metric_store.h's MEASURE_GONE_HORIZON_S): a publisher whose period was brought up to date longer
-- ago than half that reads the period whole instead. Rows only when a cell's sums reach 0 (its
-- records' values changed, or they were withdrawn), so the table stays small.
CREATE TABLE metric.aggregate_gone (
  audit     text NOT NULL,
  period    text NOT NULL,
  month     text NOT NULL,
  trust     text NOT NULL,
  site      text NOT NULL,
  metric_id text NOT NULL,
  breakdown text NOT NULL,
  category  text NOT NULL,
  write_xid xid8 NOT NULL DEFAULT pg_current_xact_id(),
  gone_at   timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- publish: the keys gone since a snapshot (a round's worth); metric: the rows past the horizon
CREATE INDEX aggregate_gone_xid_idx ON metric.aggregate_gone (write_xid);
CREATE INDEX aggregate_gone_at_idx ON metric.aggregate_gone (gone_at);

-- (UPDATE of a column: metric locks the rows it deletes past the horizon, FOR UPDATE SKIP LOCKED)
GRANT SELECT, INSERT, DELETE, UPDATE (gone_at) ON metric.aggregate_gone TO ncap_metric;
GRANT SELECT ON metric.aggregate_gone TO ncap_publish;

-- publish.delay_add (0033, 0044), the delay ledger's trigger work, was most of publish's round
-- statement (at 1,000 records/s, ~330 ms of its ~440 for 2,900 versions): each version's two
-- delays were computed in numeric (extract returns numeric), then grouped on them. date_part gives
-- the same seconds as a double, which holds an interval's microseconds exactly to within far less
-- than the distance to the next whole second or day for any delay under centuries, so floor gives
-- the same whole seconds and days: the same groups and counts, about a quarter less time. Replaced
-- whole, with 0044's setting (CREATE OR REPLACE keeps its owner and rights, not its settings).
CREATE OR REPLACE FUNCTION publish.delay_add(ids bigint[], versions integer[], audits text[],
                                             periods text[], published timestamptz[])
RETURNS void
LANGUAGE sql SECURITY DEFINER SET search_path = pg_catalog, pg_temp SET enable_sort = off AS $$
  INSERT INTO publish.delay AS d (audit, period, trust, stage, delay_s, records)
  SELECT n.audit, n.period, m.trust, v.stage, v.delay_s, count(*)
  FROM unnest(ids, versions, audits, periods, published) n (record_id, version, audit, period,
                                                            published_at)
  JOIN ingest.raw_record r ON r.record_id = n.record_id AND r.version = n.version
  JOIN metric.record_state m ON m.record_id = n.record_id AND m.version = n.version
  CROSS JOIN LATERAL (
    SELECT 'event_to_submission',
           (floor(date_part('epoch', r.ingested_at - m.event_at) / 86400) * 86400)::bigint
    WHERE m.event_at IS NOT NULL
    UNION ALL
    SELECT 'submission_to_publication', CASE WHEN s < 3600 THEN s WHEN s < 86400 THEN s / 60 * 60
           ELSE s / 3600 * 3600 END
    FROM (SELECT greatest(floor(date_part('epoch', n.published_at - r.ingested_at)), 0)::bigint
          AS s) p) v (stage, delay_s)
  WHERE n.period IS NOT NULL AND m.trust IS NOT NULL
  GROUP BY 1, 2, 3, 4, 5
  ON CONFLICT (audit, period, trust, stage, delay_s) DO UPDATE SET records = d.records + EXCLUDED.records
$$;
