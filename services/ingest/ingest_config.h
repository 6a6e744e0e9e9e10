/* ingest_config.h - ncap-ingestd's configuration: every daemon's (daemon.h), plus its own
 *   --store-workers N ($NCAP_STORE_WORKERS): how many threads parse and store finished uploads,
 *     each with its own PostgreSQL connection (default INGEST_STORE_WORKERS_DEFAULT);
 *   --submission-rate N/S ($NCAP_SUBMISSION_RATE): at most N submissions begun per trust per S
 *     seconds (trust_rate.h; default TRUST_RATE_LIMIT_DEFAULT/TRUST_RATE_WINDOW_DEFAULT; 0: none).
 * --help also lists the fixed limits on uploads and files (upload.h, submission.h). */
#ifndef NCAP_INGEST_CONFIG_H
#define NCAP_INGEST_CONFIG_H

#include "daemon.h"

#define INGEST_STORE_WORKERS_DEFAULT 4

typedef struct {
    int store_workers;
    unsigned rate_limit, rate_window_s; /* rate_limit 0: no limit */
} ingest_options_t;

/* Fills cfg and opts from the environment, then argv. Returns as daemon_config_parse does: 0 to
 * run, 1 when --help was printed (exit 0), 2 on a usage error (printed). cfg's strings point into
 * argv and the environment. */
int ingest_config_parse(daemon_config_t *cfg, ingest_options_t *opts, int argc, char **argv);

#endif
