-- 0044 (issue 14): publish.delay_add (0033) groups a round's record versions by hashing, not by
-- sorting them. Its planner cannot see how many versions the arrays hold (an unnest of a
-- function's parameters is estimated at 10 rows), so it sorted them on five keys, text and
-- numeric, to group them: for a round of 4,116 versions the sort was about 60 ms of the
-- function's 170 ms, and the function about half of the time of publish's round statement (its
-- upsert of publish.seen fires the trigger that calls it). A hash of the same keys groups them
-- in a pass. The same estimate keeps its joins the index lookups they should be (a better one
-- would hash whole tables), so only sorting is turned off, for this function alone. The groups,
-- their counts and so publish.delay are unchanged: the ledger's readers order what they read.
ALTER FUNCTION publish.delay_add(bigint[], integer[], text[], text[], timestamptz[])
  SET enable_sort = off;
