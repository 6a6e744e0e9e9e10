/* metrics.c - atomic counters, gauges and fixed-bucket histograms, and their text exposition */
#include "metrics.h"

#include <assert.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* SQLSTATE characters are digits and upper-case letters: a class is two of them. */
#define SQLSTATE_CHARS 36
#define DB_CLASSES (SQLSTATE_CHARS * SQLSTATE_CHARS)
#define DB_CLASS_NONE DB_CLASSES /* no SQLSTATE: a lost connection, no answer */

typedef struct {
    const char *name, *help;
} metric_name_t;

static const metric_name_t counter_names[METRICS_N_COUNTERS] = {
    {"ncap_records_processed_total",
     "Records this instance stored (committed to its stage's tables) since it started; publish: "
     "the audit periods it rebuilt."},
    {"ncap_records_quarantined_total",
     "Records this instance quarantined (committed to <stage>.quarantine) since it started."},
    {"ncap_records_deferred_total",
     "Records this instance left to its next batch because another instance's transaction held "
     "what they needed (linkage: a blocking key), since it started."},
    {"ncap_messages_received_total",
     "Messages taken from the inbox: nudges from the upstream stage (ingest: trusts' requests)."},
    {"ncap_messages_sent_total", "Nudges sent to the next stage."},
    {"ncap_messages_dropped_total",
     "Nudges not sent for want of room or a live next stage (the backlog finds their records)."},
    {"ncap_db_reconnects_total", "Times the loop's PostgreSQL connection was lost and made again."},
};

static const metric_name_t gauge_names[METRICS_N_GAUGES] = {
    {"ncap_stage_processed_records",
     "Records the stage has processed, all instances together, as ncap status counts them (its "
     "tally, read every few seconds)."},
    {"ncap_backlog_records",
     "Records upstream holds that the stage has not processed, as ncap status counts them (read "
     "every few seconds)."},
    {"ncap_quarantine_records", "Records held in the stage's quarantine (read every few seconds)."},
    {"ncap_db_connected", "1 while the loop is connected to PostgreSQL, else 0."},
    {"ncap_registered", "1 while this instance is registered in ops.instance, else 0."},
};

/* A histogram's upper bounds, in the unit it is observed in, and as exposed. */
typedef struct {
    const char *name, *help;
    size_t n;
    const uint64_t *bound;
    const char *const *le;
    uint64_t scale; /* the observed unit per exposed unit: the _sum's divisor */
} histogram_def_t;

#define SIZE_BUCKETS 9
static const uint64_t size_bound[SIZE_BUCKETS] = {1, 5, 10, 25, 50, 100, 250, 500, 1000};
static const char *const size_le[SIZE_BUCKETS] = {"1",   "5",   "10",  "25",  "50",
                                                  "100", "250", "500", "1000"};
#define TIME_BUCKETS 12
static const uint64_t time_bound[TIME_BUCKETS] = {
    1000, 5000, 10000, 25000, 50000, 100000, 250000, 500000, 1000000, 2500000, 5000000, 10000000};
static const char *const time_le[TIME_BUCKETS] = {"0.001", "0.005", "0.01", "0.025", "0.05", "0.1",
                                                  "0.25",  "0.5",   "1",    "2.5",   "5",    "10"};

enum { HIST_SIZE, HIST_TIME, N_HIST };
static const histogram_def_t hist_defs[N_HIST] = {
    {"ncap_batch_records", "Records per committed batch (publish: periods per rebuild).",
     SIZE_BUCKETS, size_bound, size_le, 1},
    {"ncap_batch_duration_seconds",
     "Time from reading a batch's rows to its commit (ingest: storing one submission).",
     TIME_BUCKETS, time_bound, time_le, 1000000},
};

#define MAX_BUCKETS 12
typedef struct {
    _Atomic uint64_t bucket[MAX_BUCKETS + 1]; /* not cumulative; the last is above every bound */
    _Atomic uint64_t sum;
} histogram_t;

typedef struct {
    const char *name, *help, *label; /* the family's (string constants) */
    char *value;                     /* this series' label value */
    double v;
} family_series_t;

