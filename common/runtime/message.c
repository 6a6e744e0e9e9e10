/* message.c - records <-> the JSON payloads stored in PostgreSQL */
#include "message.h"

#include <stdlib.h>
#include <string.h>

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
