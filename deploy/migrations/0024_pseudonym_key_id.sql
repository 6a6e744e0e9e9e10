-- 0024: rotating the pseudonymisation key. A pseudonym is HMAC-SHA-256 of the patient id under a
-- key held outside the database (services/linkage/decide/pseudonym.h); replacing the key file gives
-- the records linked afterwards new pseudonyms. So that the records pseudonymised before follow,
-- each record version now says which key made its pseudonym, and linkage's sweep re-pseudonymises
-- those made under another key than its own (services/linkage/store/rekey_sweep.h).

-- The id of the key that made the pseudonym: the first 16 hex characters of HMAC(key, "ncap
-- pseudonym key id"), never the key. NULL for a row written before this migration: the sweep
-- stamps it (and re-pseudonymises it only when its pseudonym is not the running key's).
ALTER TABLE linkage.pseudo_record ADD COLUMN key_id text;

-- The sweep finds the rows under another key than the running one ('' for none) in two index
-- ranges, below and above it: O(rows left), nothing once every row carries the running key.
CREATE INDEX pseudo_record_key_idx ON linkage.pseudo_record ((coalesce(key_id, '')));

-- Which key each linkage process runs with, as it last said: two processes with different keys at
-- once would re-pseudonymise records back and forth, so a sweep that hears another key id from a
-- process since it started, within the last minute, logs an error and does not re-key. No secret:
-- key ids only. A process's row is refreshed at most every few seconds; rows a day old are removed.
CREATE TABLE linkage.key_in_use (
  holder     text PRIMARY KEY,            -- host:pid:random of one ncap-linkd process
  key_id     text NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now(),
  heard_at   timestamptz NOT NULL DEFAULT now()
);

GRANT SELECT, INSERT, UPDATE, DELETE ON linkage.key_in_use TO ncap_linkage;
