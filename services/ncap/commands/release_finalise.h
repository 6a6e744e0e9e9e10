/* release_finalise.h - `ncap release finalise --audit A --year YYYY [--cutoff DATE]`: the final
 * release of a financial year (README.md, "The annual final release"), built by the command as the
 * administrator from the record versions received by the cutoff, through the metric stage's
 * contributions (release_build_add) and the publish stage's benchmark_build, and stored with its
 * files and rows in one transaction (migration 0025). */
#ifndef NCAP_RELEASE_FINALISE_H
#define NCAP_RELEASE_FINALISE_H

/* argv[0] is "finalise". Exit 0 made, 1 exists / records in flight / PostgreSQL, 2 usage. */
int release_finalise(int argc, char **argv);

#endif
