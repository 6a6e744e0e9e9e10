-- 0029: ncap-webd's role (issue 16). The web server reads what publish has released and nothing
-- else: the releases (publish.release), their rows (publish.output) and their files
-- (publish.release_file: latest.json's metrics). Not publish's working tables, not the outlier
-- cases (a trust's cases reach it only through ingest's gateway, with the trust's token), not
-- the registry, no other schema. It writes nothing: the role's connections are read-only too
-- (services/web/web_db.c), and it creates nothing (no TEMPORARY, no CREATE).
DO $$
BEGIN
  CREATE ROLE ncap_web LOGIN;
EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
END $$;

DO $$
BEGIN
  EXECUTE format('GRANT CONNECT ON DATABASE %I TO ncap_web', current_database());
END $$;

GRANT USAGE ON SCHEMA publish TO ncap_web;
GRANT SELECT ON publish.release, publish.output, publish.release_file TO ncap_web;
