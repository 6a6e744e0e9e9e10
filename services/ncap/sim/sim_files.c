/* sim_files.c - `ncap sim`'s files on disk or standard output */
#include "sim_files.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* What fills one file: a writer of sim.h, with its argument. */
typedef int (*file_writer_t)(const sim_t *sim, FILE *f, size_t arg);

static int trust_file(const sim_t *sim, FILE *f, size_t t)
{
    int rc = sim_write_file_header(sim, f);
    return rc == 0 ? sim_write_trust(sim, t, f) : rc;
}

static int truth_file(const sim_t *sim, FILE *f, size_t one_file)
{
    return sim_write_truth(sim, f, one_file != 0);
}

static int problems_truth_file(const sim_t *sim, FILE *f, size_t one_file)
{
    return sim_write_problems_truth(sim, f, one_file != 0);
}

static int trusts_truth_file(const sim_t *sim, FILE *f, size_t unused)
{
    (void)unused;
    return sim_write_trusts_truth(sim, f);
}

static int deaths_file(const sim_t *sim, FILE *f, size_t truth)
{
    return truth ? sim_write_deaths(sim, NULL, f) : sim_write_deaths(sim, f, NULL);
}

static int optouts_file(const sim_t *sim, FILE *f, size_t unused)
{
    (void)unused;
    return sim_write_optouts(sim, f);
}

/* Creates path and lets write fill it. Returns 0 (nothing to do when path is NULL), or 2 with a
 * message. */
static int write_file(const char *path, file_writer_t write, const sim_t *sim, size_t arg)
{
    if (!path)
        return 0;
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "ncap sim: could not open file \"%s\": %s\n", path, strerror(errno));
        return 2;
    }
    int rc = write(sim, f, arg);
    if (fclose(f) != 0 || rc != 0) {
        fprintf(stderr, "ncap sim: could not write file \"%s\"\n", path);
        return 2;
    }
    return 0;
}

int sim_write_files(const sim_t *sim, const sim_outputs_t *outs)
{
    const char *out_dir = outs->out_dir;
    if (out_dir) {
        if (mkdir(out_dir, 0777) != 0 && errno != EEXIST) {
            fprintf(stderr, "ncap sim: could not create directory \"%s\": %s\n", out_dir,
                    strerror(errno));
            return 2;
        }
        for (size_t t = 0; t < sim_ntrusts(sim); t++) {
            char path[PATH_MAX];
            snprintf(path, sizeof path, "%s/%s.csv", out_dir, sim_trust_code(sim, t));
            if (write_file(path, trust_file, sim, t) != 0)
                return 2;
        }
    } else {
        int rc = sim_write_file_header(sim, stdout);
        for (size_t t = 0; rc == 0 && t < sim_ntrusts(sim); t++)
            rc = sim_write_trust(sim, t, stdout);
        if (fflush(stdout) != 0 || rc != 0) {
            fprintf(stderr, "ncap sim: could not write to standard output\n");
            return 2;
        }
    }
    size_t one_file = out_dir == NULL;
    if (write_file(outs->truth, truth_file, sim, one_file) != 0 ||
        write_file(outs->problems_truth, problems_truth_file, sim, one_file) != 0 ||
        write_file(outs->trusts_truth, trusts_truth_file, sim, 0) != 0 ||
        write_file(outs->deaths, deaths_file, sim, 0) != 0 ||
        write_file(outs->deaths_truth, deaths_file, sim, 1) != 0 ||
        write_file(outs->optouts, optouts_file, sim, 0) != 0)
        return 2;
    sim_write_summary(sim, stderr);
    return 0;
}
