/* fs_model.h - Fellegi-Sunter record linkage: comparison vectors, parameters learned without
 * labels (u from random pairs, m and the prior by expectation-maximisation over candidate pairs),
 * term-frequency adjustment for common names, match weight and probability.
 *
 * Records are rows of normalised values (fs_value_normalise), NULL for null. A pair's comparison
 * gives each field a level: 0 is null (either side null; weight 0), 1 the strongest agreement,
 * the last level disagreement. Match weight = sum over fields of log2(m/u) at the pair's level;
 * probability = 1 / (1 + 2^-(weight + log2(prior / (1 - prior)))). */
#ifndef NCAP_FS_MODEL_H
#define NCAP_FS_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fs_em.h"

typedef enum {
    FS_KIND_NHS_NUMBER, /* 10 digits; levels exact, one transposition or wrong digit, else */
    FS_KIND_FORENAME,   /* exact, swapped with surname, Jaro-Winkler >= 0.92, >= 0.80, else */
    FS_KIND_SURNAME,    /* the same */
    FS_KIND_NAME,       /* exact, Jaro-Winkler >= 0.92, >= 0.80, else */
    FS_KIND_DOB,        /* YYYYMMDD; exact, day and month swapped, one component off, within a
                           year, else */
    FS_KIND_SEX,        /* m or f; exact, else */
    FS_KIND_POSTCODE,   /* UK, "SW1A 1AA"; full, sector, district, area, else */
    FS_KIND_NUMBER,     /* digits; exact, one edit or transposition, two edits, else */
    FS_KIND_TEXT,       /* exact, Jaro-Winkler >= 0.92, >= 0.80, else */
    FS_KIND_EXACT       /* exact, else */
} fs_kind_t;

/* "forename" -> FS_KIND_FORENAME; 0, or -1 for a name that is no kind ("id" and "ignore" are
 * the caller's). */
int fs_kind_parse(const char *name, fs_kind_t *kind);
const char *fs_kind_name(fs_kind_t kind);
/* Number of levels of a kind, null level included. */
size_t fs_kind_levels(fs_kind_t kind);

/* A date as linkage reads them, years 1800-2999: YYYY-MM-DD or DD/MM/YYYY as ncap_date_parse
 * (common/datetime.h) reads them, blanks around allowed, or YYYYMMDD (8 digits). Returns 0, or -1
 * when s is no such date. */
int fs_date_parse(const char *s, int *y, int *m, int *d);

/* Normalises raw (already trimmed) into out (outsz bytes): lower case and single spaces for
 * names and text, YYYYMMDD for dates (fs_date_parse), "m"/"f" for sex, upper case "OUT IN" for
 * postcodes (postcode_check of common/postcode.h: a UK postcode, or an NHS pseudo-postcode such
 * as ZZ99 3VZ), digits for numbers.
 * Returns 1 with a value, 0 for null: empty; an unknown sex; an NHS number that is one digit
 * repeated; a postcode that gives no address (ZZ99 3WZ not known, a country's pseudo-postcode;
 * ZZ99 3VZ, no fixed abode, is a value); a name or text of punctuation alone or a placeholder for
 * "not known" ("unknown", "not known", "not stated", "N/K", "N/A", "null", "none"). -1 when the
 * kind cannot parse it (to be compared as null and counted).
 *
 * Missing is not disagreement: a null on either side is level 0 for every kind, which weighs 0
 * (fs_model_score, link_score) and which EM leaves out of m and u (fs_em.h). */
int fs_value_normalise(fs_kind_t kind, const char *raw, char *out, size_t outsz);

typedef struct {
    size_t nrecords;
    size_t nfields;
    fs_kind_t kinds[FS_MAX_FIELDS];
    const char *const *values; /* values[r * nfields + f], NULL for null; not owned */
    /* Two-file linkage: records [0, nleft) are file A, the rest file B, and only pairs across
     * the files are candidates. 0 means one file (duplicates within it). */
    size_t nleft;
} fs_data_t;

/* A pair of record indexes i < j packed as i << 32 | j. */
#define FS_PAIR(i, j) (((uint64_t)(i) << 32) | (uint64_t)(j))
#define FS_PAIR_LEFT(p) ((size_t)((p) >> 32))
#define FS_PAIR_RIGHT(p) ((size_t)((p)&0xffffffffu))

/* Levels of every field for records i and j into levels[nfields]. */
void fs_compare(const fs_data_t *data, size_t i, size_t j, uint8_t *levels);

typedef struct fs_model_t fs_model_t;

/* A model over data (which must outlive it), not yet trained: each value is prepared for
 * comparing once (interned, measured, parsed). NULL when out of memory, or data has no field,
 * too many, or 67 million records or more. */
