/* stage_record.c - a stored record row read as every stage reads it */
#include "stage_record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "message.h"

int stage_record_read(stage_record_t *out, audit_cache_t *audits, const PGresult *r, int row,
                      stage_error_t *class_out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    *class_out = STAGE_ERR_INPUT;
    if (!(out->audit = strdup(PQgetvalue(r, row, 3))) ||
        !(out->trust = strdup(PQgetvalue(r, row, 4))) ||
        !(out->site = strdup(PQgetvalue(r, row, 5))) || !(out->rec = ncap_record_new())) {
        snprintf(err, errlen, "out of memory");
        stage_record_clear(out);
        return -1;
    }
    if (message_record_from_json(PQgetvalue(r, row, 6), out->rec) != 0) {
        snprintf(err, errlen, "the stored payload is not a record (a JSON object of strings)");
        stage_record_clear(out);
        return -1;
    }
    if (!(out->def = audit_cache_get(audits, out->audit, err, errlen))) {
        *class_out = STAGE_ERR_DEFINITION;
        stage_record_clear(out);
        return -1;
    }
    if (audit_def_check_record(out->def, out->rec, err, errlen) != 0) {
        stage_record_clear(out);
        return -1;
    }
    return 0;
}

void stage_record_clear(stage_record_t *rec)
{
    free(rec->audit);
    free(rec->trust);
    free(rec->site);
    ncap_record_destroy(&rec->rec);
    memset(rec, 0, sizeof *rec);
}
