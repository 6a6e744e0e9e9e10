/* link_sim_fixture.h - the simulator's records as identifiers with its truth, linked batch by
 * batch against the patient index as ncap-linkd links them, and pairwise accuracy against the
 * truth: for the linkage tests that need PostgreSQL. Include after link_pg_fixture.h; define
 * RECORDS (how many records) and BATCH (records per transaction) first. */
#ifndef NCAP_TEST_LINK_SIM_FIXTURE_H
#define NCAP_TEST_LINK_SIM_FIXTURE_H

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "audit_def.h"
#include "csv.h"
#include "death_link.h"
#include "link_record.h"
#include "patient_index.h"
#include "sim.h"

#define NHFD_PATH NCAP_SOURCE_DIR "/deploy/audits/nhfd.yaml"

typedef struct {
    link_ident_t *ids;
    long *truth; /* the simulator's patient id per record */
    size_t n;
} sim_records_t;

/* Every trust's rows under one header, and the truth in the same order. */
static void load_sim(sim_records_t *out)
{
    char err[256];
    audit_def_t *def = audit_def_load(NHFD_PATH, err, sizeof err);
    assert_non_null(def);
    sim_opts_t o;
    sim_opts_default(&o);
    o.records = RECORDS;
    o.trusts = 12;
    o.seed = 11;
    sim_t *sim = sim_new(&o, err, sizeof err);
    assert_non_null(sim);
    char *data = NULL, *truth = NULL;
    size_t dlen = 0, tlen = 0;
    FILE *d = open_memstream(&data, &dlen), *t = open_memstream(&truth, &tlen);
    assert_int_equal(sim_write_header(d), 0);
    for (size_t k = 0; k < sim_ntrusts(sim); k++)
        assert_int_equal(sim_write_trust(sim, k, d), 0);
    assert_int_equal(sim_write_truth(sim, t, true), 0);
    fclose(d);
    fclose(t);
    sim_destroy(&sim);
    out->ids = calloc(RECORDS, sizeof *out->ids);
    out->truth = calloc(RECORDS, sizeof *out->truth);
    assert_non_null(out->ids);
    assert_non_null(out->truth);
    csv_reader_t *rd = csv_reader_new(data, dlen, true), *rt = csv_reader_new(truth, tlen, true);
    assert_int_equal(csv_reader_next(rd), 1);
    assert_int_equal(csv_reader_next(rt), 1);
    size_t nf = csv_reader_nfields(rd);
    char **head = calloc(nf, sizeof *head);
    for (size_t f = 0; f < nf; f++)
        head[f] = strdup(csv_reader_field(rd, f));
    size_t n = 0;
    while (n < RECORDS && csv_reader_next(rd) == 1 && csv_reader_next(rt) == 1) {
        ncap_record_t *rec = ncap_record_new();
        assert_non_null(rec);
        for (size_t f = 0; f < nf && f < csv_reader_nfields(rd); f++)
            assert_int_equal(ncap_record_set(rec, head[f], csv_reader_field(rd, f)), 0);
        link_record_ident(def, rec, &out->ids[n]);
        out->truth[n] = strtol(csv_reader_field(rt, 3), NULL, 10);
        ncap_record_destroy(&rec);
        n++;
    }
    out->n = n;
    assert_int_equal(n, RECORDS);
    for (size_t f = 0; f < nf; f++)
        free(head[f]);
    free(head);
    csv_reader_destroy(&rd);
    csv_reader_destroy(&rt);
    free(data);
    free(truth);
    audit_def_destroy(&def);
}

/* Links every record, batch by batch; patient[i] receives record i's patient. */
static void link_all(PGconn *db, const link_params_t *p, const link_ident_t *ids, size_t n,
                     int64_t *patient)
{
    char err[1024];
    patient_match_t m[BATCH];
    char dod[BATCH][11];
    for (size_t s = 0; s < n; s += BATCH) {
        size_t k = n - s < BATCH ? n - s : BATCH;
        pg_fixture_exec(db, "BEGIN");
        if (patient_index_assign(db, p, ids + s, k, m, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            fail();
        }
        for (size_t i = 0; i < k; i++)
            patient[s + i] = m[i].patient_id;
        if (death_link_patients(db, p, ids + s, patient + s, k, dod, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            fail();
        }
        pg_fixture_exec(db, "COMMIT");
    }
}

/* Pairwise precision, recall and F1 of the linked patients against the truth. */
static double pairwise_f1(const long *truth, const int64_t *patient, size_t n, double *precision,
                          double *recall)
{
    double tp = 0, predicted = 0, actual = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = i + 1; j < n; j++) {
            bool t = truth[i] == truth[j], q = patient[i] == patient[j];
            tp += t && q;
            predicted += q;
            actual += t;
        }
    *precision = predicted > 0 ? tp / predicted : 1;
    *recall = actual > 0 ? tp / actual : 1;
    return *precision + *recall > 0 ? 2 * *precision * *recall / (*precision + *recall) : 0;
}

#endif
