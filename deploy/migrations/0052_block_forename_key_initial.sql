-- 0052 (issue 14): the forename blocking key goes with the surname's first character:
-- "f:<forename>:<year of birth>:<initial>" ("f:<forename>:<year of birth>:" when the surname is
-- not known; link_ident_keys, link_incremental.h has why). A forename and a year of birth hold
-- everyone of that name born that year ("mary" born in 1935): at 100,000 NHFD records the key's
-- block held 35 rows on average for a record looking it up, 70% of the candidate rows linkage
-- read, copied and scored, nearly all of them other people; with the initial, about a fifteenth
-- as many.
--
-- Each row of linkage.block holds the identifiers its key was made from, so the key of every
-- such row is rewritten from its own surname here (left(surname, 1), the first character, as
-- link_ident_keys takes the first UTF-8 character), and a patient held is found by the new key as
-- a record's batch now looks it up. The rows keep their identifiers; no two rows can meet (a key
-- only grows by what its own row holds). A key of the old form ends in the year of birth. On a
-- large index this rewrites about a quarter of linkage.block under its lock, and linkage waits
-- for it: 0.6 s for the 95,223 keys of the 100,000-record benchmark's index (2 cores), so some
-- seconds per million patients (more as the index outgrows memory).
UPDATE linkage.block SET key = key || ':' || left(surname, 1)
WHERE key LIKE 'f:%' AND key ~ ':[0-9]{4}$';
