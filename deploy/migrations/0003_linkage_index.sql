-- 0003: the patient index for incremental probabilistic linkage (issue 4), held in the linkage
-- schema so that any linkage instance can serve any record; links of patients to the register of
-- deaths; counts of records withheld under the national data opt-out.

-- Each distinct set of identifiers seen for a patient, normalised ('' for unknown): NHS number
-- (10 digits), names (lower case), date of birth YYYYMMDD, sex m/f, postcode "OUT IN".
CREATE TABLE linkage.identity (
  patient_id bigint NOT NULL REFERENCES linkage.patient,
  nhs_number text NOT NULL DEFAULT '',
  forename   text NOT NULL DEFAULT '',
  surname    text NOT NULL DEFAULT '',
  dob        text NOT NULL DEFAULT '',
  sex        text NOT NULL DEFAULT '',
  postcode   text NOT NULL DEFAULT '',
  PRIMARY KEY (patient_id, nhs_number, forename, surname, dob, sex, postcode)
);

-- Blocking keys of each patient ("n:<NHS number>", "d:<dob>", "s:<surname soundex>:<district>",
-- "f:<forename>:<year of birth>"): a new record is compared only with the patients sharing one.
CREATE TABLE linkage.block (
  key        text NOT NULL,
  patient_id bigint NOT NULL REFERENCES linkage.patient,
  PRIMARY KEY (key, patient_id)
);

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
INSERT INTO linkage.identity (patient_id, nhs_number, dob)
SELECT patient_id, split_part(key, ':', 2), replace(split_part(key, ':', 3), '-', '')
FROM linkage.patient_key WHERE key LIKE 'nhs:%'
ON CONFLICT DO NOTHING;
INSERT INTO linkage.block (key, patient_id)
SELECT k, patient_id FROM linkage.identity,
  LATERAL (VALUES ('n:' || nhs_number), ('d:' || dob)) AS v(k)
WHERE nhs_number <> '' AND dob <> ''
ON CONFLICT DO NOTHING;

GRANT SELECT, INSERT, UPDATE, DELETE ON linkage.identity, linkage.block, linkage.match_param,
  linkage.match_setting, linkage.death_link, linkage.optout_withheld, linkage.optout_count
  TO ncap_linkage;
