-- 0048 (issue 14): linkage.quality_methods (0030, 0042) updates the records whose method changes
-- by a probe of record_quality's primary key each, whatever its plan cache chose. Its UPDATE joins
-- the changed records (a CTE over the batch's patients' records) back to linkage.record_quality;
-- the planner cannot see how many patients the array holds, and with the table's statistics it
-- hashed the CTE and scanned the whole table to probe the hash: a sequential scan of
-- linkage.record_quality on every linkage batch (211 scans and 10.9 million rows read in a
-- 100,000-record benchmark, O(table) per batch; 165 of the statement's 383 ms at 100,000 records,
-- and growing with the table). With hash and merge joins off, for this function alone, the join
-- is a nested loop over the changed records with an index probe each (the same run's statement:
-- the scan gone, O(records of the patients)). What it writes and locks is unchanged.
ALTER FUNCTION linkage.quality_methods(bigint[]) SET enable_hashjoin = off;
ALTER FUNCTION linkage.quality_methods(bigint[]) SET enable_mergejoin = off;
