/* message.c - records <-> protobuf and JSON */
#include "message.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

void message_new_id(char out[33])
{
    unsigned char raw[16];
    randombytes_buf(raw, sizeof raw);
    sodium_bin2hex(out, 33, raw, sizeof raw);
}

int message_fields_from_record(const ncap_record_t *rec, Ncap__V1__Field ***fields_p, size_t *n_p)
{
    *fields_p = NULL;
    *n_p = 0;
    if (rec->n == 0)
        return 0;
    Ncap__V1__Field **ptrs = calloc(rec->n, sizeof *ptrs);
    Ncap__V1__Field *cells = calloc(rec->n, sizeof *cells);
    if (!ptrs || !cells) {
        free(ptrs);
        free(cells);
        return -1;
    }
    for (size_t i = 0; i < rec->n; i++) {
        ncap__v1__field__init(&cells[i]);
        cells[i].name = rec->fields[i].name;
        cells[i].value = rec->fields[i].value;
        ptrs[i] = &cells[i];
    }
    *fields_p = ptrs;
    *n_p = rec->n;
    return 0;
}

void message_fields_free(Ncap__V1__Field **fields, size_t n)
{
    if (fields && n > 0)
        free(fields[0]);
    free(fields);
}

int message_fields_to_record(Ncap__V1__Field *const *fields, size_t n, ncap_record_t *rec)
{
    ncap_record_clear(rec);
    for (size_t i = 0; i < n; i++)
        if (ncap_record_set(rec, fields[i]->name, fields[i]->value) != 0)
            return -1;
    return 0;
}

char *message_record_to_json(const ncap_record_t *rec)
{
    json_t *o = json_object();
    for (size_t i = 0; o && i < rec->n; i++) {
        /* json_string refuses text that is not UTF-8: refuse the record rather than drop it */
        json_t *v = json_string(rec->fields[i].value);
        if (!v || json_object_set_new(o, rec->fields[i].name, v) != 0) {
            json_decref(o);
            return NULL;
        }
    }
    char *s = o ? json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(o);
    return s;
}

int message_record_from_json(const char *json, ncap_record_t *rec)
{
    ncap_record_clear(rec);
    json_error_t jerr;
    json_t *o = json_loads(json, 0, &jerr);
    if (!o || !json_is_object(o)) {
        json_decref(o);
        return -1;
    }
    const char *k;
    json_t *v;
    int rc = 0;
    json_object_foreach(o, k, v)
    {
        if (ncap_record_set(rec, k, json_is_string(v) ? json_string_value(v) : "") != 0)
            rc = -1;
    }
    json_decref(o);
    return rc;
}
