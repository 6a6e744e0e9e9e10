/* linkage_pop.c - the linkage test population (linkage_pop.h): who the people are, how often each
 * is seen, and each record as written. Rates are per mille and listed in `ncap sim linkage --help`
 * (cmd_sim_linkage.c), which must stay true to them. */
#include "linkage_pop.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetime.h"
#include "nhs_number.h"
#include "sim_internal.h"

/* Generator streams: (person << 6) | slot, one per purpose and visit; the order of the records
 * its own. */
enum { SLOT_SHAPE = 0, SLOT_WHO = 1, SLOT_OWN = 2, SLOT_VISIT = 8 };
#define STREAM(p, slot) (((uint64_t)(p) << 6) | (uint64_t)(slot))
#define STREAM_ORDER UINT64_MAX

/* People seen k times, k = 1..20, in proportion to k^-1.5 (x 10,000): 46% once, 38% three times
 * or more, 3.5 records a person on average. */
static const unsigned visits_w[LINKAGE_POP_MAX_VISITS] = {
    10000, 3536, 1925, 1250, 894, 680, 540, 442, 370, 316,
    274,   241,  213,  191,  172, 156, 143, 131, 121, 112,
};

/* How a person relates to the one before: twin 1.5%, spouse 6%, other relative 6%. */
static const unsigned relation_w[] = {865, 15, 60, 60};

/* Blocks of rare names: surnames not among the common ones are made of these, e.g. "Ashcott",
 * "Thornerley": about 57,000 of them, drawn so that the most common is as common as the 110th
 * common surname and most are held by a handful of people. */
static const char *const sur_head[] = {
    "Ash",   "Brad",  "Black", "Brook", "Cal",   "Craw",  "Dun",  "Elling", "Fair",  "Fen",
    "Gold",  "Green", "Hart",  "Hay",   "Holl",  "Kent",  "Lang", "Lock",   "Mar",   "Mill",
    "Nor",   "Oak",   "Pem",   "Ried",  "Rad",   "Sal",   "Shel", "Stan",   "Stock", "Thorn",
    "Tre",   "Wal",   "West",  "Whit",  "Wood",  "Wins",  "Ald",  "Bar",    "Chad",  "Dray",
    "Kowal", "Nowak", "Okon",  "Adeb",  "Mensa", "Chaud", "Rahm", "Siddi",  "Oset",  "Bhat",
    "Fitz",  "Mac",   "Pen",   "Tal",   "Fern",  "Hol",   "Mor",  "Ros",    "Kil",   "Dal",
};
static const char *const sur_mid[] = {"",   "er", "ing", "el", "en",  "ow", "am", "in",
                                      "an", "ey", "ar",  "ol", "ath", "is", "ur", "on"};
static const char *const sur_tail[] = {
    "ton",    "ley",   "ford",   "field",  "worth", "wood", "by",    "ham",  "well",  "more",
    "den",    "stone", "bridge", "cott",   "combe", "gate", "hurst", "land", "lock",  "man",
    "ridge",  "shaw",  "son",    "thorpe", "wick",  "burn", "bury",  "dale", "sey",   "ock",
    "ett",    "ard",   "ski",    "ola",    "ah",    "ani",  "ez",    "ovic", "aro",   "ell",
    "ick",    "ney",   "ers",    "ins",    "ings",  "ows",  "ston",  "mere", "holme", "croft",
    "wright", "brook", "ville",  "ington", "ridge", "hall", "kin",   "kins", "cock",  "ly",
};
#define NSUR_HEAD (sizeof sur_head / sizeof sur_head[0])
#define NSUR_MID (sizeof sur_mid / sizeof sur_mid[0])
#define NSUR_TAIL (sizeof sur_tail / sizeof sur_tail[0])

static const char *const given_head[] = {"A",  "Be", "Ca", "Da", "E",  "Fa", "Ga", "Ha",
                                         "I",  "Ja", "Ka", "La", "Ma", "Na", "O",  "Pa",
                                         "Ra", "Sa", "Ta", "Ya", "Za", "Ro", "Mi", "Ni"};
static const char *const given_mid[] = {"ri", "li", "na",  "de", "mi",
                                        "ra", "ni", "sha", "ya", "vi"};
