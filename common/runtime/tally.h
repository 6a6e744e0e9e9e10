/* tally.h - the counts each stage keeps as it writes (<schema>.tally, migration 0018): a row per
 * statement that wrote rows `ncap status` counts (rows inserted, rows inserted or updated, when),
 * appended by a trigger in the writer's own transaction, so that no two writers wait on one
 * counter. `ncap status` sums a tally: its records processed, and its rate over the last minute. */
#ifndef NCAP_TALLY_H
#define NCAP_TALLY_H

#include <libpq-fe.h>
#include <stddef.h>

/* Folds the rows of schema's tally older than a minute into one, in one statement of its own
 * (autocommit), so that the tally holds about a minute of statements whatever the records: what
 * each daemon does now and then. Safe beside another instance folding the same tally (each row is
 * deleted, and its counts added back, by one statement only). schema is a stage's name. Returns 0,
 * or -1 with err. */
int tally_fold(PGconn *db, const char *schema, char *err, size_t errlen);

#endif
