/* sim_register.c - the register of deaths as the rounds go by (see sim_register.h) */
#include "sim_register.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "array_grow.h"
#include "datetime.h"
#include "file_read.h"

/* A row of the register dated past the coverage so far, formatted. */
typedef struct {
    int64_t day;
    char *line;
    size_t len;
} pending_t;

struct sim_register_t {
    char *path;
    int64_t start_day;
    unsigned step;
    int64_t covered; /* the day covered so far, or INT64_MIN before the first round */
    pending_t *pending;
    size_t n, cap;
};

static char *path_with(const char *path, const char *suffix)
{
    size_t n = strlen(path) + strlen(suffix) + 1;
    char *p = malloc(n);
    if (p)
        snprintf(p, n, "%s%s", path, suffix);
    return p;
}

/* The day path.covers-to says into *day (INT64_MIN when there is no such file). 0, or -1 with err.
 */
static int read_covered(const char *path, int64_t *day, char *err, size_t errlen)
{
    *day = INT64_MIN;
    char *name = path_with(path, ".covers-to"), *data = NULL;
    size_t len = 0;
    if (!name) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    int rc = 0;
    if (file_read_all(name, &data, &len) == 0) {
        char date[16] = "";
        int y, m, d;
        sscanf(data, "%15s", date);
        if (ncap_date_parse(date, &y, &m, &d) != 0) {
            snprintf(err, errlen,
                     "\"%s\" holds \"%.20s\", expected the day the register covers to "
                     "(YYYY-MM-DD)",
                     name, date);
            rc = -1;
        } else {
            *day = ncap_days_from_civil(y, m, d);
        }
    }
    free(data);
    free(name);
    return rc;
}

sim_register_t *sim_register_open(const char *path, int64_t start_day, unsigned step_days,
                                  char *err, size_t errlen)
{
    sim_register_t *self = calloc(1, sizeof *self);
    if (!self || !(self->path = strdup(path))) {
        free(self);
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    self->start_day = start_day;
    self->step = step_days ? step_days : 1;
    if (read_covered(path, &self->covered, err, errlen) != 0)
        sim_register_destroy(&self);
    return self;
}

void sim_register_destroy(sim_register_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    sim_register_t *self = *self_p;
    for (size_t i = 0; i < self->n; i++)
        free(self->pending[i].line);
    free(self->pending);
    free(self->path);
    free(self);
    *self_p = NULL;
}

/* Adds sim's rows to the pending ones. 0, or -1 when out of memory or a write failed. */
static int add_rows(sim_register_t *self, const sim_t *sim)
{
    for (size_t k = 0; k < sim_ndeaths(sim); k++) {
        if (array_grow((void **)&self->pending, &self->cap, self->n + 1, sizeof *self->pending))
            return -1;
        pending_t *p = &self->pending[self->n];
        FILE *f = open_memstream(&p->line, &p->len);
        if (!f)
            return -1;
        int rc = sim_write_death(sim, k, f);
        if (fclose(f) != 0 || rc != 0) {
            free(p->line);
            return -1;
        }
        p->day = sim_death_day(sim, k);
        self->n++;
    }
    return 0;
}

/* Writes name (through name.tmp, renamed over it): the bytes of keep (a file, or NULL for none)
 * or the header when it does not exist, then the pending rows dated up to covered. 0, or -1 with
 * err. */
static int write_register(sim_register_t *self, int64_t covered, size_t *added, char *err,
                          size_t errlen)
{
    char *tmp = path_with(self->path, ".tmp");
    if (!tmp) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    FILE *out = fopen(tmp, "w"), *in = out ? fopen(self->path, "r") : NULL;
    int rc = out ? 0 : -1;
    if (out && in) {
        char buf[65536];
        size_t got;
        while ((got = fread(buf, 1, sizeof buf, in)) > 0)
            if (fwrite(buf, 1, got, out) != got)
                rc = -1;
        if (ferror(in))
            rc = -1;
        fclose(in);
    } else if (out) {
        rc = sim_write_deaths_header(out);
    }
    *added = 0;
    for (size_t i = 0; rc == 0 && i < self->n; i++)
        if (self->pending[i].day <= covered) {
            if (fwrite(self->pending[i].line, 1, self->pending[i].len, out) != self->pending[i].len)
                rc = -1;
            (*added)++;
        }
    if (out && (fflush(out) != 0 || fsync(fileno(out)) != 0))
        rc = -1;
    if (out && fclose(out) != 0)
        rc = -1;
    if (rc == 0 && rename(tmp, self->path) != 0)
        rc = -1;
    if (rc != 0) {
        snprintf(err, errlen, "could not write the register of deaths \"%s\": %s", self->path,
                 strerror(errno));
        unlink(tmp);
    }
    free(tmp);
    return rc;
}

/* Writes path.covers-to (through a temporary file renamed over it). 0, or -1 with err. */
static int write_covered(const sim_register_t *self, const char *covers_to, char *err,
                         size_t errlen)
{
    char *name = path_with(self->path, ".covers-to"),
         *tmp = path_with(self->path, ".covers-to.tmp");
    int rc = -1;
    FILE *f = name && tmp ? fopen(tmp, "w") : NULL;
    if (f) {
        fprintf(f, "%s\n", covers_to);
        rc = fflush(f) == 0 && fsync(fileno(f)) == 0 ? 0 : -1;
        if (fclose(f) != 0)
            rc = -1;
        if (rc == 0 && rename(tmp, name) != 0)
            rc = -1;
    }
    if (rc != 0)
        snprintf(err, errlen, "could not write \"%s\": %s", name ? name : self->path,
                 strerror(errno));
    free(name);
    free(tmp);
    return rc;
}

int sim_register_round(sim_register_t *self, const sim_t *sim, unsigned round, char covers_to[11],
                       size_t *added, char *err, size_t errlen)
{
    if (add_rows(self, sim) != 0) {
        snprintf(err, errlen, "out of memory or a write error formatting the register of deaths");
        return -1;
    }
    int64_t covered = self->start_day + (int64_t)round * self->step;
    if (covered < self->covered)
        covered = self->covered;
    if (write_register(self, covered, added, err, errlen) != 0)
        return -1;
    /* the rows written leave the pending ones */
    size_t m = 0;
    for (size_t i = 0; i < self->n; i++) {
        if (self->pending[i].day <= covered)
            free(self->pending[i].line);
        else
            self->pending[m++] = self->pending[i];
    }
    self->n = m;
    self->covered = covered;
    int y, mo, d;
    ncap_civil_from_days(covered, &y, &mo, &d);
    snprintf(covers_to, 11, "%04d-%02d-%02d", y, mo, d);
    return write_covered(self, covers_to, err, errlen);
}
