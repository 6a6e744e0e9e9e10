/* link_incremental.h - linking one record at a time against the patients already held (pure: no
 * SQL). A record's identifiers are normalised into a link_ident_t; its blocking keys name the
 * groups of held patients worth comparing it with; it is scored against each candidate with the
 * comparison levels of fs_model (Fellegi-Sunter) and joins the best one at or above the threshold,
 * or becomes a new patient (link_assign.h). A valid NHS number with an agreeing date of birth
 * links at once.
 *
 * Parameters: documented defaults (link_params_default), not learned per instance. Why: records
 * arrive one by one, so early on there is too little data for EM to be stable, and every linkage
 * instance must score alike. The defaults are stored in the linkage schema (linkage.match_param)
 * on first start; `ncap link-train` replaces them there with m, u and the prior learned from the
 * index (link_train.h), and every instance loads them again at its next batch.
 *
 * Term frequencies: an exact agreement on a common forename, surname or postcode ("smith",
 * "mary", a care home's postcode, ZZ99 3VZ for no fixed abode) is weaker evidence than on a rare
 * one. Where p->tf holds the agreed value, its u is the value's frequency among the patients held
 * (as fs_model adjusts the offline linker's names), but never below the field's u at exact
 * agreement: the adjustment only lowers a common value's weight, rare values keep the learned
 * weight. Why floored: a rare value's frequency in an index growing one record at a time rests
 * on a handful of patients, and family members share a rare surname and an address, so boosting
 * rare values would buy false links; and only values more common than u need storing (at most
 * 1/u of them per field). */
#ifndef NCAP_LINK_INCREMENTAL_H
#define NCAP_LINK_INCREMENTAL_H

#include <stdbool.h>
#include <stddef.h>

#include "fs_model.h"
#include "term_freq.h"

/* The identifiers compared, in this order; "" for null. */
enum { LI_NHS, LI_FORENAME, LI_SURNAME, LI_DOB, LI_SEX, LI_POSTCODE, LI_NFIELDS };

typedef struct {
    char nhs[11];      /* 10 digits as given (check digit not required), or "" */
    bool nhs_valid;    /* nhs passes the check digit and is no placeholder or test number */
    char forename[48]; /* lower case, single spaces */
    char surname[48];
    char dob[9];       /* YYYYMMDD */
    char sex[2];       /* "m", "f" */
    char postcode[10]; /* "SW1A 1AA" */
} link_ident_t;

/* The comparison field names as stored in linkage.match_param ("nhs_number", "forename", ...),
 * which are also the link_as roles that name the fields in an audit definition. */
const char *link_field_name(size_t field);
size_t link_field_levels(size_t field); /* levels of fs_model, null level included */
/* True for the fields whose exact agreement is adjusted for term frequency: forename, surname and
 * postcode. */
bool link_field_tf(size_t field);

typedef struct {
    double m[LI_NFIELDS][FS_MAX_LEVELS];
    double u[LI_NFIELDS][FS_MAX_LEVELS];
    double w[LI_NFIELDS][FS_MAX_LEVELS]; /* log2(m/u), from link_params_update */
    double log2_prior_odds; /* that a record and one candidate patient are the same person */
    double threshold;       /* match probability at or above which a candidate is taken */
    /* Frequencies of common values per field (LI_FORENAME ...), or NULL for no term-frequency
     * adjustment; not owned: whoever loaded it keeps it while p scores. */
    const term_freq_t *tf;
} link_params_t;

/* The documented defaults (see link_incremental.c), weights computed, no term frequencies. */
void link_params_default(link_params_t *p);
/* Recomputes w from m and u after they were changed. */
void link_params_update(link_params_t *p);

/* Normalises separate raw values (any may be NULL; values that do not parse are null): a
 * record's identifiers (link_record_prepare) or reference data such as deaths. */
void link_ident_from_values(const char *nhs, const char *forename, const char *surname,
                            const char *dob, const char *sex, const char *postcode,
                            link_ident_t *out);
/* The identifiers as link_ident_from_values left them and linkage.block stores them (each
 * already normalised, so copied, not normalised again: normalising is idempotent, and a
 * record's candidates are read by the tens per record). A value that does not fit its field (not
 * one link_ident_from_values made) is normalised as a raw one. */
