/* release_diff.h - `ncap release diff --audit A --period P rX rY`: the cells that changed between
 * two kept revisions of a period, old and new figures, and why (the records publish counted per
 * trust for each revision, migration 0025). */
#ifndef NCAP_RELEASE_DIFF_H
#define NCAP_RELEASE_DIFF_H

/* argv[0] is "diff". Exit 0 listed, 1 a revision not kept or PostgreSQL, 2 usage. */
int release_diff(int argc, char **argv);

#endif
