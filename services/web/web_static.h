/* web_static.h - the releases folder over HTTP: the portal publish writes into <releases>/site/
 * (the home page /site/, where / redirects) and every release's files at
 * /<audit>/<period>/<file> (latest.csv, latest.json, fingertips.csv, spc.csv, r0001/..., and
 * final/<year>/...), so that the site's relative download links work alike from disk and here.
 *
 * Only regular files are served, never a listing: a folder asked for with its trailing slash is
 * its index.html, without it a redirect to it. Every path goes through web_path.h first. A file
 * is sent from its descriptor (no copy in memory) with Content-Length, an ETag (size and
 * modification time) and Last-Modified; If-None-Match answers 304. */
#ifndef NCAP_WEB_STATIC_H
#define NCAP_WEB_STATIC_H

#include "web_reply.h"

/* The content type of a file name by its extension; application/octet-stream when unknown. */
const char *web_static_type(const char *name);

/* Answers req (GET or HEAD, the caller has checked) from the folder root_fd into rep. */
void web_static_serve(int root_fd, const web_request_t *req, web_reply_t *rep);

#endif