void link_ident_from_stored(const char *nhs, const char *forename, const char *surname,
                            const char *dob, const char *sex, const char *postcode,
                            link_ident_t *out);
/* True when a and b hold the same identifiers. */
bool link_ident_same(const link_ident_t *a, const link_ident_t *b);
/* True when id has nothing to link on (no NHS number, date of birth or name). */
bool link_ident_empty(const link_ident_t *id);

#define LINK_MAX_KEYS 4
#define LINK_KEY_LEN 80

/* Blocking keys of id: "n:<NHS number>", "d:<date of birth>:<sex>" ("d:<date of birth>" when
 * the sex is not known: link_ident_dob_key), "s:<surname soundex>:<postcode district>",
 * "f:<forename>:<year of birth>:<the surname's first character>" (nothing after the year when
 * the surname is not known) (those whose parts are known). Returns how many.
 *
 * Why the forename key takes the surname's initial: a forename and a year of birth hold everyone
 * of that name born that year, nearly none of them the person (at 100,000 NHFD records 35 rows
 * for a record looking it up, 70% of all the candidate rows read; at a million most such blocks
 * passed LINK_MAX_BLOCK and gave none). With the initial, about a fifteenth as many. What it
 * gives up: a record whose only key in common with its patient's is this one (no NHS number, the
 * date of birth wrong, surname sound code or postcode district changed) and whose surname now
 * begins otherwise (married, or a typo in its first letter). `tests/bench/linkage_scale.sh` at
 * 500,000: agreement with the batch linker 0.9912 -> 0.9909, F1 against the truth 0.9914 ->
 * 0.9912; test_link_incremental_sim's F1 and deaths the same to the last digit printed.
 *
 * Why the date of birth goes with the sex: a date of birth's block holds everyone born that day,
 * and grows with the index, few of them the person (at a million NHFD records a record read 65-68
 * candidate rows, 57 with the sex); with the sex, half as many, and it stays under LINK_MAX_BLOCK
 * (comparable) up to twice the patients. What it gives up: a record
 * whose only key in common with its patient's is the date of birth (no NHS number, surname and
 * postcode district and forename all changed) and whose sex is recorded differently (or given in
 * one and not the other). On the simulator's records with our noise on top
 * (test_link_incremental_sim) pairwise F1 and the deaths linked are the same to the sixth digit
 * with either key; README.md "Record linkage: the method" has the figures. */
/* Into key the date-of-birth key of id ("d:<date of birth>:<sex>", or "d:<date of birth>" when
 * its sex is not known); false (key untouched) when its date of birth is not known. The death
 * sweep looks patients up by the same key. */
bool link_ident_dob_key(const link_ident_t *id, char key[LINK_KEY_LEN]);
size_t link_ident_keys(const link_ident_t *id, char keys[LINK_MAX_KEYS][LINK_KEY_LEN]);

/* Comparison levels of a and b into levels[LI_NFIELDS] (fs_compare's levels). */
void link_ident_compare(const link_ident_t *a, const link_ident_t *b, uint8_t *levels);
/* True when a and b link at once: the same valid NHS number and the same date of birth. */
bool link_ident_deterministic(const link_ident_t *a, const link_ident_t *b);
/* True when a and b are two people whatever else they share: two valid NHS numbers more than one
 * digit apart (fs_model_apart_trained's rule: twins and relatives share a surname, an address and
 * sometimes a date of birth, never an NHS number). */
bool link_ident_apart(const link_ident_t *a, const link_ident_t *b);
/* The weight of an exact agreement on value in field: log2(m / max(frequency, u)) for a value p->tf
 * holds (fs_tf_weight), the learned log2(m / u) otherwise. */
double link_exact_weight(const link_params_t *p, size_t field, const char *value);
/* Match weight of a and b (term-frequency adjusted); *probability (may be NULL) from it and the
 * prior, or 1 when they link deterministically. */
double link_score(const link_params_t *p, const link_ident_t *a, const link_ident_t *b,
                  double *probability);

#endif
