-- 0050 (issue 14): the date-of-birth blocking key goes with the sex: "d:<date of birth>:<sex>"
-- ("d:<date of birth>" as before when the sex is not known; link_ident_keys, link_incremental.h
-- has why). A date of birth's block held everyone born that day, and grew with the index, few of
-- them the person, every one read, copied and scored for each record (a million NHFD records:
-- 65-68 candidate rows a record, 57 with the sex); with the sex, half as many, and the block
-- stays comparable (under LINK_MAX_BLOCK) up to twice as many patients.
--
-- Each row of linkage.block holds the identifiers its key was made from, so the key of every
-- row made before is rewritten from them here, and a patient held is found by the new key as a
-- record's batch and the death sweep now look it up. The rows keep their identifiers; no two
-- rows can meet (no row had the new form before). On a large index this rewrites about a quarter
-- of linkage.block under its lock: linkage waits for it.
UPDATE linkage.block SET key = key || ':' || sex
WHERE key LIKE 'd:%' AND sex <> '' AND key = 'd:' || dob;