static const char *const given_f[] = {"a", "ah", "ie", "ine", "elle", "i", "ette", "ara"};
static const char *const given_m[] = {"n", "l", "r", "s", "d", "m", "o", "an"};

static const char *const domains[] = {"gmail.com",      "hotmail.co.uk", "yahoo.co.uk",
                                      "btinternet.com", "outlook.com",   "aol.com",
                                      "sky.com",        "icloud.com"};
static const unsigned domain_w[] = {35, 25, 12, 10, 8, 4, 4, 2};

static const char *const field_names[LINKAGE_POP_NFIELDS] = {
    "nhs_number", "first_name", "surname", "dob", "sex", "postcode", "city", "email",
};

/* Ages on 2025-01-01: even up to 64, then fewer year by year to none at 100. */
#define REFERENCE_DAY 20089 /* 2025-01-01 */

typedef struct {
    char sex; /* '1' male, '2' female */
    char forename[32];
    const char *nick; /* NULL for none */
    char surname[48];
    int32_t dob;
    char nhs[11];
    uint8_t naddr;
    char postcode[3][9];
    uint8_t area[3];
    char married[48];   /* the surname after a marriage, "" for none */
    uint8_t married_at; /* the first visit written with it */
    char email[80];
    uint8_t visits;
} person_t;

void linkage_pop_opts_default(linkage_pop_opts_t *opts)
{
    static const double blank[LINKAGE_POP_NFIELDS] = {0.3, 0.02, 0.02, 0.05, 0.02, 0.1, 0.1, 0.5};
    memset(opts, 0, sizeof *opts);
    opts->records = 50000;
    opts->seed = 1;
    memcpy(opts->blank, blank, sizeof blank);
}

const char *linkage_pop_field_name(linkage_pop_field_t field)
{
    return field < LINKAGE_POP_NFIELDS ? field_names[field] : "";
}

int linkage_pop_field_parse(const char *name, linkage_pop_field_t *field)
{
    for (size_t f = 0; f < LINKAGE_POP_NFIELDS; f++)
        if (strcmp(name, field_names[f]) == 0) {
            *field = (linkage_pop_field_t)f;
            return 0;
        }
    return -1;
}

const char *linkage_pop_relation_name(linkage_pop_relation_t relation)
{
    static const char *const names[] = {"", "twin", "spouse", "relative"};
    return relation <= LINKAGE_POP_RELATIVE ? names[relation] : "";
}

/* An index below n drawn in proportion to 1 / (i + c): Zipf-like, flattened at the top by c. */
static size_t zipf_index(rng_t *r, size_t n, double c)
{
    double u = rng_uniform(r);
    double x = c * exp(u * log(((double)n + c) / c)) - c;
    size_t i = (size_t)x;
    return i < n ? i : n - 1;
}

/* A surname: 25% one of the common ones (Smith about 1.3% of people), 75% a rarer one. */
static void draw_surname(rng_t *r, char *out, size_t size)
{
    if (rng_per_mille(r, 250)) {
        snprintf(out, size, "%s", sim_surname_at(zipf_index(r, sim_surname_count(), 5.0)));
        return;
    }
    size_t t = zipf_index(r, NSUR_HEAD * NSUR_MID * NSUR_TAIL, 100.0);
    /* spread neighbouring ranks over different heads */
    t = (t * 7919u) % (NSUR_HEAD * NSUR_MID * NSUR_TAIL);
    snprintf(out, size, "%s%s%s", sur_head[t % NSUR_HEAD], sur_mid[(t / NSUR_HEAD) % NSUR_MID],
             sur_tail[t / (NSUR_HEAD * NSUR_MID)]);
}

/* A forename: 85% one of the common ones (with its nickname), 15% a rarer one. */
static void draw_forename(rng_t *r, bool male, char *out, size_t size, const char **nick)
{
    if (rng_per_mille(r, 850)) {
        size_t i = zipf_index(r, sim_forename_count(male), 3.0);
        snprintf(out, size, "%s", sim_forename_at(male, i));
        *nick = sim_forename_nick(male, i);
        return;
    }
    size_t nh = sizeof given_head / sizeof given_head[0],
           nm = sizeof given_mid / sizeof given_mid[0];
    size_t t = zipf_index(r, nh * nm * 8, 50.0);
    t = (t * 613u) % (nh * nm * 8);
    snprintf(out, size, "%s%s%s", given_head[t % nh], given_mid[(t / nh) % nm],
             male ? given_m[t / (nh * nm)] : given_f[t / (nh * nm)]);
    *nick = NULL;
}

