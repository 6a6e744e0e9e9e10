/* sim_files.h - what `ncap sim` writes without --submit: the trusts' files, and the files of truth,
 * deaths and opt-outs asked for. */
#ifndef NCAP_SIM_FILES_H
#define NCAP_SIM_FILES_H

#include "sim.h"

typedef struct {
    const char *out_dir; /* one DIR/<ODS>.csv per trust (DIR is created); NULL: one header and
                          * every trust's rows on standard output */
    /* each NULL when not asked for: sim_write_truth, sim_write_problems_truth, sim_write_deaths'
     * register and its truth, sim_write_optouts, sim_write_trusts_truth */
    const char *truth, *problems_truth, *deaths, *deaths_truth, *optouts, *trusts_truth;
} sim_outputs_t;

/* Writes what outs names, then sim_write_summary on stderr. The truth's rows count lines in the
 * trust's file, or on standard output without out_dir. Returns 0, or 2 with a message on stderr
 * ("ncap sim: could not ...") at the first file that could not be created or written. */
int sim_write_files(const sim_t *sim, const sim_outputs_t *outs);

#endif
