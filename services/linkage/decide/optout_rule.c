/* optout_rule.c - who the national data opt-out withholds */
#include "optout_rule.h"

bool optout_asked(const optout_record_t *r)
{
    return r->applies && ((r->nhs_number && r->nhs_number[0]) || r->patient_id > 0);
}

bool optout_withholds(const optout_record_t *r, bool own_listed, bool patient_listed)
{
    if (!optout_asked(r))
        return false;
    return (r->nhs_number && r->nhs_number[0] && own_listed) ||
           (r->patient_id > 0 && patient_listed);
}
