-- 0018: a backlog sweep and `ncap status` whose cost does not grow with the tables (issue 14). Until
-- now a stage found what it had not taken yet by an anti-join of its upstream's whole table against
-- its own (publish: metric.record_state against publish.seen), and `ncap status` counted every table
-- and every backlog: at 200,000 records one sweep took seconds. Now each stage keeps a watermark in
-- its upstream's table, below which it has taken everything, and the counts are kept as they are
-- written.
--
-- Where a row stands: write_xid, the transaction that wrote the row's current version (its
-- default on insert; the trigger stamp_write_xid on every update, a new link revision among them,
-- which moves the row forward), on each table a stage reads: ingest.raw_record (linkage's),
-- linkage.pseudo_record (validation's), validation.record (metric's), metric.record_state
-- (publish's). Rows are ordered by (write_xid, record_id, version), an index each. Nobody writes
-- the column itself.
--
-- The watermark: <stage>.watermark, one row, a position in that order. The stage's sweep moves it
-- (the runtime's stage_run_advance, one instance at a time under the sweep lock; publish in its
-- periodic work) in one statement over the rows after it, in order, as long as each is taken (or
-- held in the stage's quarantine) and its write_xid is below the horizon: the xmin of that
-- statement's snapshot, the oldest transaction still running (pg_snapshot_xmin of
-- pg_current_snapshot()). It stops at the first row that is not, so that the watermark never
-- passes a row the stage has not taken. The backlog query then reads only the rows after the
-- watermark (an index range scan from it), and `ncap status` counts only those.
--
-- Why no record is ever skipped, though transactions commit out of order (a transaction with a
-- smaller write_xid may commit after one with a larger): the watermark only passes rows whose
-- write_xid is below the horizon h of the snapshot that saw them. Every transaction with an id
-- below h had ended, committed or rolled back, before that snapshot was taken; every transaction
-- that was still running, or starts later, has an id of h or more. So no row can appear later at a
-- position the watermark has passed: a row written later, whether inserted or updated (the trigger
-- restamps it), has a write_xid of at least h and lands after the watermark. And what the
-- statement saw below h is all there is below h: a committed writer's rows are in its snapshot.
-- What the watermark passed stays taken: a stage's own rows only ever move to newer keys (ON
-- CONFLICT ... WHERE older), are never deleted, and a record held in quarantine is either taken
-- later or stays there. A record the operator releases from the quarantine (`ncap quarantine
-- retry`) that lies behind the watermark is read by the second half of the backlog query, from
-- the quarantine (held = false) by record id: O(released). A long transaction holds the horizon
-- back: the watermark waits, the rows after it are still processed and counted (the backlog query
-- reads everything after the watermark, in order), and the range read grows with what was written
-- since that transaction began, not with the tables. Nothing here depends on a nudge or on a
-- daemon's memory: after kill -9 the watermark is what was last committed, and the next sweep
-- walks on from it.
--
-- write_xid is this cluster's transaction id: a physical backup or pg_upgrade keeps the counter,
-- but a pg_dump restored into a new cluster starts it again, below the ids restored. After such a
-- restore, before the daemons start: UPDATE each of the four tables SET write_xid = '0' (the
-- trigger stamps the restoring transaction's id instead), and every watermark back to the start.
--
-- A later migration that makes a stage take rows again (as 0014 and 0016 emptied metric.processed,
-- 0015 publish.seen) must also move that stage's watermark back to the start:
-- UPDATE <stage>.watermark SET write_xid = '0', record_id = 0, version = 0.
--
-- Kept counts: <schema>.tally, rows appended in the transaction that wrote what they count (a
-- statement trigger, from its transition table: rows inserted and rows inserted or updated), so
-- that two instances never wait on one counter row; `ncap status` sums them (records processed,
-- and the rate over the last minute). The daemon of each stage folds the rows older than a minute
-- into one (tally.c, on its sweep; ingest on its tick): a tally holds one row per statement of the
-- last minute or so, whatever the number of records.

-- Where a row stands ----------------------------------------------------------------------------
-- A constant default fills the rows already there without rewriting the table (write_xid 0: before
-- every watermark but the first, which starts at 0 too); new rows take their writer's.
ALTER TABLE ingest.raw_record ADD COLUMN write_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE linkage.pseudo_record ADD COLUMN write_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE validation.record ADD COLUMN write_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE metric.record_state ADD COLUMN write_xid xid8 NOT NULL DEFAULT '0';
ALTER TABLE ingest.raw_record ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE linkage.pseudo_record ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE validation.record ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();
ALTER TABLE metric.record_state ALTER COLUMN write_xid SET DEFAULT pg_current_xact_id();
CREATE INDEX raw_record_write_idx ON ingest.raw_record (write_xid, record_id, version);
CREATE INDEX pseudo_record_write_idx ON linkage.pseudo_record (write_xid, record_id, version);
CREATE INDEX validation_record_write_idx ON validation.record (write_xid, record_id, version);
CREATE INDEX record_state_write_idx ON metric.record_state (write_xid, record_id, version);

-- A row trigger on update only: one on insert would stop COPY from inserting in batches.
CREATE FUNCTION ops.stamp_write_xid() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.write_xid := pg_current_xact_id();
  RETURN NEW;
END $$;
CREATE TRIGGER stamp_write_xid BEFORE UPDATE ON ingest.raw_record
  FOR EACH ROW EXECUTE FUNCTION ops.stamp_write_xid();
CREATE TRIGGER stamp_write_xid BEFORE UPDATE ON linkage.pseudo_record
  FOR EACH ROW EXECUTE FUNCTION ops.stamp_write_xid();
CREATE TRIGGER stamp_write_xid BEFORE UPDATE ON validation.record
  FOR EACH ROW EXECUTE FUNCTION ops.stamp_write_xid();
CREATE TRIGGER stamp_write_xid BEFORE UPDATE ON metric.record_state
  FOR EACH ROW EXECUTE FUNCTION ops.stamp_write_xid();

-- The watermarks: the start, for every stage (an existing deployment's first sweeps walk its rows
-- once, a batch of positions a statement).
DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['linkage', 'validation', 'metric', 'publish']
  LOOP
    EXECUTE format($f$
      CREATE TABLE %I.watermark (
        one       boolean PRIMARY KEY DEFAULT true CHECK (one),
        write_xid xid8 NOT NULL DEFAULT '0',
        record_id bigint NOT NULL DEFAULT 0,
        version   integer NOT NULL DEFAULT 0,
        moved_at  timestamptz NOT NULL DEFAULT now()
      )$f$, s);
    EXECUTE format('INSERT INTO %I.watermark DEFAULT VALUES', s);
    EXECUTE format('GRANT SELECT, UPDATE ON %I.watermark TO %I', s, 'ncap_' || s);
  END LOOP;
END $$;

-- Kept counts --------------------------------------------------------------------------------
DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['ingest', 'linkage', 'validation', 'metric', 'publish']
  LOOP
    EXECUTE format($f$
      CREATE TABLE %I.tally (
        at      timestamptz NOT NULL DEFAULT now(),
        added   bigint NOT NULL,  -- rows inserted: the stage's records processed
        written bigint NOT NULL   -- rows inserted or updated: its rate
      )$f$, s);
    EXECUTE format('GRANT SELECT, INSERT, DELETE ON %I.tally TO %I', s, 'ncap_' || s);
  END LOOP;
END $$;

-- Appends what a statement wrote to the tally of its table's schema, as the role that wrote it.
CREATE FUNCTION ops.tally_rows() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE n bigint;
BEGIN
  SELECT count(*) INTO n FROM new_rows;
  IF n > 0 THEN
    EXECUTE format('INSERT INTO %I.tally (added, written) VALUES ($1, $2)', TG_TABLE_SCHEMA)
      USING CASE TG_OP WHEN 'INSERT' THEN n ELSE 0 END, n;
  END IF;
  RETURN NULL;
END $$;

-- What `ncap status` showed per stage, counted from now on: ingest its raw record versions,
-- linkage its links and the record versions it withheld, validation its outcomes, metric the
-- record versions it took in, publish the records its releases reflect.
DO $$
DECLARE t text;
BEGIN
  FOREACH t IN ARRAY ARRAY['ingest.raw_record', 'linkage.link', 'linkage.optout_withheld',
                           'validation.record', 'metric.processed', 'publish.seen']
  LOOP
    EXECUTE format('CREATE TRIGGER tally_added AFTER INSERT ON %s REFERENCING NEW TABLE AS'
                   ' new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops.tally_rows()', t);
    EXECUTE format('INSERT INTO %s.tally (at, added, written) SELECT ''-infinity'', count(*), 0'
                   ' FROM %s', split_part(t, '.', 1), t);
  END LOOP;
  FOREACH t IN ARRAY ARRAY['validation.record', 'metric.processed', 'publish.seen']
  LOOP
    EXECUTE format('CREATE TRIGGER tally_written AFTER UPDATE ON %s REFERENCING NEW TABLE AS'
                   ' new_rows FOR EACH STATEMENT EXECUTE FUNCTION ops.tally_rows()', t);
  END LOOP;
END $$;

-- The indexes on when a row was written served only the old sweeps and counts.
DROP INDEX ingest.raw_record_ingested_idx, linkage.link_linked_idx,
  validation.validation_record_at_idx, metric.metric_processed_at_idx,
  publish.seen_published_idx;

-- A trigger function fires whoever may call it; nobody need call these by hand. metric and publish
-- read where their upstream's rows stand.
REVOKE EXECUTE ON FUNCTION ops.stamp_write_xid(), ops.tally_rows() FROM PUBLIC;
GRANT SELECT (write_xid) ON validation.record TO ncap_metric;
GRANT SELECT (write_xid) ON metric.record_state TO ncap_publish;
