/* death_link.c - patients to the register of deaths, one to one */
#include "death_link.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "db.h"
#include "pg_columns.h"
#include "strbuf.h"

static void array_of_ids(strbuf_t *b, const int64_t *v, size_t n)
{
    strbuf_init(b);
    strbuf_pg_array_open(b);
    for (size_t i = 0; i < n; i++) {
        char s[24];
        snprintf(s, sizeof s, "%lld", (long long)v[i]);
        strbuf_pg_array_elem(b, s);
    }
    strbuf_pg_array_close(b);
}

static PGresult *find_deaths(PGconn *db, const link_ident_t *ids, size_t n, char *err,
                             size_t errlen)
{
    strbuf_t nhs, dob;
    strbuf_init(&nhs);
    strbuf_init(&dob);
    strbuf_pg_array_open(&nhs);
    strbuf_pg_array_open(&dob);
    for (size_t i = 0; i < n; i++) {
        if (ids[i].nhs[0])
            strbuf_pg_array_elem(&nhs, ids[i].nhs);
        if (ids[i].dob[0]) {
            char d[11];
            snprintf(d, sizeof d, "%.4s-%.2s-%.2s", ids[i].dob, ids[i].dob + 4, ids[i].dob + 6);
            strbuf_pg_array_elem(&dob, d);
        }
    }
    strbuf_pg_array_close(&nhs);
    strbuf_pg_array_close(&dob);
    const char *pv[] = {nhs.s, dob.s};
    PGresult *r = db_query(
        db,
        "SELECT d.death_id, d.nhs_number, d.forename, d.surname, d.date_of_birth::text, d.sex,"
        " d.postcode, coalesce(l.patient_id, 0), coalesce(l.weight, 0)"
        " FROM linkage.death d LEFT JOIN linkage.death_link l USING (death_id)"
        " WHERE (d.nhs_number <> '' AND d.nhs_number = ANY($1::text[]))"
        " OR d.date_of_birth = ANY($2::date[]) ORDER BY d.death_id",
        2, pv, err, errlen);
    strbuf_free(&nhs);
    strbuf_free(&dob);
    return r;
}

int death_link_replace(PGconn *db, const death_pair_t *links, size_t n, char *err, size_t errlen)
{
    if (n == 0)
        return 0;
    pg_columns_t cols;
    pg_columns_open(&cols, 3);
    for (size_t i = 0; i < n; i++) {
        char a[24], b[24], c[32];
        snprintf(a, sizeof a, "%lld", (long long)links[i].death_id);
        snprintf(b, sizeof b, "%lld", (long long)links[i].patient_id);
        snprintf(c, sizeof c, "%.17g", links[i].weight);
        const char *v[3] = {a, b, c};
        pg_columns_row(&cols, v);
    }
    int rc =
        pg_columns_close(&cols) == 0 &&
                db_execp(db, "DELETE FROM linkage.death_link WHERE death_id = ANY($1::bigint[])", 1,
                         cols.params, err, errlen) == 0 &&
                db_execp(db,
                         "INSERT INTO linkage.death_link (death_id, patient_id, weight)"
                         " SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::float8[])"
                         " ON CONFLICT DO NOTHING",
                         3, cols.params, err, errlen) == 0
            ? 0
            : -1;
    pg_columns_free(&cols);
    return rc;
}

static int apply(PGconn *db, const death_held_t *deaths, size_t ndeaths, char *err, size_t errlen)
{
    death_pair_t *links = calloc(ndeaths + 1, sizeof *links);
    if (!links) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    size_t n = 0;
    for (size_t d = 0; d < ndeaths; d++)
        if (deaths[d].changed)
            links[n++] = (death_pair_t){deaths[d].death_id, deaths[d].patient_id, deaths[d].weight};
    int rc = death_link_replace(db, links, n, err, errlen);
    free(links);
    return rc;
}

static int dates_of_death(PGconn *db, const int64_t *patient_ids, size_t n,
                          char (*date_of_death)[11], char *err, size_t errlen)
{
    strbuf_t arr;
    array_of_ids(&arr, patient_ids, n);
    const char *pv[] = {arr.s};
    PGresult *r = db_query(db,
                           "SELECT l.patient_id, d.date_of_death::text FROM linkage.death_link l"
                           " JOIN linkage.death d USING (death_id)"
                           " WHERE l.patient_id = ANY($1::bigint[])",
                           1, pv, err, errlen);
    strbuf_free(&arr);
    if (!r)
        return -1;
    for (size_t i = 0; i < n; i++) {
        date_of_death[i][0] = '\0';
        for (int k = 0; k < PQntuples(r); k++)
            if (strtoll(PQgetvalue(r, k, 0), NULL, 10) == patient_ids[i])
                snprintf(date_of_death[i], 11, "%s", PQgetvalue(r, k, 1));
    }
    PQclear(r);
    return 0;
}

int death_link_patients(PGconn *db, const link_params_t *p, const link_ident_t *ids,
                        const int64_t *patient_ids, size_t n, char (*date_of_death)[11], char *err,
                        size_t errlen)
{
    if (n == 0)
        return 0;
    PGresult *r = find_deaths(db, ids, n, err, errlen);
    if (!r)
        return -1;
    size_t ndeaths = (size_t)PQntuples(r);
    int rc = -1;
    death_held_t *deaths = calloc(ndeaths + 1, sizeof *deaths);
    int64_t *linked = calloc(2 * n + 1, sizeof *linked);
    PGresult *have = NULL;
    if (!deaths || !linked) {
        snprintf(err, errlen, "out of memory");
        goto done;
    }
    for (size_t d = 0; d < ndeaths; d++) {
        int row = (int)d;
        deaths[d].death_id = strtoll(PQgetvalue(r, row, 0), NULL, 10);
        link_ident_from_values(PQgetvalue(r, row, 1), PQgetvalue(r, row, 2), PQgetvalue(r, row, 3),
                               PQgetvalue(r, row, 4), PQgetvalue(r, row, 5), PQgetvalue(r, row, 6),
                               &deaths[d].id);
        deaths[d].patient_id = strtoll(PQgetvalue(r, row, 7), NULL, 10);
        deaths[d].weight = strtod(PQgetvalue(r, row, 8), NULL);
    }
    size_t nlinked = 0;
    if (ndeaths > 0) {
        strbuf_t arr;
        array_of_ids(&arr, patient_ids, n);
        const char *pv[] = {arr.s};
        have = db_query(db,
                        "SELECT patient_id FROM linkage.death_link"
                        " WHERE patient_id = ANY($1::bigint[])",
                        1, pv, err, errlen);
        strbuf_free(&arr);
        if (!have)
            goto done;
        for (int k = 0; k < PQntuples(have) && nlinked < n; k++)
            linked[nlinked++] = strtoll(PQgetvalue(have, k, 0), NULL, 10);
        death_choose(p, ids, patient_ids, n, deaths, ndeaths, linked, &nlinked);
        if (apply(db, deaths, ndeaths, err, errlen) != 0)
            goto done;
    }
    rc = dates_of_death(db, patient_ids, n, date_of_death, err, errlen);
done:
    PQclear(r);
    PQclear(have);
    free(deaths);
    free(linked);
    return rc;
}
