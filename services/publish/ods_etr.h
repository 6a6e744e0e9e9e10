/* ods_etr.h - NHS trusts from an ODS etr extract (pure): the Organisation Data Service's file of
 * NHS trusts, CSV without a header, one trust a row: code, name, national grouping (the region,
 * e.g. Y56), high-level health geography, address lines 1-5, postcode, open date, close date, and
 * more columns that are not read. `ncap refdata load ods` loads it into publish.organisation and
 * `ncap release build --ods` reads it for the same names and regions. A bad row is reported with
 * its line and reason and the reader goes on. */
#ifndef NCAP_ODS_ETR_H
#define NCAP_ODS_ETR_H

#include <stddef.h>

#define ODS_ETR_NAME_MAX 200  /* bytes of a trust's name (the longest in the extract is ~80) */
#define ODS_ETR_MAX_FIELDS 64 /* columns of a row (etr has 24 to 27) */
#define ODS_ETR_MAX_FIELD 1000

/* One trust, its values as the extract writes them (blanks around them removed). */
typedef struct {
    char code[4];                    /* 3 capital letters and digits, e.g. RH8 */
    char name[ODS_ETR_NAME_MAX + 1]; /* e.g. LEEDS TEACHING HOSPITALS NHS TRUST */
    char region[4];                  /* national grouping, e.g. Y56, or "" when none is given */
} ods_etr_row_t;

/* Why a row is bad: the column at fault ("code", "name", "national_grouping", or "" for the row
 * as a whole) and a sentence saying what was found and what is expected, e.g. "code \"RH80\" is
 * not a trust's ODS code: expected 3 capital letters and digits starting with a letter, such as
 * RH8". */
typedef struct {
    char field[32];
    char reason[256];
} ods_etr_problem_t;

typedef struct ods_etr_reader_t ods_etr_reader_t;

/* Reads data[0..len) (not copied: it must outlive the reader): RFC 4180 CSV, LF or CRLF, a UTF-8
 * byte order mark ignored, at most ODS_ETR_MAX_FIELDS columns of ODS_ETR_MAX_FIELD bytes a row.
 * NULL when out of memory. */
ods_etr_reader_t *ods_etr_reader_new(const char *data, size_t len);
void ods_etr_reader_destroy(ods_etr_reader_t **self_p);
/* Reads the next row: 1 with a good row in *row, 0 at the end, -1 for a bad row (skip it and go
 * on) described in *problem. Blank lines are skipped. */
int ods_etr_reader_next(ods_etr_reader_t *self, ods_etr_row_t *row, ods_etr_problem_t *problem);
/* The line (from 1) of the row last read. */
size_t ods_etr_reader_line(const ods_etr_reader_t *self);

/* The region a release publishes row's trust under: its national grouping, or "unknown" when the
 * extract gives none (publish.organisation's region). */
const char *ods_etr_region(const ods_etr_row_t *row);

#endif
