/* refdata.h - reference data files that linkage joins records to (pure): the register of deaths,
 * the national data opt-out and the index of multiple deprivation by LSOA. Reads a file's text,
 * checks its header, and checks and normalises each row with the shared NHS checks, so that
 * `ncap refdata load` and ncap-linkd agree on what a row means. A bad row is reported with its
 * line and reason and the reader goes on; only a wrong header stops it. NHS numbers must pass
 * Modulus 11 and not be placeholders (one repeated digit); test-range numbers (9...) are kept. */
#ifndef NCAP_REFDATA_H
#define NCAP_REFDATA_H

#include <stddef.h>

typedef enum { REFDATA_DEATHS = 0, REFDATA_OPTOUTS, REFDATA_IMD } refdata_kind_t;

#define REFDATA_NAME_MAX 100 /* bytes of a forename or surname */

/* One good row, normalised. Deaths use nhs_number..date_of_death and row_hash; opt-outs
 * nhs_number; IMD lsoa and the imd_ numbers. Text not used by the kind is "". */
typedef struct {
    char nhs_number[11];                 /* 10 digits, or "" when not given */
    char forename[REFDATA_NAME_MAX + 1]; /* as written, blanks around it removed */
    char surname[REFDATA_NAME_MAX + 1];
    char date_of_birth[11];                 /* YYYY-MM-DD, or "" */
    char sex[2];                            /* 1 male, 2 female, 9 indeterminate, X not known, "" */
    char postcode[9];                       /* normalised, e.g. "LS1 4AP" or "ZZ99 3VZ", or "" */
    char date_of_death[11];                 /* YYYY-MM-DD */
    char row_hash[65];                      /* SHA-256 (hex) of the normalised death row */
    char lsoa[10];                          /* e.g. E01000001 */
    int imd_rank, imd_decile, imd_quintile; /* 1 = most deprived */
} refdata_row_t;

/* "deaths", "optouts" or "imd" to a kind. Returns 0, or -1 for another name. */
int refdata_kind_parse(const char *name, refdata_kind_t *kind);
const char *refdata_kind_name(refdata_kind_t kind);
/* The header a file of this kind must have, e.g. "nhs_number" */
const char *refdata_kind_header(refdata_kind_t kind);

typedef struct refdata_reader_t refdata_reader_t;

/* Reads a file of kind from data[0..len) (not copied: it must outlive the reader): RFC 4180 CSV,
 * LF or CRLF, quoted fields, blanks around fields trimmed, a UTF-8 byte order mark ignored.
 * The header must name exactly the kind's columns, in any order and any case. Returns the reader,
 * or NULL with the reason in err (a wrong header, or no memory). */
refdata_reader_t *refdata_reader_new(refdata_kind_t kind, const char *data, size_t len, char *err,
                                     size_t errlen);
void refdata_reader_destroy(refdata_reader_t **self_p);
/* Why a row is bad: the field at fault ("" when the row as a whole is, e.g. too few fields) and a
 * sentence, e.g. "field \"date_of_death\" has value \"31/02/2024\", expected a date (YYYY-MM-DD,
 * YYYYMMDD or DD/MM/YYYY)". Never holds an NHS number. */
typedef struct {
    char field[32];
    char reason[256];
} refdata_problem_t;

/* Reads the next data row. Returns 1 with a good row in *row, 0 at the end, or -1 for a bad row
 * (skip it and go on) described in *problem. Blank lines are skipped. */
int refdata_reader_next(refdata_reader_t *self, refdata_row_t *row, refdata_problem_t *problem);
/* Line of the row last read, from 1 (the header is line 1). */
size_t refdata_reader_line(const refdata_reader_t *self);

/* A date as linkage reads them (fs_date_parse: YYYY-MM-DD, YYYYMMDD or DD/MM/YYYY, checked
 * against the calendar, years 1800-2999), written as YYYY-MM-DD to out. Returns 0 or -1. */
int refdata_date_normalise(const char *s, char out[11]);

#endif
