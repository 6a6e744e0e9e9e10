/* ingest_config.h - ncap-ingestd's configuration: every daemon's (daemon.h), plus its own
 * --store-workers N ($NCAP_STORE_WORKERS): how many threads parse and store finished uploads, each
 * with its own PostgreSQL connection (default INGEST_STORE_WORKERS_DEFAULT). */
#ifndef NCAP_INGEST_CONFIG_H
#define NCAP_INGEST_CONFIG_H

#include "daemon.h"

#define INGEST_STORE_WORKERS_DEFAULT 4
/* ZMQ_MAXMSGSIZE of the submission endpoint: a request carries a chunk of at most 1 MiB (what
 * ncap submit sends) and a few short fields; ZeroMQ drops the connection of a peer that sends
 * more, before the message is read. */
#define INGEST_REQUEST_MAX_BYTES (2 * 1024 * 1024)

/* Fills cfg and *store_workers from the environment, then argv. Returns as daemon_config_parse
 * does: 0 to run, 1 when --help was printed (exit 0), 2 on a usage error (printed). cfg's strings
 * point into argv and the environment. */
int ingest_config_parse(daemon_config_t *cfg, int *store_workers, int argc, char **argv);

#endif
