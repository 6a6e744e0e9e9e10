-- 0006: feedback counts the records linkage withheld under the national data opt-out, so a
-- submission with opted-out patients is seen as finished. Counts only: no patient is named.
GRANT SELECT ON linkage.optout_count TO ncap_ingest;