static int32_t draw_dob(rng_t *r)
{
    int age;
    do
        age = (int)rng_below(r, 100);
    while (age >= 65 && rng_below(r, 35) >= (uint32_t)(100 - age));
    return (int32_t)(REFERENCE_DAY - (age * 365 + age / 4) - (int32_t)rng_below(r, 365));
}

/* A bijection of 0..2^25-1 (each step is one), keyed by the seed. */
static uint32_t mix25(uint32_t x, uint64_t seed)
{
    const uint32_t mask = (1u << 25) - 1;
    x = (x ^ (uint32_t)(seed ^ (seed >> 25) ^ (seed >> 50))) & mask;
    x ^= x >> 13;
    x = (x * 0x2c1b3c6du) & mask;
    x ^= x >> 12;
    x = (x * 0x297a2d39u) & mask;
    x ^= x >> 15;
    return x;
}

/* Person p's NHS number: p mapped one to one onto 30,000,000 eight-digit numbers (mix25, walked
 * until it falls below 30,000,000), a drawn ninth digit (the next one when the drawn one makes no
 * valid number: two neighbours never both fail) and the check digit. So every person has their
 * own valid number, starting 4, 5 or 6. */
static void nhs_for(uint64_t seed, uint32_t p, rng_t *r, char out[11])
{
    uint32_t x = p;
    do
        x = mix25(x, seed);
    while (x >= 30000000u);
    snprintf(out, 11, "%08u", 40000000u + x);
    int d = (int)rng_below(r, 10);
    for (int k = 0; k < 10; k++) {
        out[8] = (char)('0' + (d + k) % 10);
        int cd = nhs_number_check_digit(out);
        if (cd != 10) {
            out[9] = (char)('0' + cd);
            out[10] = '\0';
            return;
        }
    }
}

/* Person p's record count (clipped later to the records left) and relation to p - 1. */
static void draw_shape(uint64_t seed, uint32_t p, uint8_t *visits, linkage_pop_relation_t *rel)
{
    rng_t r;
    rng_seed(&r, seed, STREAM(p, SLOT_SHAPE));
    *visits = (uint8_t)(1 + PICK(&r, visits_w));
    size_t k = PICK(&r, relation_w);
    *rel = p == 0 ? LINKAGE_POP_UNRELATED : (linkage_pop_relation_t)k;
}

static void lower_alnum(const char *s, char *out, size_t size)
{
    size_t n = 0;
    for (; *s && n + 1 < size; s++)
        if (isalnum((unsigned char)*s))
            out[n++] = (char)tolower((unsigned char)*s);
    out[n] = '\0';
}

/* What is p's own whoever their household: NHS number, moves, marriage, email. */
static void person_own(uint64_t seed, uint32_t p, person_t *x)
{
    rng_t r;
    rng_seed(&r, seed, STREAM(p, SLOT_OWN));
    nhs_for(seed, p, &r, x->nhs);
    /* moves: 25% have lived at two addresses, a fifth of those at three; 60% stay in the area */
    x->naddr = 1;
    if (rng_per_mille(&r, 250))
        x->naddr = rng_per_mille(&r, 200) ? 3 : 2;
    for (uint8_t a = 1; a < x->naddr; a++) {
        x->area[a] = rng_per_mille(&r, 600) ? x->area[a - 1] : (uint8_t)sim_random_area(&r);
        sim_new_postcode(&r, x->area[a], x->postcode[a]);
    }
    /* 6% of women seen more than once marry (30% of them double-barrelled) between visits */
    x->married[0] = '\0';
    x->married_at = 0;
    if (x->sex == '2' && x->visits > 1 && rng_per_mille(&r, 60)) {
        char other[48];
        draw_surname(&r, other, sizeof other);
        if (rng_per_mille(&r, 300))
            snprintf(x->married, sizeof x->married, "%.20s-%.20s", x->surname, other);
        else
            snprintf(x->married, sizeof x->married, "%s", other);
        x->married_at = (uint8_t)(1 + rng_below(&r, x->visits - 1u));
    }
    char f[32], s[48];
    lower_alnum(x->forename, f, sizeof f);
    lower_alnum(x->surname, s, sizeof s);
    static const unsigned style_w[] = {40, 25, 20, 15};
    size_t style = PICK(&r, style_w);
    char digits[8] = "";
    if (rng_per_mille(&r, 500))
        snprintf(digits, sizeof digits, "%02u", (unsigned)rng_below(&r, 100));
    const char *domain = domains[PICK(&r, domain_w)];
    switch (style) {
    case 0:
        snprintf(x->email, sizeof x->email, "%.20s.%.24s%s@%s", f, s, digits, domain);
        break;
    case 1:
        snprintf(x->email, sizeof x->email, "%.20s%.24s%s@%s", f, s, digits, domain);
        break;
    case 2:
        snprintf(x->email, sizeof x->email, "%.1s%.24s%s@%s", f, s, digits, domain);
        break;
    default:
        snprintf(x->email, sizeof x->email, "%.24s.%.20s%s@%s", s, f, digits, domain);
        break;
    }
}

