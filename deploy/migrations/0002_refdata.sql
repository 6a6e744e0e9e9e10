-- 0002: reference data that linkage joins records to: the register of deaths, the national data
-- opt-out, and the English index of multiple deprivation by LSOA. Loaded by `ncap refdata load`,
-- read by ncap-linkd. All of it is identifiable or joins to identifiers, so it lives in linkage.

-- A register-of-deaths extract. A reload replaces the set: rows whose content is unchanged keep
-- their death_id (row_hash is a hash of the normalised row), so links to them survive.
CREATE TABLE linkage.death (
  death_id      bigserial PRIMARY KEY,
  nhs_number    text NOT NULL DEFAULT '',
  forename      text NOT NULL DEFAULT '',
  surname       text NOT NULL DEFAULT '',
  date_of_birth date,
  sex           text NOT NULL DEFAULT '',
  postcode      text NOT NULL DEFAULT '',
  date_of_death date NOT NULL,
  row_hash      text NOT NULL UNIQUE,
  loaded_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX death_nhs_idx ON linkage.death (nhs_number) WHERE nhs_number <> '';
CREATE INDEX death_dob_idx ON linkage.death (date_of_birth);

-- NHS numbers of patients who opted out of the use of their data for research and planning.
CREATE TABLE linkage.optout (
  nhs_number text PRIMARY KEY,
  loaded_at  timestamptz NOT NULL DEFAULT now()
);

-- Index of multiple deprivation (2019, LSOA 2011): decile and quintile, 1 = most deprived.
CREATE TABLE linkage.imd (
  lsoa         text PRIMARY KEY,
  imd_rank     integer NOT NULL,
  imd_decile   smallint NOT NULL CHECK (imd_decile BETWEEN 1 AND 10),
  imd_quintile smallint NOT NULL CHECK (imd_quintile BETWEEN 1 AND 5)
);

-- One row per load, for `ncap refdata status` and the audit trail.
CREATE TABLE linkage.refdata_load (
  load_id   bigserial PRIMARY KEY,
  kind      text NOT NULL CHECK (kind IN ('deaths', 'optouts', 'imd')),
  file      text NOT NULL DEFAULT '',
  rows      integer NOT NULL,
  added     integer NOT NULL DEFAULT 0,
  removed   integer NOT NULL DEFAULT 0,
  loaded_at timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON linkage.death, linkage.optout, linkage.imd,
  linkage.refdata_load TO ncap_linkage;
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA linkage TO ncap_linkage;
