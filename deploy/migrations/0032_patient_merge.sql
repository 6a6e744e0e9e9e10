-- 0032 (issue 18): ncap-linkd merges two patients. A record that matches two held patients, when
-- the two also match each other as a whole (link_assign.h), shows that they are one person whose
-- first records made two patients: the one with fewer sets of identifiers is merged into the other
-- in the record's transaction (patient_merge.h). Its blocking keys move to the other patient (so the
-- linkage role now deletes rows of linkage.block: those of the patient merged, copied first), its
-- records' links move (linkage.link.patient_id is updated: the only column of a link that ever
-- changes), and the patient keeps its row, saying where it went. Until 0032 patients, blocking
-- keys and links were only ever added (0012).

-- The patient this one was merged into, or NULL: it holds no blocking key and no link since.
ALTER TABLE linkage.patient ADD COLUMN merged_into bigint REFERENCES linkage.patient;

GRANT UPDATE (merged_into) ON linkage.patient TO ncap_linkage;
GRANT DELETE ON linkage.block TO ncap_linkage;
GRANT UPDATE (patient_id) ON linkage.link TO ncap_linkage;
