-- 0015: a release is benchmarked (issue 12): rows at four levels (england, region, trust, site)
-- with both intervals, the comparison with England, funnel limits, the outlier flag, inequality
-- breakdowns and disclosure control, one row per line of latest.csv. The files themselves
-- (latest.csv, latest.json, fingertips.csv) are kept with the release, so that writing them out
-- again after a crash gives the same bytes.
--
-- The old output rows (trust and national only) cannot be turned into the new ones: they are
-- dropped with the old table, and publish.seen is emptied so that publish rebuilds every period
-- from the aggregates; each period gets a new revision in the new layout (releases already
-- written to files stay where they are).
DROP TABLE publish.output;
CREATE TABLE publish.output (
  release_id          bigint NOT NULL REFERENCES publish.release,
  ordinal             integer NOT NULL,
  level               text NOT NULL,
  area_code           text NOT NULL,
  area_name           text NOT NULL,
  parent_code         text NOT NULL,
  metric_id           text NOT NULL,
  breakdown           text NOT NULL,
  category            text NOT NULL,
  numerator           bigint,
  denominator         bigint,
  value               double precision,
  lower95             double precision,
  upper95             double precision,
  lower998            double precision,
  upper998            double precision,
  england_value       double precision,
  compared_to_england text NOT NULL,
  funnel_lower95      double precision,
  funnel_upper95      double precision,
  funnel_lower998     double precision,
  funnel_upper998     double precision,
  outlier             text NOT NULL,
  note                text NOT NULL,
  PRIMARY KEY (release_id, ordinal)
);
CREATE INDEX output_area_idx ON publish.output (area_code, metric_id);

CREATE TABLE publish.release_file (
  release_id bigint NOT NULL REFERENCES publish.release,
  name       text NOT NULL CHECK (name IN ('latest.csv', 'latest.json', 'fingertips.csv')),
  content    text NOT NULL,
  PRIMARY KEY (release_id, name)
);

TRUNCATE publish.seen;

GRANT SELECT, INSERT ON publish.output, publish.release_file TO ncap_publish;
-- publish sums metric.aggregate (0014) now, never metric.contribution.
REVOKE SELECT ON metric.contribution FROM ncap_publish;
REVOKE SELECT (audit, period, trust, metric_id, numerator, denominator) ON metric.contribution
  FROM ncap_publish;
