-- 0009: term frequencies for ncap-linkd's scores. `ncap link-train` stores, in the transaction
-- that replaces linkage.match_param and raises params_version, each forename, surname and full
-- postcode more common among the patients held than the field's u at exact agreement, with its
-- share of the patients holding a value in that field; every ncap-linkd instance loads them with
-- the parameters. An exact agreement on a value held here weighs log2(m / frequency) instead of
-- log2(m / u) (link_incremental.h). Values normalised as in linkage.block. Identifiable (names,
-- postcodes): it stays in the linkage schema.
CREATE TABLE linkage.match_term_freq (
  field     text NOT NULL CHECK (field IN ('forename', 'surname', 'postcode')),
  value     text NOT NULL CHECK (value <> ''),
  frequency double precision NOT NULL CHECK (frequency > 0 AND frequency <= 1),
  PRIMARY KEY (field, value)
);
GRANT SELECT, INSERT, UPDATE, DELETE ON linkage.match_term_freq TO ncap_linkage;