/* Someone new: their own names, date of birth and address. */
static void person_fresh(rng_t *r, person_t *x)
{
    x->sex = rng_per_mille(r, 500) ? '1' : '2';
    draw_forename(r, x->sex == '1', x->forename, sizeof x->forename, &x->nick);
    draw_surname(r, x->surname, sizeof x->surname);
    x->dob = draw_dob(r);
    x->area[0] = (uint8_t)sim_random_area(r);
    sim_new_postcode(r, x->area[0], x->postcode[0]);
}

/* The relative of prev: prev's surname and first address, and for a twin prev's date of birth. */
static void person_related(rng_t *r, const person_t *prev, linkage_pop_relation_t rel, person_t *x)
{
    snprintf(x->surname, sizeof x->surname, "%s", prev->surname);
    x->area[0] = prev->area[0];
    memcpy(x->postcode[0], prev->postcode[0], sizeof x->postcode[0]);
    x->sex = rel == LINKAGE_POP_SPOUSE ? (prev->sex == '1' ? '2' : '1')
                                       : (rng_per_mille(r, 500) ? '1' : '2');
    for (int tries = 0; tries < 8; tries++) {
        draw_forename(r, x->sex == '1', x->forename, sizeof x->forename, &x->nick);
        if (strcmp(x->forename, prev->forename) != 0)
            break;
    }
    int32_t years;
    switch (rel) {
    case LINKAGE_POP_TWIN:
        years = 0;
        break;
    case LINKAGE_POP_SPOUSE:
        years = rng_range(r, -8, 8);
        break;
    default: /* a sibling, or a parent or child */
        years = rng_per_mille(r, 400) ? rng_range(r, -12, 12) : rng_range(r, 20, 40);
        if (rng_per_mille(r, 500))
            years = -years;
        break;
    }
    x->dob = rel == LINKAGE_POP_TWIN ? prev->dob
                                     : prev->dob + years * 365 + (int32_t)rng_below(r, 365) - 182;
    if (x->dob > REFERENCE_DAY - 30)
        x->dob = prev->dob - (x->dob - prev->dob);
}

/* Person p in full (visits: p's record count). The household is walked from its first person,
 * who is unrelated to the one before: a handful of people at most. */
static void person_build(uint64_t seed, uint32_t p, const uint8_t *visits, person_t *x)
{
    uint32_t head = p;
    for (;;) {
        uint8_t v;
        linkage_pop_relation_t rel;
        draw_shape(seed, head, &v, &rel);
        if (rel == LINKAGE_POP_UNRELATED)
            break;
        head--;
    }
    person_t prev;
    for (uint32_t q = head;; q++) {
        uint8_t v;
        linkage_pop_relation_t rel;
        draw_shape(seed, q, &v, &rel);
        rng_t r;
        rng_seed(&r, seed, STREAM(q, SLOT_WHO));
        memset(x, 0, sizeof *x);
        if (q == head)
            person_fresh(&r, x);
        else
            person_related(&r, &prev, rel, x);
        if (q == p)
            break;
        prev = *x;
    }
    x->visits = visits[p];
    person_own(seed, p, x);
}

