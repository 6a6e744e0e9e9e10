-- 0057 (issue 14): the records released from a stage's quarantine (`ncap quarantine retry`, held =
-- false) walked in order by an index of them alone (STAGE_RELEASED, common/runtime/stage.h):
-- each backlog sweep and backlog count of linkage, validation and metric looks for them, and
-- without an index that was a scan of the whole quarantine. A definition that fails every record
-- of an audit holds them all: with 1,000,000 held and none released, each sweep's look took 94 ms
-- (a parallel scan, three processes), with this index 0.08 ms; and once `ncap quarantine retry
-- --all` releases them, each sweep reads only the released it takes, not every one. The index
-- holds only the released, none between a retry's records being taken and the next retry.
DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['linkage', 'validation', 'metric']
  LOOP
    EXECUTE format('CREATE INDEX quarantine_released_idx ON %I.quarantine (record_id, version)'
                   ' WHERE NOT held', s);
  END LOOP;
END $$;
