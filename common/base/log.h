/* log.h - one JSON object per line on stderr: {"ts":...,"level":...,"service":...,"msg":...,...} */
#ifndef NCAP_LOG_H
#define NCAP_LOG_H

typedef enum { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR } ncap_log_level_t;

/* Names the service in every line and reads the threshold from $NCAP_LOG_LEVEL. */
void ncap_log_init(const char *service);
/* msg is plain words; kv is NULL or a list of "key", "value" string pairs ending with NULL. */
void ncap_log(ncap_log_level_t level, const char *msg, ...);
void ncap_logf(ncap_log_level_t level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
