/* outlier_process.c - outlier cases' states, deadlines in working days, and the public flag */
#include "outlier_process.h"

#include <string.h>

static const char *const state_names[OUTLIER_N_STATES] = {"detected", "trust_notified",
                                                          "trust_responded", "published", "closed"};

const char *outlier_state_name(outlier_state_t s)
{
    return s >= 0 && s < OUTLIER_N_STATES ? state_names[s] : NULL;
}

int outlier_state_parse(const char *s)
{
    for (int i = 0; s && i < OUTLIER_N_STATES; i++)
        if (strcmp(s, state_names[i]) == 0)
            return i;
    return -1;
}

int outlier_next(outlier_state_t s, outlier_event_t e)
{
    switch (e) {
    case OUTLIER_FLAGGED:
        return s == OUTLIER_CLOSED ? OUTLIER_DETECTED : -1;
    case OUTLIER_CLEARED:
        return s == OUTLIER_CLOSED ? -1 : OUTLIER_CLOSED;
    case OUTLIER_RESPONDED:
        return s == OUTLIER_TRUST_NOTIFIED ? OUTLIER_TRUST_RESPONDED : -1;
    case OUTLIER_DEADLINE:
        switch (s) {
        case OUTLIER_DETECTED:
            return OUTLIER_TRUST_NOTIFIED;
        case OUTLIER_TRUST_NOTIFIED: /* no response in time: published without one */
        case OUTLIER_TRUST_RESPONDED:
            return OUTLIER_PUBLISHED;
        default:
            return -1;
        }
    }
    return -1;
}

bool outlier_open(outlier_state_t s)
{
    return s == OUTLIER_DETECTED || s == OUTLIER_TRUST_NOTIFIED || s == OUTLIER_TRUST_RESPONDED;
}

bool outlier_trust_sees(outlier_state_t s)
{
    return s == OUTLIER_TRUST_NOTIFIED || s == OUTLIER_TRUST_RESPONDED || s == OUTLIER_PUBLISHED;
}

int outlier_stage_days(const audit_outliers_t *cfg, outlier_state_t s)
{
    switch (s) {
    case OUTLIER_DETECTED:
        return cfg->notify_within_days;
    case OUTLIER_TRUST_NOTIFIED:
        return cfg->respond_within_days;
    case OUTLIER_TRUST_RESPONDED:
        return cfg->publish_within_days;
    default:
        return -1;
    }
}

#define DAY 86400LL

/* 0 Monday ... 6 Sunday; 1970-01-01 was a Thursday (3). */
static int weekday(long long day)
{
    long long w = (day + 3) % 7;
    return (int)(w < 0 ? w + 7 : w);
}

long long outlier_due(long long from, int days, long long day_seconds)
{
    if (day_seconds > 0)
        return from + (long long)days * day_seconds;
    long long day = from / DAY - (from % DAY < 0), tod = from - day * DAY;
    if (weekday(day) >= 5) { /* a weekend: from the Monday after, at midnight */
        day += 7 - weekday(day);
        tod = 0;
    }
    for (int left = days; left > 0;) {
        day++;
        if (weekday(day) < 5)
            left--;
    }
    return day * DAY + tod;
}

const char *outlier_public_flag(const char *flag, bool published)
{
    if (published || !flag)
        return flag;
    if (strcmp(flag, "alarm_high") == 0)
        return "alert_high";
    if (strcmp(flag, "alarm_low") == 0)
        return "alert_low";
    return flag;
}

bool outlier_flag_opens(const char *flag)
{
    return flag && (strncmp(flag, "alert_", 6) == 0 || strncmp(flag, "alarm_", 6) == 0);
}
