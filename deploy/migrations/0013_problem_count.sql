-- 0013: a file-level problem ingest keeps once per rule (a wrong number of columns, a row that is
-- not CSV, text not in UTF-8: a broken export repeats it on every row) is one row of ingest.problem
-- with how many rows had it and the first 1,000 of them, instead of one row per row of the file:
-- a 2 MB file of one-column lines wrote a million problems (110 MB). row_number is the first row.
-- Record-level problems stay one row each (occurrences 1, first_rows NULL).
ALTER TABLE ingest.problem
  ADD COLUMN occurrences integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
  ADD COLUMN first_rows integer[];