struct metrics_t {
    char *stage, *service, *version;
    _Atomic uint64_t counter[METRICS_N_COUNTERS];
    _Atomic int64_t gauge[METRICS_N_GAUGES];
    histogram_t hist[N_HIST];
    _Atomic uint64_t db_errors[DB_CLASSES + 1];
    _Atomic long long beat_ms; /* -1: not yet */
    pthread_mutex_t family_lock;
    family_series_t series[METRICS_FAMILY_SERIES];
    size_t n_series;
};

metrics_t *metrics_new(const char *stage, const char *service, const char *version)
{
    metrics_t *self = calloc(1, sizeof *self);
    if (!self)
        return NULL;
    self->stage = strdup(stage ? stage : "");
    self->service = strdup(service ? service : "");
    self->version = strdup(version ? version : "");
    if (!self->stage || !self->service || !self->version ||
        pthread_mutex_init(&self->family_lock, NULL) != 0) {
        free(self->stage);
        free(self->service);
        free(self->version);
        free(self);
        return NULL;
    }
    atomic_init(&self->beat_ms, -1);
    return self;
}

void metrics_destroy(metrics_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    metrics_t *self = *self_p;
    for (size_t i = 0; i < self->n_series; i++)
        free(self->series[i].value);
    pthread_mutex_destroy(&self->family_lock);
    free(self->stage);
    free(self->service);
    free(self->version);
    free(self);
    *self_p = NULL;
}

void metrics_add(metrics_t *self, metrics_counter_t c, uint64_t n)
{
    if (!self || c >= METRICS_N_COUNTERS)
        return;
    atomic_fetch_add_explicit(&self->counter[c], n, memory_order_relaxed);
}

void metrics_set(metrics_t *self, metrics_gauge_t g, int64_t v)
{
    if (!self || g >= METRICS_N_GAUGES)
        return;
    atomic_store_explicit(&self->gauge[g], v, memory_order_relaxed);
}

int64_t metrics_get(const metrics_t *self, metrics_gauge_t g)
{
    if (!self || g >= METRICS_N_GAUGES)
        return 0;
    return atomic_load_explicit(&((metrics_t *)self)->gauge[g], memory_order_relaxed);
}

uint64_t metrics_count(const metrics_t *self, metrics_counter_t c)
{
    if (!self || c >= METRICS_N_COUNTERS)
        return 0;
    return atomic_load_explicit(&((metrics_t *)self)->counter[c], memory_order_relaxed);
}

static void observe(histogram_t *h, const histogram_def_t *def, uint64_t v)
{
    size_t i = 0;
    while (i < def->n && v > def->bound[i])
        i++;
    atomic_fetch_add_explicit(&h->bucket[i], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&h->sum, v, memory_order_relaxed);
}

void metrics_batch(metrics_t *self, uint64_t records, uint64_t micros)
{
    if (!self)
        return;
    observe(&self->hist[HIST_SIZE], &hist_defs[HIST_SIZE], records);
    observe(&self->hist[HIST_TIME], &hist_defs[HIST_TIME], micros);
}

static int sqlstate_char(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'A' && c <= 'Z')
        return 10 + (c - 'A');
    return -1;
}

void metrics_db_error(metrics_t *self, const char *sqlstate)
{
    if (!self)
        return;
    int a = sqlstate && sqlstate[0] ? sqlstate_char(sqlstate[0]) : -1;
    int b = a >= 0 ? sqlstate_char(sqlstate[1]) : -1;
    size_t at = a >= 0 && b >= 0 ? (size_t)(a * SQLSTATE_CHARS + b) : DB_CLASS_NONE;
    atomic_fetch_add_explicit(&self->db_errors[at], 1, memory_order_relaxed);
}

void metrics_beat(metrics_t *self, long long now_ms)
{
    if (!self)
        return;
    atomic_store_explicit(&self->beat_ms, now_ms, memory_order_relaxed);
}

