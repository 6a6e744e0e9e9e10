/* linkage_pop.h - a test population for record linkage, as `ncap sim linkage` writes it: people
 * seen 1 to 20 times, each record their identifiers as a clerk wrote them that time (blanks at a
 * rate per field, typos, nicknames, day and month swapped, a new postcode after a move, a new
 * surname after a marriage), common and rare names, and twins, spouses and other relatives who
 * share a surname and an address (twins a date of birth too). The truth, which person each record
 * is, goes in a column of its own, `cluster`, for scoring only.
 *
 * The columns are those of splink's fake_1000 demo (unique_id, first_name, surname, dob, city,
 * email, cluster) with nhs_number, sex and postcode added, so the same `ncap link --map` options
 * apply to both:
 *   unique_id,nhs_number,first_name,surname,dob,sex,postcode,city,email,cluster
 *
 * Streaming: each person and each of their records is drawn from a generator seeded by the seed,
 * the person's number and the visit's, so a record is made when it is written; the only memory is
 * the order of the records (4 bytes a record) and where each person's records start (4 bytes a
 * person): 2.6 MB at 500,000 records. The same options always give the same bytes. */
#ifndef NCAP_LINKAGE_POP_H
#define NCAP_LINKAGE_POP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define LINKAGE_POP_MAX_RECORDS 5000000u
#define LINKAGE_POP_MAX_VISITS 20

/* The identifier columns a record can leave blank, in the order written. */
typedef enum {
    LINKAGE_POP_NHS_NUMBER,
    LINKAGE_POP_FIRST_NAME,
    LINKAGE_POP_SURNAME,
    LINKAGE_POP_DOB,
    LINKAGE_POP_SEX,
    LINKAGE_POP_POSTCODE,
    LINKAGE_POP_CITY,
    LINKAGE_POP_EMAIL,
    LINKAGE_POP_NFIELDS
} linkage_pop_field_t;

/* How a person is related to the person numbered just before them (who lives at the same
 * address and has the same surname). */
typedef enum {
    LINKAGE_POP_UNRELATED = 0,
    LINKAGE_POP_TWIN,    /* the same date of birth, another forename */
    LINKAGE_POP_SPOUSE,  /* the other sex, born within 8 years */
    LINKAGE_POP_RELATIVE /* a parent, child or sibling */
} linkage_pop_relation_t;

typedef struct {
    size_t records; /* 1..LINKAGE_POP_MAX_RECORDS */
    uint64_t seed;
    double blank[LINKAGE_POP_NFIELDS]; /* the share of records with the field left blank, 0-1 */
} linkage_pop_opts_t;

typedef struct {
    size_t records;
    size_t people;
    size_t seen[LINKAGE_POP_MAX_VISITS + 1]; /* seen[k]: people with k records */
    size_t related[4];                       /* by linkage_pop_relation_t (0: unrelated) */
    size_t blanks[LINKAGE_POP_NFIELDS];      /* records with the field blank */
} linkage_pop_stats_t;

/* 50,000 records, seed 1, blanks: nhs_number 0.3, first_name 0.02, surname 0.02, dob 0.05,
 * sex 0.02, postcode 0.1, city 0.1, email 0.5. */
void linkage_pop_opts_default(linkage_pop_opts_t *opts);

/* The column of a field ("nhs_number"); linkage_pop_field_parse gives the field of a column name,
 * 0, or -1 when it is none of them. */
const char *linkage_pop_field_name(linkage_pop_field_t field);
int linkage_pop_field_parse(const char *name, linkage_pop_field_t *field);
/* "", "twin", "spouse" or "relative" */
const char *linkage_pop_relation_name(linkage_pop_relation_t relation);

/* Writes the population (header and every record) to out and, when relations is not NULL, each
 * related person as cluster,related_to,relation (header first; related_to the cluster of the
 * person before them). stats (may be NULL) receives the counts. Returns 0, or -1 with a message in
 * err on a bad option, a write error or when out of memory. */
int linkage_pop_write(const linkage_pop_opts_t *opts, FILE *out, FILE *relations,
                      linkage_pop_stats_t *stats, char *err, size_t errlen);

#endif
