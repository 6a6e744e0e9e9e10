/* sim_submit.h - `ncap sim --submit`: simulated trusts sending their files to ingest, round after
 * round, as a live load on the pipeline. */
#ifndef NCAP_SIM_SUBMIT_H
#define NCAP_SIM_SUBMIT_H

#include "sim.h"
#include "sim_register.h"

/* Round R = 1, 2, ... makes opts' records afresh (opts with round R: seed + R, the same trusts) and
 * submits one file per trust to ingest ($NCAP_INGEST, else a live ingest registered in $NCAP_PG),
 * each with its own key when the environment names a folder of them (NCAP_CLIENT_KEYS/<ODS>.key),
 * printing one line per round on stdout ("round R: F files, N rows, A accepted, J rejected[, X
 * failed][, deaths to YYYY-MM-DD (D new)]") and each failure on stderr; then waits interval
 * seconds. With deaths (may be NULL), each round's deaths go to that register of deaths once its
 * files are sent (sim_register.h). Stops after rounds rounds (0: never) or at SIGINT or SIGTERM,
 * which it handles from the call on. Returns 0, or 1 when a round's records could not be made
 * (the message on stderr). */
int sim_submit_rounds(const sim_opts_t *opts, double interval, unsigned long long rounds,
                      sim_register_t *deaths);

#endif
