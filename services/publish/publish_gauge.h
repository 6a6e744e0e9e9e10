/* publish_gauge.h - publish's own gauge for its metrics (stage_ops_t.gauge): when each audit's
 * latest release was made, for the alert "no release for an audit in its interval"
 * (deploy/monitoring/ncap-alerts.yml). O(releases), a few rows per audit period. */
#ifndef NCAP_PUBLISH_GAUGE_H
#define NCAP_PUBLISH_GAUGE_H

#include "stage.h"

#define PUBLISH_RELEASE_GAUGE                                                                      \
    ((stage_gauge_t){"ncap_release_last_timestamp_seconds",                                        \
                     "When the latest release of the audit was made (Unix time), any period.",     \
                     "audit",                                                                      \
                     "SELECT audit, extract(epoch FROM max(created_at)) FROM publish.release"      \
                     " GROUP BY audit"})

#endif
