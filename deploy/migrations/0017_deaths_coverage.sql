-- 0017: how far the register of deaths reaches (issue 13, follow-up completeness). An outcome
-- within N days of a record's period date (NHFD's mortality_30d) is known only once the register
-- covers that day. `ncap refdata load deaths FILE --covers-to DATE` records the extract's coverage
-- (default: its latest date of death), which never goes back; linkage stamps it on each record as
-- the linked value deaths_covered_to, and when it advances re-derives the records whose follow-up
-- it completes (link revisions, as for a death loaded late: 0008).

-- The coverage each load of deaths claimed (NULL for other kinds), for `ncap refdata status`.
ALTER TABLE linkage.refdata_load ADD COLUMN covers_to date;

-- The register's coverage now: one row once a register has been loaded, none before. Written by
-- `ncap refdata load deaths` in the transaction that replaces linkage.death, so that whoever reads
-- a coverage also sees every death loaded with it.
CREATE TABLE linkage.death_coverage (
  one        boolean PRIMARY KEY DEFAULT true CHECK (one),
  covers_to  date NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- The first coverage at which a follow-up window of the record's metrics completes that the
-- coverage stamped on it (deaths_covered_to) left open: the death sweep re-derives the record once
-- the register covers it. NULL when nothing waits (no metric with follow_up_days, no period date,
-- every window complete). Records linked before this migration wait for the first coverage.
ALTER TABLE linkage.pseudo_record ADD COLUMN follow_up_due date;
UPDATE linkage.pseudo_record p SET follow_up_due = '-infinity' WHERE NOT EXISTS
  (SELECT 1 FROM linkage.pseudo_record x WHERE x.record_id = p.record_id AND x.version > p.version);
CREATE INDEX pseudo_record_follow_up_idx ON linkage.pseudo_record (follow_up_due)
  WHERE follow_up_due IS NOT NULL;

-- linkage reads the coverage; only the operator's load writes it (as linkage.death, 0012).
GRANT SELECT ON linkage.death_coverage TO ncap_linkage;