fs_model_t *fs_model_new(const fs_data_t *data);
void fs_model_destroy(fs_model_t **self_p);
/* Learns u from random pairs drawn with seed, then m and the prior by EM over the candidate
 * pairs: once per blocking rule (blocking_rules) over the pairs agreeing on its key, with the
 * rule's own fields left out, so that the agreement blocking selected is not taken for evidence
 * of a match. A field's m is the mean over the rules that leave it out, weighted by their
 * expected matches (EM over all candidates for a field every rule uses), except at disagreement
 * (the last level), which takes the lowest any of those rules found, the other levels scaled to
 * sum to 1 with it. Why: a rule's class of matches also holds the lookalikes its blocking
 * gathered (relatives sharing a surname and an address, twins sharing a date of birth), who
 * disagree on the fields that tell them apart; averaged in, they made a different date of birth
 * or NHS number weak evidence, and at 500,000 records linked whole households. The least
 * contaminated rule is the closest to how often one person's records really disagree; erring low
 * makes disagreement count more, which favours precision, the worse error to lose. Free text (kind
 * text: a town, an e-mail address) keeps the weighted mean: it follows the blocking keys rather
 * than the person (a rule blocking on a postcode district finds the town always agreeing), so
 * the lowest a rule finds is that correlation, m near 0; at 500,000 simulated records a
 * different town then weighed -20 bits and split the records of people who had moved (recall
 * 0.981, 0.997 without). The prior is the
 * expected number of matches among the candidates (per pair, the highest probability any of
 * its rules gives) over all pairs of the data: near 0 when the files share no one. Returns 0,
 * or -1 when out of memory. */
int fs_model_train(fs_model_t *self, const uint64_t *pairs, size_t npairs, uint64_t seed);
/* Term-frequency adjustment, as both linkers apply it: the weight of an exact agreement on a value
 * that a share frequency of the people compared hold is log2(m1 / max(frequency, min_u)), m1 the
 * field's m at exact agreement; its u is the chance that someone else holds the value too.
 * fs_model_score gives it with the value's share of the records (from logarithms kept per value),
 * ncap-linkd (link_score) with its share of the patients, both with the field's learned u as
 * min_u: the adjustment only lowers a common value's weight, and a rare one keeps log2(m1 / u1).
 * Why floored: relatives share a rare surname and an address, and boosting rare surnames made
 * households into one person (at 500,000 simulated records, 46% of the false pairs). */
double fs_tf_weight(double m1, double frequency, double min_u);
/* Match weight of records i and j (term-frequency adjusted: fs_tf_weight for an exact name), and
 * the probability from it and the prior. A valid NHS number with an agreeing date of birth links at
 * once (probability 1). */
double fs_model_score(const fs_model_t *self, size_t i, size_t j, double *probability);
/* fs_model_score of pairs[p], one of the pairs fs_model_train was last given (pairs), from the
 * levels it kept of them: the candidates are compared once, not again to be scored. */
double fs_model_score_trained(const fs_model_t *self, const uint64_t *pairs, size_t p,
                              double *probability);
/* Whether pairs[p] (as fs_model_score_trained) holds two different valid NHS numbers (check digit
 * right, more than one digit apart): two people, whatever else they share. */
bool fs_model_apart_trained(const fs_model_t *self, const uint64_t *pairs, size_t p);
double fs_model_prior(const fs_model_t *self);

/* The waterfall of one pair, as fs_model_score adds it up: per field its level, m and u at the
 * level, the weight log2(m / u) (0 at the null level: a blank on either side is no evidence),
 * and the term-frequency adjustment added to it (an exact agreement on a name: fs_tf_weight of
 * the value's share of the records, minus log2(m / u); else 0); the total, the log2 prior odds,
 * and the probability. */
typedef struct {
    uint8_t level[FS_MAX_FIELDS];
    double m[FS_MAX_FIELDS], u[FS_MAX_FIELDS];
    double weight[FS_MAX_FIELDS];
    double tf[FS_MAX_FIELDS];
    double total; /* sum of weight and tf: fs_model_score's match weight */
    double log2_prior_odds;
    double probability;
    bool deterministic; /* a valid NHS number and the date of birth agree: probability 1 */
} fs_explain_t;
void fs_model_explain(const fs_model_t *self, size_t i, size_t j, fs_explain_t *out);
/* What level of kind means ("null", "exact", "swapped with surname", ...). */
const char *fs_kind_level_name(fs_kind_t kind, size_t level);
double fs_model_m(const fs_model_t *self, size_t field, size_t level);
double fs_model_u(const fs_model_t *self, size_t field, size_t level);

/* The whole offline run: candidates by blocking, training, scoring and clustering. */
typedef struct {
    uint64_t *pairs; /* candidate pairs, sorted */
    double *weight;
    double *probability;
    size_t npairs;
    size_t *cluster; /* per record: smallest record index of its group */
    size_t nrules;
    double prior;
} fs_result_t;

/* How scored pairs become people: groups that hold together (clustering_cohesive: a record
 * joins a group only when it matches the group as a whole, so one lookalike record cannot chain
 * two people into one), connected components (every pair at or above the threshold joins its
 * two records' groups, whatever else they hold), or one-to-one (each record linked to at most one
 * other, the most probable first: a death links to at most one patient). */
typedef enum { FS_CLUSTER_COHESIVE, FS_CLUSTER_COMPONENTS, FS_CLUSTER_ONE_TO_ONE } fs_clustering_t;

/* Links data with seed at threshold into *result (fs_result_free releases it), clustering
 * groups that hold together (FS_CLUSTER_COHESIVE). Returns 0, or -1 when out of memory. */
int fs_link(const fs_data_t *data, uint64_t seed, double threshold, fs_result_t *result);
/* The same with the clustering chosen. */
int fs_link_clustered(const fs_data_t *data, uint64_t seed, double threshold,
                      fs_clustering_t clustering, fs_result_t *result);
void fs_result_free(fs_result_t *result);

#endif