int metrics_family_set(metrics_t *self, const char *name, const char *help, const char *label,
                       const char *value, double v)
{
    if (!self)
        return 0;
    assert(name && help && label && value);
    int rc = 0;
    pthread_mutex_lock(&self->family_lock);
    size_t i = 0;
    while (i < self->n_series &&
           !(strcmp(self->series[i].name, name) == 0 && strcmp(self->series[i].value, value) == 0))
        i++;
    if (i < self->n_series) {
        self->series[i].v = v;
    } else if (self->n_series == METRICS_FAMILY_SERIES) {
        rc = -1;
    } else {
        /* the family's help and label are those it was first given */
        const char *fhelp = help, *flabel = label;
        for (size_t j = 0; j < self->n_series; j++)
            if (strcmp(self->series[j].name, name) == 0) {
                fhelp = self->series[j].help;
                flabel = self->series[j].label;
                break;
            }
        char *copy = strdup(value);
        if (!copy)
            rc = -1;
        else
            self->series[self->n_series++] = (family_series_t){name, fhelp, flabel, copy, v};
    }
    pthread_mutex_unlock(&self->family_lock);
    return rc;
}

bool metrics_alive(const metrics_t *self, long long now_ms, char *why, size_t whylen)
{
    assert(self);
    long long beat = atomic_load_explicit(&((metrics_t *)self)->beat_ms, memory_order_relaxed);
    if (beat < 0 || now_ms - beat <= METRICS_STALL_MS)
        return true;
    snprintf(why, whylen, "the daemon's loop has not turned for %lld s (more than %d s)",
             (now_ms - beat) / 1000, METRICS_STALL_MS / 1000);
    return false;
}

bool metrics_ready(const metrics_t *self, long long now_ms, char *why, size_t whylen)
{
    assert(self);
    if (!metrics_alive(self, now_ms, why, whylen))
        return false;
    if (metrics_get(self, METRICS_DB_CONNECTED) != 1) {
        snprintf(why, whylen, "not connected to PostgreSQL");
        return false;
    }
    if (metrics_get(self, METRICS_REGISTERED) != 1) {
        snprintf(why, whylen, "not registered in ops.instance");
        return false;
    }
    return true;
}

/* --- exposition ---------------------------------------------------------------------------- */

/* A label value: backslash, double quote and newline escaped, as the format asks. */
static void append_label_value(strbuf_t *out, const char *v)
{
    for (const char *p = v; *p; p++) {
        if (*p == '\\')
            strbuf_append(out, "\\\\");
        else if (*p == '"')
            strbuf_append(out, "\\\"");
        else if (*p == '\n')
            strbuf_append(out, "\\n");
        else
            strbuf_append_n(out, p, 1);
    }
}

