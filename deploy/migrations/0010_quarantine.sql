-- 0010: the quarantine (DESIGN.md invariant 6). A record a stage cannot process is kept here, in the
-- stage's own schema, written in the transaction of its batch: never dropped and never counted as
-- zero. While held it is left out of the stage's backlog; `ncap quarantine retry` releases it
-- (held = false) and the stage takes it again, removing the row once it succeeds. A new link
-- revision of the record is taken as any record is (the key includes the revision).

DO $$
DECLARE s text;
BEGIN
  FOREACH s IN ARRAY ARRAY['linkage', 'validation', 'metric']
  LOOP
    EXECUTE format($f$
      CREATE TABLE %I.quarantine (
        record_id     bigint NOT NULL,
        version       integer NOT NULL,
        link_revision integer NOT NULL DEFAULT 0,
        stage         text NOT NULL,
        error_class   text NOT NULL,    -- input, definition, evaluation, data
        sqlstate      text,             -- PostgreSQL's, for a data error
        message       text NOT NULL,
        first_seen    timestamptz NOT NULL DEFAULT now(),
        last_seen     timestamptz NOT NULL DEFAULT now(),
        attempts      integer NOT NULL DEFAULT 1,
        held          boolean NOT NULL DEFAULT true,
        PRIMARY KEY (record_id, version, link_revision)
      )$f$, s);
    EXECUTE format('GRANT SELECT, INSERT, UPDATE, DELETE ON %I.quarantine TO %I', s, 'ncap_' || s);
  END LOOP;
END $$;
