/* site_build.h - the portal written whole: every page of site_pages.h from the release folder
 * tree, into a fresh hidden folder beside the site (<parent>/.site.tmp-XXXXXX), then
 * swapped into place in one rename (renameat2 RENAME_EXCHANGE) and the old site removed: a
 * reader sees the old site or the new one, never half of one, and a crash leaves the old site
 * (and a hidden folder the next build removes). The pages are not flushed to disk: after a power
 * loss publish writes the site again at start. The same releases give the same bytes. */
#ifndef NCAP_SITE_BUILD_H
#define NCAP_SITE_BUILD_H

#include <stddef.h>

/* Builds the site of releases_dir into out_dir (NULL: releases_dir/site; download links assume
 * the site folder sits in the releases folder). Returns the number of pages written, or -1 with
 * err (nothing changed then). */
int site_build(const char *releases_dir, const char *out_dir, char *err, size_t errlen);

#endif