static void head(strbuf_t *out, const char *name, const char *help, const char *type)
{
    strbuf_appendf(out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{stage="<stage>"[,extra]} */
static void series(strbuf_t *out, const metrics_t *self, const char *name, const char *extra)
{
    strbuf_appendf(out, "%s{stage=\"", name);
    append_label_value(out, self->stage);
    strbuf_appendf(out, "\"%s%s} ", extra ? "," : "", extra ? extra : "");
}

/* v in units of 1/scale, as a decimal number */
static void append_scaled(strbuf_t *out, uint64_t v, uint64_t scale)
{
    if (scale == 1)
        strbuf_appendf(out, "%" PRIu64, v);
    else
        strbuf_appendf(out, "%" PRIu64 ".%06" PRIu64, v / scale, (v % scale) * 1000000 / scale);
}

static void render_histogram(strbuf_t *out, metrics_t *self, int which)
{
    const histogram_def_t *def = &hist_defs[which];
    histogram_t *h = &self->hist[which];
    char name[96], le[64];
    head(out, def->name, def->help, "histogram");
    uint64_t cumulative = 0;
    snprintf(name, sizeof name, "%s_bucket", def->name);
    for (size_t i = 0; i <= def->n; i++) {
        cumulative += atomic_load_explicit(&h->bucket[i], memory_order_relaxed);
        snprintf(le, sizeof le, "le=\"%s\"", i < def->n ? def->le[i] : "+Inf");
        series(out, self, name, le);
        strbuf_appendf(out, "%" PRIu64 "\n", cumulative);
    }
    snprintf(name, sizeof name, "%s_sum", def->name);
    series(out, self, name, NULL);
    append_scaled(out, atomic_load_explicit(&h->sum, memory_order_relaxed), def->scale);
    strbuf_append(out, "\n");
    snprintf(name, sizeof name, "%s_count", def->name);
    series(out, self, name, NULL);
    strbuf_appendf(out, "%" PRIu64 "\n", cumulative);
}

static int by_name_value(const void *a, const void *b)
{
    const family_series_t *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : strcmp(x->value, y->value);
}

static void render_families(strbuf_t *out, metrics_t *self)
{
    family_series_t copy[METRICS_FAMILY_SERIES];
    char *values[METRICS_FAMILY_SERIES];
    pthread_mutex_lock(&self->family_lock);
    size_t n = self->n_series;
    for (size_t i = 0; i < n; i++) {
        copy[i] = self->series[i];
        values[i] = strdup(self->series[i].value);
        copy[i].value = values[i] ? values[i] : "";
    }
    pthread_mutex_unlock(&self->family_lock);
    qsort(copy, n, sizeof *copy, by_name_value);
    for (size_t i = 0; i < n; i++) {
        if (i == 0 || strcmp(copy[i].name, copy[i - 1].name) != 0)
            head(out, copy[i].name, copy[i].help, "gauge");
        strbuf_appendf(out, "%s{stage=\"", copy[i].name);
        append_label_value(out, self->stage);
        strbuf_appendf(out, "\",%s=\"", copy[i].label);
        append_label_value(out, copy[i].value);
        strbuf_appendf(out, "\"} %.15g\n", copy[i].v);
    }
    for (size_t i = 0; i < n; i++)
        free(values[i]);
}

void metrics_render(metrics_t *self, strbuf_t *out)
{
    assert(self && out);
    head(out, "ncap_build_info", "The daemon's build: its version, service and stage (always 1).",
         "gauge");
    strbuf_append(out, "ncap_build_info{stage=\"");
    append_label_value(out, self->stage);
    strbuf_append(out, "\",service=\"");
    append_label_value(out, self->service);
    strbuf_append(out, "\",version=\"");
    append_label_value(out, self->version);
    strbuf_append(out, "\"} 1\n");
    for (int c = 0; c < METRICS_N_COUNTERS; c++) {
        head(out, counter_names[c].name, counter_names[c].help, "counter");
        series(out, self, counter_names[c].name, NULL);
        strbuf_appendf(out, "%" PRIu64 "\n", metrics_count(self, (metrics_counter_t)c));
    }
    for (int g = 0; g < METRICS_N_GAUGES; g++) {
        head(out, gauge_names[g].name, gauge_names[g].help, "gauge");
        series(out, self, gauge_names[g].name, NULL);
        strbuf_appendf(out, "%" PRId64 "\n", metrics_get(self, (metrics_gauge_t)g));
    }
    for (int h = 0; h < N_HIST; h++)
        render_histogram(out, self, h);
    head(out, "ncap_db_errors_total",
         "Statements PostgreSQL refused (or that failed for a lost connection: class \"none\"), "
         "by SQLSTATE class (its first two characters).",
         "counter");
    static const char chars[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    for (size_t i = 0; i <= DB_CLASSES; i++) {
        uint64_t n = atomic_load_explicit(&self->db_errors[i], memory_order_relaxed);
        if (n == 0)
            continue;
        char label[32];
        if (i == DB_CLASS_NONE)
            snprintf(label, sizeof label, "class=\"none\"");
        else
            snprintf(label, sizeof label, "class=\"%c%c\"", chars[i / SQLSTATE_CHARS],
                     chars[i % SQLSTATE_CHARS]);
        series(out, self, "ncap_db_errors_total", label);
        strbuf_appendf(out, "%" PRIu64 "\n", n);
    }
    render_families(out, self);
}

/* --- the process's ---------------------------------------------------------------------------- */

static _Atomic(metrics_t *) installed;

void metrics_install(metrics_t *m)
{
    atomic_store(&installed, m);
}

metrics_t *metrics_installed(void)
{
    return atomic_load_explicit(&installed, memory_order_relaxed);
}
