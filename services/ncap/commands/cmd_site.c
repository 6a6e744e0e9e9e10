/* cmd_site.c - `ncap site build`: the portal (the static site) from a releases folder, offline,
 * exactly as ncap-publishd writes it after each round (services/publish/site/site_build.h) */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "site_build.h"
#include "usage_error.h"

static void usage(FILE *out)
{
    fprintf(out,
            "usage: ncap site build --releases DIR [--out DIR]\n\n"
            "Writes the public portal (HTML, CSS and inline SVG; no external resources) from the\n"
            "release files under --releases (each <audit>/<period>/latest.json, latest.csv,\n"
            "fingertips.csv, spc.csv, spc_summary.csv, as ncap-publishd or `ncap release build`\n"
            "writes them) into --out (default DIR/site), built in a hidden folder beside it and\n"
            "swapped into place whole. Pages link the release files as ../<audit>/<period>/...,\n"
            "so they resolve when the site folder sits in the releases folder (the default).\n"
            "The same releases give the same bytes. Exit 0 ok, 1 failure, 2 usage.\n");
}

static int cmd_site_build(int argc, char **argv)
{
    static const struct option longopts[] = {{"releases", required_argument, NULL, 'r'},
                                             {"out", required_argument, NULL, 'o'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *releases = NULL, *out = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        if (c == 'r')
            releases = optarg;
        else if (c == 'o')
            out = optarg;
        else if (c == 'h') {
            usage(stdout);
            return 0;
        } else
            return usage_error_option("site build", c, argv);
    }
    if (optind < argc)
        return usage_error("site build", "unexpected argument \"%s\"", argv[optind]);
    if (!releases || !*releases)
        return usage_error("site build", "missing --releases DIR");
    char err[2048];
    int pages = site_build(releases, out, err, sizeof err);
    if (pages < 0) {
        fprintf(stderr, "ncap site build: %s\n", err);
        return 1;
    }
    printf("ncap site build: %d pages under %s%s\n", pages, out ? out : releases,
           out ? "" : "/site");
    return 0;
}

int cmd_site(int argc, char **argv)
{
    if (argc < 2)
        return usage_error("site", "missing subcommand (build)");
    const char *sub = argv[1];
    if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0 || strcmp(sub, "help") == 0) {
        usage(stdout);
        return 0;
    }
    if (strcmp(sub, "build") == 0)
        return cmd_site_build(argc - 1, argv + 1);
    return usage_error("site", "unknown subcommand \"%s\" (expected build)", sub);
}
