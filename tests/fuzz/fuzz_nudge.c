/* fuzz_nudge.c - the one message between stages (ncap.v1.Nudge, common/runtime/nudge.c) as a
 * stage inbox receives it, from any bytes up to the inbox's size limit (NUDGE_MAX_BYTES), and its
 * keys handed on to each record stage's reading of its rows.
 *
 * Checked: nudge_read refuses exactly what protobuf-c cannot decode; it takes, in order, the keys
 * any stage can hold (record id and version > 0, link revision >= 0) and no other, never more than
 * asked; a batch gathered from the same message again and again (the runtime's gather, up to its
 * batch of 500) stops at the batch; the keys taken, packed again, read back the same; and rows of
 * the first keys taken, as load_sql would give them for a stored record, become items with those
 * keys in linkage, validation and metric (stage_batch_read). Which rows exist for the keys is
 * PostgreSQL's answer to load_sql: not here. */
#include <stdlib.h>
#include <string.h>

#include "harness.h"
#include "linkage_stage.h"
#include "metric_stage.h"
#include "ncap/v1/records.pb-c.h"
#include "nudge.h"
#include "validation_stage.h"

#define BATCH_MAX 500 /* daemon_config's default --batch */

static bool holdable(const Ncap__V1__RecordKey *k)
{
    return k->record_id > 0 && k->version > 0 && k->link_revision >= 0;
}

/* The keys taken match the message's holdable keys, in order, at most max of them. */
static void check_taken(const Ncap__V1__Nudge *m, const stage_keys_t *keys, size_t from, int taken,
                        size_t max)
{
    size_t want = 0;
    for (size_t i = 0; i < m->n_keys && want < max; i++) {
        if (!holdable(m->keys[i]))
            continue;
        HARNESS_CHECK(from + want < keys->n, "key %zu of the message not taken", i);
        const stage_key_t *k = &keys->keys[from + want];
        HARNESS_CHECK(k->record_id == m->keys[i]->record_id && k->version == m->keys[i]->version &&
                          k->link_revision == m->keys[i]->link_revision,
                      "key %zu taken as (%lld, %d, %d)", i, (long long)k->record_id, k->version,
                      k->link_revision);
        want++;
    }
    HARNESS_CHECK((size_t)taken == want && keys->n == from + want,
                  "took %d keys (%zu in the batch), expected %zu", taken, keys->n - from, want);
}

/* The keys packed as a nudge again read back as themselves. */
static void repack(const stage_keys_t *keys)
{
    size_t n = keys->n < NUDGE_MAX_KEYS ? keys->n : NUDGE_MAX_KEYS;
    Ncap__V1__RecordKey cells[NUDGE_MAX_KEYS];
    Ncap__V1__RecordKey *ptrs[NUDGE_MAX_KEYS];
    for (size_t i = 0; i < n; i++) {
        ncap__v1__record_key__init(&cells[i]);
        cells[i].record_id = keys->keys[i].record_id;
        cells[i].version = keys->keys[i].version;
        cells[i].link_revision = keys->keys[i].link_revision;
        ptrs[i] = &cells[i];
    }
    Ncap__V1__Nudge msg = NCAP__V1__NUDGE__INIT;
    msg.keys = ptrs;
    msg.n_keys = n;
    size_t len = ncap__v1__nudge__get_packed_size(&msg);
    HARNESS_CHECK(len <= NUDGE_MAX_BYTES, "%zu keys pack to %zu bytes, over the inbox limit", n,
                  len);
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf)
        abort();
    ncap__v1__nudge__pack(&msg, buf);
    stage_keys_t back = {0};
    HARNESS_CHECK(nudge_read(buf, len, NUDGE_MAX_KEYS, &back) == (int)n, "repacked keys lost");
    HARNESS_CHECK(n == 0 || memcmp(back.keys, keys->keys, n * sizeof *back.keys) == 0,
                  "repacked keys read back different");
    stage_keys_free(&back);
    free(buf);
}

/* A stored record, as each stage's load_sql gives it, in validation's columns: they hold linkage's
 * (local id, submission, row) and put metric's valid column (7) to "L1": not valid. */
static const char row[] = "nhfd\tRH8\tRH801\t{\"local_record_id\":\"RH8-1\",\"trust_code\":\"RH8\","
                          "\"site_code\":\"RH801\",\"arrival_datetime\":\"2025-05-30T02:20\"}\n";
#define ROWS 4 /* keys handed on: what a stage does with a key does not depend on how many */

static linkage_t lk;
static validation_t vs;
static metric_t ms;
static stage_ops_t stages[3];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    lk.audits = vs.audits = ms.audits = harness_audits();
    stages[0] = linkage_stage_ops(&lk);
    stages[1] = validation_stage_ops(&vs);
    stages[2] = metric_stage_ops(&ms);
    return 0;
}

/* The first ROWS keys taken, each a row of the stored record, through each stage. */
static void hand_on(const stage_keys_t *keys)
{
    char text[ROWS * sizeof row];
    size_t n = keys->n < ROWS ? keys->n : ROWS;
    if (n == 0)
        return;
    text[0] = '\0';
    for (size_t i = 0; i < n; i++)
        strcat(text, row);
    for (size_t s = 0; s < sizeof stages / sizeof stages[0]; s++)
        harness_stage_run(&stages[s], (const uint8_t *)text, strlen(text),
                          &harness_validation_columns, keys, NULL);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > NUDGE_MAX_BYTES) /* ZeroMQ drops the peer that sends more (ZMQ_MAXMSGSIZE) */
        return 0;
    uint8_t *msg = malloc(size ? size : 1); /* exact size: ASan sees a read past the end */
    if (!msg)
        abort();
    memcpy(msg, data, size);
    Ncap__V1__Nudge *m = ncap__v1__nudge__unpack(NULL, size, msg);

    stage_keys_t keys = {0};
    int taken = nudge_read(msg, size, NUDGE_MAX_KEYS, &keys);
    HARNESS_CHECK((taken < 0) == (m == NULL), "nudge_read gave %d, protobuf-c %s", taken,
                  m ? "decoded it" : "refused it");
    if (m) {
        check_taken(m, &keys, 0, taken, NUDGE_MAX_KEYS);
        repack(&keys);
        hand_on(&keys);
        /* a few keys only: the rest is left to the backlog */
        stage_keys_t few = {0};
        check_taken(m, &few, 0, nudge_read(msg, size, 3, &few), 3);
        stage_keys_free(&few);
        /* the runtime's gather: message after message into one batch, each read with the room
         * left, until the batch is full or a message brings nothing */
        stage_keys_t batch = {0};
        for (int round = 0; round < 8 && batch.n < BATCH_MAX; round++) {
            size_t from = batch.n;
            int t = nudge_read(msg, size, BATCH_MAX - batch.n, &batch);
            check_taken(m, &batch, from, t, BATCH_MAX - from);
            if (t == 0)
                break;
        }
        HARNESS_CHECK(batch.n <= BATCH_MAX, "a batch of %zu keys", batch.n);
        stage_keys_free(&batch);
        ncap__v1__nudge__free_unpacked(m, NULL);
    }
    stage_keys_free(&keys);
    free(msg);
    return 0;
}
