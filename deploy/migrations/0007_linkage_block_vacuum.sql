-- 0007: keep the patient index's visibility map current. A record's candidates are read from the
-- primary key of linkage.block, which holds every identifier, so the lookup is an index-only scan
-- only on pages autovacuum has marked all-visible; otherwise each candidate costs a heap fetch
-- (measured: p99 12 ms instead of 4 ms per record against 1,000,000 patients). By default an
-- insert-only table is vacuumed after inserts of 20 % of its size (800,000 rows of a 4,000,000-row
-- index); here after 1 % or 10,000 rows, whichever is more.
ALTER TABLE linkage.block SET (autovacuum_vacuum_insert_scale_factor = 0.01,
                               autovacuum_vacuum_insert_threshold = 10000);
