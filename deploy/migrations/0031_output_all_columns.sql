-- 0031 (issue 16): publish.output holds every column of latest.csv, so that ncap-webd's read API
-- answers a release's rows as its files state them. 0015 kept the first 24 (audit and period are
-- the release's); the columns latest.csv gained since (the expected count of a ratio, the records
-- held, missing, rejected, left out and withheld under the national data opt-out, and the bounds
-- of the value with those left out counted) are added here, nullable as latest.csv's cells are
-- empty where they do not apply. publish writes them for every revision made from now on; the
-- rows of revisions made before stay as they are (their new columns NULL, answered empty by the
-- API): a final release is never changed (0025), and the files still hold every column.
ALTER TABLE publish.output
  ADD COLUMN expected         double precision,
  ADD COLUMN held             bigint,
  ADD COLUMN missing          bigint,
  ADD COLUMN rejected         bigint,
  ADD COLUMN left_out         bigint,
  ADD COLUMN bound_lower      double precision,
  ADD COLUMN bound_upper      double precision,
  ADD COLUMN withheld_opt_out bigint;
