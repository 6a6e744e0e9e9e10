/* log.c - JSON log lines */
#include "log.h"

#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const char *log_service = "ncap";
static ncap_log_level_t log_threshold = LOG_INFO;
static const char *level_names[] = {"debug", "info", "warn", "error"};

void ncap_log_init(const char *service)
{
    log_service = service;
    const char *lv = getenv("NCAP_LOG_LEVEL");
    if (lv)
        for (int i = 0; i < 4; i++)
            if (strcasecmp(lv, level_names[i]) == 0)
                log_threshold = (ncap_log_level_t)i;
}

static void emit(ncap_log_level_t level, const char *msg, va_list kv)
{
    struct timeval tv;
    gettimeofday(&tv, NULL);
    struct tm tm;
    gmtime_r(&tv.tv_sec, &tm);
    char ts[96];
    snprintf(ts, sizeof ts, "%04d-%02d-%02dT%02d:%02d:%02d.%03ldZ", tm.tm_year + 1900,
             tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec,
             (long)(tv.tv_usec / 1000));
    json_t *o = json_object();
    json_object_set_new(o, "ts", json_string(ts));
    json_object_set_new(o, "level", json_string(level_names[level]));
    json_object_set_new(o, "service", json_string(log_service));
    json_object_set_new(o, "pid", json_integer(getpid()));
    json_object_set_new(o, "msg", json_string(msg));
    const char *k;
    while ((k = va_arg(kv, const char *)) != NULL) {
        const char *v = va_arg(kv, const char *);
        json_object_set_new(o, k, json_string(v ? v : ""));
    }
    char *line = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    if (line) {
        fprintf(stderr, "%s\n", line);
        free(line);
    }
    json_decref(o);
}

void ncap_log(ncap_log_level_t level, const char *msg, ...)
{
    if (level < log_threshold)
        return;
    va_list ap;
    va_start(ap, msg);
    emit(level, msg, ap);
    va_end(ap);
}

static void emit_plain(ncap_log_level_t level, const char *msg, ...)
{
    va_list ap;
    va_start(ap, msg);
    emit(level, msg, ap);
    va_end(ap);
}

void ncap_logf(ncap_log_level_t level, const char *fmt, ...)
{
    if (level < log_threshold)
        return;
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    emit_plain(level, buf, (const char *)NULL);
}
