-- 0003: the patient index for incremental probabilistic linkage (issue 4), held in the linkage
-- schema so that any linkage instance can serve any record; links of patients to the register of
-- deaths; counts of records withheld under the national data opt-out.

-- The patient index: for each blocking key of a patient ("n:<NHS number>", "d:<dob>",
-- "s:<surname soundex>:<postcode district>", "f:<forename>:<year of birth>"), the identifiers
-- seen with it, normalised ('' for unknown): NHS number (10 digits), names (lower case), date of
-- birth YYYYMMDD, sex m/f, postcode "OUT IN". A new record is compared only with the patients
-- sharing one of its keys; the identifiers sit in the primary key's index, so finding and reading
-- a key's candidates is one index range scan.
CREATE TABLE linkage.block (
  key        text NOT NULL,
  patient_id bigint NOT NULL REFERENCES linkage.patient,
  nhs_number text NOT NULL DEFAULT '',
  forename   text NOT NULL DEFAULT '',
  surname    text NOT NULL DEFAULT '',
  dob        text NOT NULL DEFAULT '',
  sex        text NOT NULL DEFAULT '',
  postcode   text NOT NULL DEFAULT '',
  PRIMARY KEY (key, patient_id, nhs_number, forename, surname, dob, sex, postcode)
);
CREATE INDEX block_patient_idx ON linkage.block (patient_id);

-- Fellegi-Sunter parameters every instance uses: m and u per comparison field and level, and
-- the settings (log2 prior odds, threshold). Filled with documented defaults on first start.
CREATE TABLE linkage.match_param (
  field text NOT NULL,
  level smallint NOT NULL,
  m     double precision NOT NULL CHECK (m > 0 AND m <= 1),
  u     double precision NOT NULL CHECK (u > 0 AND u <= 1),
  PRIMARY KEY (field, level)
);
CREATE TABLE linkage.match_setting (
  name  text PRIMARY KEY,
  value double precision NOT NULL
);

-- One death to at most one patient and one patient to at most one death.
CREATE TABLE linkage.death_link (
  death_id   bigint PRIMARY KEY REFERENCES linkage.death ON DELETE CASCADE,
  patient_id bigint NOT NULL UNIQUE REFERENCES linkage.patient,
  weight     double precision NOT NULL,
  linked_at  timestamptz NOT NULL DEFAULT now()
);

-- Records withheld under the opt-out: the record version (so that it is processed once, and
-- not taken again from the backlog), and counts per audit, trust and submission. Nothing here
-- says which patient; nothing of it leaves linkage.
CREATE TABLE linkage.optout_withheld (
  record_id bigint NOT NULL,
  version   integer NOT NULL,
  PRIMARY KEY (record_id, version)
);
CREATE TABLE linkage.optout_count (
  audit         text NOT NULL,
  trust         text NOT NULL,
  submission_id bigint NOT NULL,
  records       integer NOT NULL,
  PRIMARY KEY (audit, trust, submission_id)
);

-- Patients linked before this index existed (key "nhs:<digits>:<YYYY-MM-DD>") keep their ids.
INSERT INTO linkage.block (key, patient_id, nhs_number, dob)
SELECT v.k, p.patient_id, p.nhs, p.dob
FROM (SELECT patient_id, split_part(key, ':', 2) AS nhs,
        replace(split_part(key, ':', 3), '-', '') AS dob
      FROM linkage.patient_key WHERE key LIKE 'nhs:%') p,
  LATERAL (VALUES ('n:' || p.nhs), ('d:' || p.dob)) AS v(k)
ON CONFLICT DO NOTHING;

GRANT SELECT, INSERT, UPDATE, DELETE ON linkage.block, linkage.match_param,
  linkage.match_setting, linkage.death_link, linkage.optout_withheld, linkage.optout_count
  TO ncap_linkage;