/* A postcode with a clerk's slip: the unit's two letters swapped, or the sector one off. */
static void typo_postcode(rng_t *r, char *pc)
{
    size_t n = strlen(pc);
    if (n < 6)
        return;
    if (pc[n - 1] != pc[n - 2] && rng_per_mille(r, 500)) {
        char c = pc[n - 1];
        pc[n - 1] = pc[n - 2];
        pc[n - 2] = c;
    } else {
        char *s = &pc[n - 3];
        *s = *s == '9' ? '8' : (char)(*s + 1);
    }
}

/* Record k of person x, as written, into the fields (buffers in buf). */
typedef struct {
    char nhs[11], forename[48], surname[48], dob[11], sex[2], postcode[9], city[32], email[80];
} written_t;

static void visit_write(uint64_t seed, uint32_t p, unsigned k, const person_t *x,
                        const linkage_pop_opts_t *o, written_t *w, bool blank[LINKAGE_POP_NFIELDS])
{
    rng_t r;
    rng_seed(&r, seed, STREAM(p, SLOT_VISIT + k));
    /* forename: nickname 10%, typo 5%, initial only 1% */
    snprintf(w->forename, sizeof w->forename, "%s", x->forename);
    unsigned u = rng_below(&r, 1000);
    if (u < 100 && x->nick)
        snprintf(w->forename, sizeof w->forename, "%s", x->nick);
    else if (u >= 100 && u < 150)
        sim_typo_any(&r, w->forename, sizeof w->forename);
    else if (u >= 150 && u < 160)
        w->forename[1] = '\0';
    /* surname: the married one from its visit on; a typo 5% */
    snprintf(w->surname, sizeof w->surname, "%s",
             x->married[0] && k >= x->married_at ? x->married : x->surname);
    if (rng_per_mille(&r, 50))
        sim_typo_any(&r, w->surname, sizeof w->surname);
    /* names swapped 1% */
    if (rng_per_mille(&r, 10)) {
        char t[48];
        snprintf(t, sizeof t, "%s", w->forename);
        snprintf(w->forename, sizeof w->forename, "%s", w->surname);
        snprintf(w->surname, sizeof w->surname, "%s", t);
    }
    /* date of birth: a typo 4% (day and month swapped, or one part one off) */
    int32_t dob = rng_per_mille(&r, 40) ? sim_typo_dob(&r, x->dob) : x->dob;
    int y, m, d;
    ncap_civil_from_days(dob, &y, &m, &d);
    snprintf(w->dob, sizeof w->dob, "%04d-%02d-%02d", y, m, d);
    /* sex: the other one 0.5% */
    char sex = x->sex;
    if (rng_per_mille(&r, 5))
        sex = sex == '1' ? '2' : '1';
    snprintf(w->sex, sizeof w->sex, "%s", sex == '1' ? "M" : "F");
    /* the address of the time: the person's moves spread over their visits in order */
    unsigned a = k * x->naddr / x->visits;
    snprintf(w->postcode, sizeof w->postcode, "%s", x->postcode[a]);
    if (rng_per_mille(&r, 20))
        typo_postcode(&r, w->postcode);
    snprintf(w->city, sizeof w->city, "%s", sim_area_town(x->area[a]));
    if (rng_per_mille(&r, 20))
        sim_typo_any(&r, w->city, sizeof w->city);
    /* NHS number mistyped 1% (fails its check digit) */
    snprintf(w->nhs, sizeof w->nhs, "%s", x->nhs);
    if (rng_per_mille(&r, 10))
        sim_mistype(&r, w->nhs);
    snprintf(w->email, sizeof w->email, "%s", x->email);
    if (rng_per_mille(&r, 30))
        sim_typo_any(&r, w->email, sizeof w->email);
    for (size_t f = 0; f < LINKAGE_POP_NFIELDS; f++)
        blank[f] = rng_uniform(&r) < o->blank[f];
}

static int fail(char *err, size_t errlen, const char *msg)
{
    snprintf(err, errlen, "%s", msg);
    return -1;
}

