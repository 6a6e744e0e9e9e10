/* pass_on.c - RawRecord messages to linkage */
#include "pass_on.h"

#include <stdlib.h>

#include "message.h"
#include "ncap/v1/records.pb-c.h"

size_t pass_on(pusher_t *pusher, const char *audit, const char *trust, const submission_t *sub,
               const ingest_result_t *res, long long ingested_at_us, size_t from, size_t max)
{
    size_t end = res->n_stored - from < max ? res->n_stored : from + max;
    for (size_t i = from; i < end; i++) {
        const submission_row_t *row = &sub->rows[res->stored[i].row_index];
        char id[33];
        message_new_id(id);
        Ncap__V1__Envelope env = NCAP__V1__ENVELOPE__INIT;
        env.message_id = id;
        env.record_id = res->stored[i].record_id;
        env.version = res->stored[i].version;
        env.audit = (char *)audit;
        env.trust = (char *)trust;
        env.site = row->site;
        env.submission_id = res->submission_id;
        env.row_number = row->row;
        env.local_record_id = row->local_id;
        env.ingested_at_us = ingested_at_us;
        Ncap__V1__RawRecord msg = NCAP__V1__RAW_RECORD__INIT;
        msg.envelope = &env;
        if (message_fields_from_record(row->rec, &msg.fields, &msg.n_fields) != 0)
            continue;
        size_t len = ncap__v1__raw_record__get_packed_size(&msg);
        uint8_t *buf = malloc(len ? len : 1);
        if (buf) {
            ncap__v1__raw_record__pack(&msg, buf);
            pusher_send(pusher, buf, len);
            free(buf);
        }
        message_fields_free(msg.fields, msg.n_fields);
    }
    return end;
}
