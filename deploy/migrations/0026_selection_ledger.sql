-- 0026: the selection ledger (issue 15): a release states what its figures leave out. Records
-- whose validation failed now count in metric.aggregate (and metric.contribution), once each, under
-- the metric id '!rejected' (services/metric/contribution.h CONTRIBUTION_REJECTED: numerator 0,
-- denominator 1, breakdown 'all', per trust, site and month of the record's period field), so that
-- publish reads them as sums like every other count and never a record (latest.csv's `rejected`,
-- README.md "latest.csv"). No new table and no new grant: publish already reads metric.aggregate.
--
-- An existing deployment: metric took its invalid records and kept nothing of them. Forgetting
-- that it took them (metric.processed) and lowering their applied link revision below any real one
-- (-1) makes metric take each again and count it; the valid ones are not touched. Its watermark
-- goes back to the start so that its sweep finds them (0018). On a new database these do nothing
-- but move the watermark, which is at the start already.
DELETE FROM metric.processed p USING metric.record_state s
  WHERE s.record_id = p.record_id AND s.version = p.version AND NOT s.valid;
UPDATE metric.record_state SET link_revision = -1 WHERE NOT valid;
UPDATE metric.watermark SET write_xid = '0', record_id = 0, version = 0;