/* The person whose records include record rec: the last start at or before it. */
static uint32_t person_of(const uint32_t *start, size_t people, uint32_t rec)
{
    size_t lo = 0, hi = people;
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (start[mid] <= rec)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)lo;
}

int linkage_pop_write(const linkage_pop_opts_t *opts, FILE *out, FILE *relations,
                      linkage_pop_stats_t *stats, char *err, size_t errlen)
{
    if (opts->records < 1 || opts->records > LINKAGE_POP_MAX_RECORDS)
        return fail(err, errlen, "records must be 1-5000000");
    for (size_t f = 0; f < LINKAGE_POP_NFIELDS; f++)
        if (!(opts->blank[f] >= 0 && opts->blank[f] <= 1))
            return fail(err, errlen, "a blank rate must be 0-1");
    linkage_pop_stats_t st;
    memset(&st, 0, sizeof st);
    size_t n = opts->records, cap = 1024, people = 0;
    uint32_t *start = malloc(cap * sizeof *start);
    uint8_t *visits = malloc(cap);
    uint32_t *order = malloc(n * sizeof *order);
    int rc = 0;
    if (!start || !visits || !order)
        rc = fail(err, errlen, "out of memory");
    if (rc == 0 && relations && fputs("cluster,related_to,relation\n", relations) == EOF)
        rc = fail(err, errlen, "could not write the relations");
    /* who is seen how often, and who is whose relative */
    for (size_t total = 0; rc == 0 && total < n; people++) {
        if (people == cap) {
            cap *= 2;
            uint32_t *s = realloc(start, cap * sizeof *s);
            if (s)
                start = s;
            uint8_t *v = realloc(visits, cap);
            if (v)
                visits = v;
            if (!s || !v) {
                rc = fail(err, errlen, "out of memory");
                break;
            }
        }
        uint8_t v;
        linkage_pop_relation_t rel;
        draw_shape(opts->seed, (uint32_t)people, &v, &rel);
        if (v > n - total)
            v = (uint8_t)(n - total);
        start[people] = (uint32_t)total;
        visits[people] = v;
        total += v;
        st.seen[v]++;
        st.related[rel]++;
        if (rel != LINKAGE_POP_UNRELATED && relations &&
            fprintf(relations, "%zu,%zu,%s\n", people, people - 1, linkage_pop_relation_name(rel)) <
                0)
            rc = fail(err, errlen, "could not write the relations");
    }
    /* the records in an order of their own, so that a person's records are apart */
    if (rc == 0) {
        rng_t r;
        rng_seed(&r, opts->seed, STREAM_ORDER);
        for (size_t i = 0; i < n; i++)
            order[i] = (uint32_t)i;
        for (size_t i = n - 1; i > 0; i--) {
            size_t j = rng_below(&r, (uint32_t)(i + 1));
            uint32_t t = order[i];
            order[i] = order[j];
            order[j] = t;
        }
    }
    if (rc == 0 && fputs("unique_id,nhs_number,first_name,surname,dob,sex,postcode,city,email,"
                         "cluster\n",
                         out) == EOF)
        rc = fail(err, errlen, "could not write the records");
    person_t x;
    for (size_t i = 0; rc == 0 && i < n; i++) {
        uint32_t p = person_of(start, people, order[i]);
        unsigned k = order[i] - start[p];
        person_build(opts->seed, p, visits, &x);
        written_t w;
        bool blank[LINKAGE_POP_NFIELDS];
        visit_write(opts->seed, p, k, &x, opts, &w, blank);
        char id[24], cluster[24];
        snprintf(id, sizeof id, "%zu", i);
        snprintf(cluster, sizeof cluster, "%u", p);
        const char *fields[] = {id,    w.nhs,      w.forename, w.surname, w.dob,
                                w.sex, w.postcode, w.city,     w.email,   cluster};
        for (size_t f = 0; f < LINKAGE_POP_NFIELDS; f++)
            if (blank[f]) {
                fields[1 + f] = "";
                st.blanks[f]++;
            }
        csv_write_row(out, fields, sizeof fields / sizeof fields[0]);
        if (ferror(out))
            rc = fail(err, errlen, "could not write the records");
    }
    st.records = n;
    st.people = people;
    if (stats)
        *stats = st;
    free(start);
    free(visits);
    free(order);
    return rc;
}
