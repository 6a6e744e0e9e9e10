/* optout_rule.h - the national data opt-out's rule for one record (pure): which records it asks
 * about and which it withholds. optout.c looks the numbers up in PostgreSQL for ncap-linkd, and
 * `ncap release build` in memory; both decide with these functions. */
#ifndef NCAP_OPTOUT_RULE_H
#define NCAP_OPTOUT_RULE_H

#include <stdbool.h>
#include <stdint.h>

typedef struct {
    int64_t record_id;
    int version;
    const char *audit;
    const char *trust;
    int64_t submission_id;
    const char *nhs_number; /* valid, 10 digits; "" when none */
    int64_t patient_id;     /* the patient linked to (linkage.patient), or 0 */
    bool applies;           /* the record's audit definition has opt_out_applies: true */
} optout_record_t;

/* True when the opt-out list must be consulted for r: its audit applies the opt-out and it has a
 * valid NHS number or a linked patient. */
bool optout_asked(const optout_record_t *r);

/* True when r is withheld: it is asked about, and its own NHS number is on the list (own_listed)
 * or a number given in any record of its patient is (patient_listed). */
bool optout_withholds(const optout_record_t *r, bool own_listed, bool patient_listed);

#endif
