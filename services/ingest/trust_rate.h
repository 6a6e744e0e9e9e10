/* trust_rate.h - the per-trust submission rate limit (pure: the caller passes the time): a token
 * bucket per trust, holding up to limit tokens and refilled at limit per window_s seconds. Each
 * submission begun takes one; with none left the trust is refused until one is back. A trust
 * refused has begun at least limit submissions in the last window_s seconds (an empty bucket
 * means limit were taken since it was last full, at most window_s ago), which is what the refusal
 * says.
 *
 * Trusts are kept in a keyed map (str_map.h), 16 bytes of state each; past TRUST_RATE_MAX_TRUSTS
 * the map is rebuilt with only the trusts whose bucket is not full (a full bucket is the same as
 * none), so stating many trust codes cannot grow it without bound: it grows to at most twice
 * what its last rebuild kept, or TRUST_RATE_MAX_TRUSTS, each new trust O(1) amortised. */
#ifndef NCAP_TRUST_RATE_H
#define NCAP_TRUST_RATE_H

#define TRUST_RATE_LIMIT_DEFAULT 60  /* submissions per trust ... */
#define TRUST_RATE_WINDOW_DEFAULT 60 /* ... per this many seconds */
#define TRUST_RATE_MAX_TRUSTS 4096   /* trusts kept before the full buckets are forgotten */

typedef struct trust_rate_t trust_rate_t;

/* At most limit submissions per trust per window_s seconds (limit 0: no limit). NULL when out of
 * memory. */
trust_rate_t *trust_rate_new(unsigned limit, unsigned window_s);
void trust_rate_destroy(trust_rate_t **self_p);

/* Takes one submission of trust at now_ms. Returns 0 when it may go on, or else the milliseconds
 * until it may (the trust is refused now; nothing was taken). Out of memory: 0 (not refused). */
long long trust_rate_take(trust_rate_t *self, const char *trust, long long now_ms);
unsigned trust_rate_limit(const trust_rate_t *self);
unsigned trust_rate_window(const trust_rate_t *self);

#endif
