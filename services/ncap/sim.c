/* sim.c - simulated trusts submitting NHFD-like records, with a known truth. */
#include "sim.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetime.h"
#include "nhs_number.h"

/* ---------- a seeded generator: xoshiro256** seeded through splitmix64 ---------- */

typedef struct {
    uint64_t s[4];
} rng_t;

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static void rng_seed(rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (stream * 0xd1342543de82ef95u);
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

static uint64_t rng_next(rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

/* 0..n-1 (n > 0) */
static uint32_t rng_below(rng_t *r, uint32_t n)
{
    return (uint32_t)(((rng_next(r) >> 32) * (uint64_t)n) >> 32);
}

/* lo..hi inclusive */
static int rng_range(rng_t *r, int lo, int hi)
{
    return lo + (int)rng_below(r, (uint32_t)(hi - lo + 1));
}

static bool rng_per_mille(rng_t *r, unsigned p)
{
    return rng_below(r, 1000) < p;
}

static size_t rng_pick(rng_t *r, const unsigned *w, size_t n)
{
    unsigned total = 0;
    for (size_t i = 0; i < n; i++)
        total += w[i];
    unsigned x = rng_below(r, total);
    for (size_t i = 0; i < n; i++) {
        if (x < w[i])
            return i;
        x -= w[i];
    }
    return n - 1;
}

#define PICK(r, w) rng_pick((r), (w), sizeof(w) / sizeof((w)[0]))
#define NELEMS(a) (sizeof(a) / sizeof((a)[0]))

/* Puts k distinct indices of 0..n-1 in the first k slots of perm (n slots). */
static void rng_choose(rng_t *r, uint32_t *perm, size_t n, size_t k)
{
    for (size_t i = 0; i < n; i++)
        perm[i] = (uint32_t)i;
    for (size_t i = 0; i < k && i < n; i++) {
        size_t j = i + rng_below(r, (uint32_t)(n - i));
        uint32_t tmp = perm[i];
        perm[i] = perm[j];
        perm[j] = tmp;
    }
}

/* ---------- reference lists ---------- */

static const char *const columns[SIM_NCOLUMNS] = {
    "local_record_id",
    "trust_code",
    "site_code",
    "nhs_number",
    "forename",
    "surname",
    "date_of_birth",
    "sex",
    "postcode",
    "lsoa",
    "ethnic_category",
    "arrival_datetime",
    "ward_admission_datetime",
    "never_admitted_to_ward",
    "residence_at_fracture",
    "pre_fracture_mobility",
    "amts_pre_op",
    "fracture_type",
    "fracture_side",
    "pathological_fracture",
    "asa_grade",
    "orthogeriatric_assessment_datetime",
    "surgery_datetime",
    "operation",
    "amts_post_op",
    "discharge_destination",
    "discharge_date",
};

typedef struct {
    const char *area; /* postcode area */
    int districts;    /* districts 1..n are used */
} area_t;

static const area_t areas[] = {
    {"EX", 39}, {"OX", 18}, {"SE", 28}, {"NW", 11}, {"W", 14},  {"CB", 11}, {"NR", 35}, {"NE", 40},
    {"NG", 25}, {"PL", 35}, {"BS", 40}, {"DT", 11}, {"CO", 16}, {"IP", 33}, {"PO", 22}, {"ST", 21},
    {"LE", 19}, {"TS", 29}, {"YO", 32}, {"PR", 26}, {"LS", 29}, {"S", 40},  {"B", 50},  {"M", 50},
    {"L", 40},  {"LN", 13}, {"GL", 20}, {"BA", 22}, {"SN", 26}, {"TQ", 14}, {"TR", 27}, {"NN", 18},
    {"WR", 15}, {"HR", 9},  {"BB", 18}, {"HU", 20}, {"CV", 37}, {"SW", 20}, {"CT", 21}, {"ME", 20},
    {"BN", 27}, {"SO", 53}, {"RG", 45}, {"E", 18},  {"RM", 20}, {"LU", 7},  {"PE", 38}, {"WD", 25},
    {"UB", 11}, {"KT", 24}, {"SR", 8},  {"DL", 17}, {"BD", 24}, {"HD", 9},  {"DN", 41}, {"CW", 12},
    {"CH", 49}, {"BL", 9},  {"WN", 8},  {"DY", 14}, {"WV", 16}, {"SY", 25}, {"MK", 19}, {"HP", 23},
    {"DA", 18}, {"SS", 17}, {"CM", 24}, {"SG", 19}, {"DE", 24}, {"WS", 15}, {"SK", 23}, {"OL", 16},
    {"WA", 16}, {"LA", 23}, {"CA", 28}, {"HG", 5},  {"TA", 24}, {"SP", 11}, {"GU", 35}, {"RH", 20},
};

typedef struct {
    const char *code; /* ODS code of an English acute trust */
    const char *area; /* postcode area it serves */
} known_trust_t;

static const known_trust_t known_trusts[] = {
    {"RH8", "EX"}, {"RTH", "OX"}, {"RJ1", "SE"}, {"RRV", "NW"}, {"RYJ", "W"},  {"RAL", "NW"},
    {"RGT", "CB"}, {"RM1", "NR"}, {"RTD", "NE"}, {"RX1", "NG"}, {"RK9", "PL"}, {"RA7", "BS"},
    {"RBD", "DT"}, {"RDE", "CO"}, {"RHU", "PO"}, {"RJE", "ST"}, {"RWE", "LE"}, {"RTR", "TS"},
    {"RCB", "YO"}, {"RXN", "PR"}, {"RR8", "LS"}, {"RHQ", "S"},  {"RRK", "B"},  {"R0A", "M"},
    {"REM", "L"},  {"RWD", "LN"}, {"RTE", "GL"}, {"RD1", "BA"}, {"RN3", "SN"}, {"RA9", "TQ"},
    {"REF", "TR"}, {"RNS", "NN"}, {"RWP", "WR"}, {"RLQ", "HR"}, {"RXR", "BB"}, {"RVJ", "BS"},
    {"RWA", "HU"}, {"RKB", "CV"}, {"RJ7", "SW"}, {"RQM", "SW"}, {"RVV", "CT"}, {"RWF", "ME"},
    {"RXH", "BN"}, {"RYR", "BN"}, {"RHM", "SO"}, {"RN5", "RG"}, {"RJZ", "SE"}, {"R1H", "E"},
    {"RF4", "RM"}, {"RC9", "LU"}, {"RCX", "PE"}, {"RGN", "PE"}, {"RWG", "WD"}, {"RAS", "UB"},
    {"RTK", "KT"}, {"RTF", "NE"}, {"R0B", "SR"}, {"RXP", "DL"}, {"RAE", "BD"}, {"RWY", "HD"},
    {"RP5", "DN"}, {"RJL", "DN"}, {"RBT", "CW"}, {"RBL", "CH"}, {"RMC", "BL"}, {"RRF", "WN"},
    {"RNA", "DY"}, {"RL4", "WV"}, {"RXW", "SY"}, {"RD8", "MK"}, {"RXQ", "HP"}, {"RN7", "DA"},
    {"RAJ", "SS"}, {"RQW", "CM"}, {"RWH", "SG"}, {"RTG", "DE"}, {"RBK", "WS"}, {"RJN", "SK"},
    {"RMP", "OL"}, {"RWW", "WA"}, {"RTX", "LA"}, {"RNN", "CA"}, {"RCD", "HG"}, {"RVW", "TS"},
    {"RH5", "TA"}, {"RNZ", "SP"}, {"RDU", "GU"}, {"RA2", "GU"}, {"RTP", "RH"},
};

typedef struct {
    const char *name;
    const char *nick; /* what a clerk might write instead, or NULL */
} forename_t;

static const forename_t female_names[] = {
    {"Margaret", "Peggy"}, {"Mary", NULL},         {"Joan", NULL},        {"Patricia", "Pat"},
    {"Dorothy", "Dot"},    {"Jean", NULL},         {"Barbara", "Babs"},   {"Elizabeth", "Betty"},
    {"Sheila", NULL},      {"Irene", NULL},        {"Doris", NULL},       {"Joyce", NULL},
    {"Eileen", NULL},      {"Kathleen", "Kath"},   {"Sylvia", NULL},      {"Brenda", NULL},
    {"Maureen", "Mo"},     {"Valerie", "Val"},     {"Pauline", NULL},     {"Shirley", NULL},
    {"Audrey", NULL},      {"Christine", "Chris"}, {"Sandra", "Sandy"},   {"Susan", "Sue"},
    {"Ann", NULL},         {"Anne", NULL},         {"Janet", "Jan"},      {"Elsie", NULL},
    {"Edna", NULL},        {"Gladys", NULL},       {"Marjorie", "Marge"}, {"Vera", NULL},
    {"Phyllis", NULL},     {"Winifred", "Winnie"}, {"Hilda", NULL},       {"Evelyn", "Eve"},
    {"Beryl", NULL},       {"Rita", NULL},         {"June", NULL},        {"Jennifer", "Jenny"},
    {"Gillian", "Gill"},   {"Linda", NULL},        {"Carol", NULL},       {"Pamela", "Pam"},
    {"Marion", NULL},      {"Rose", NULL},         {"Lilian", "Lily"},    {"Ivy", NULL},
    {"Violet", NULL},      {"Florence", "Flo"},    {"Ethel", NULL},       {"Alice", NULL},
    {"Nora", NULL},        {"Josephine", "Jo"},    {"Rosemary", "Rosie"}, {"Gwendoline", "Gwen"},
    {"Mavis", NULL},       {"Olive", NULL},        {"Agnes", NULL},       {"Bridget", NULL},
    {"Gurdev", NULL},      {"Shamim", NULL},       {"Hazel", NULL},       {"Wendy", NULL},
};

static const forename_t male_names[] = {
    {"John", "Jack"},      {"William", "Bill"},    {"George", NULL},     {"Robert", "Bob"},
    {"Arthur", NULL},      {"James", "Jim"},       {"Peter", "Pete"},    {"David", "Dave"},
    {"Michael", "Mike"},   {"Kenneth", "Ken"},     {"Ronald", "Ron"},    {"Frederick", "Fred"},
    {"Albert", "Bert"},    {"Thomas", "Tom"},      {"Dennis", NULL},     {"Brian", NULL},
    {"Derek", NULL},       {"Leonard", "Len"},     {"Roy", NULL},        {"Stanley", "Stan"},
    {"Harold", "Harry"},   {"Charles", "Charlie"}, {"Edward", "Ted"},    {"Raymond", "Ray"},
    {"Alan", NULL},        {"Anthony", "Tony"},    {"Keith", NULL},      {"Geoffrey", "Geoff"},
    {"Norman", NULL},      {"Eric", NULL},         {"Donald", "Don"},    {"Frank", NULL},
    {"Richard", "Dick"},   {"Terence", "Terry"},   {"Colin", NULL},      {"Gordon", NULL},
    {"Bernard", "Bernie"}, {"Walter", "Wally"},    {"Henry", "Harry"},   {"Ernest", "Ernie"},
    {"Sidney", "Sid"},     {"Douglas", "Doug"},    {"Alfred", "Alf"},    {"Leslie", "Les"},
    {"Reginald", "Reg"},   {"Cyril", NULL},        {"Stephen", "Steve"}, {"Christopher", "Chris"},
    {"Barry", NULL},       {"Malcolm", NULL},      {"Patrick", "Pat"},   {"Francis", "Frank"},
    {"Joseph", "Joe"},     {"Samuel", "Sam"},      {"Gerald", "Gerry"},  {"Victor", "Vic"},
    {"Mohammed", NULL},    {"Rajinder", NULL},     {"Desmond", "Des"},   {"Clifford", "Cliff"},
};

static const char *const surnames[] = {
    "Smith",     "Jones",     "Williams", "Taylor",     "Brown",     "Davies",      "Evans",
    "Wilson",    "Thomas",    "Johnson",  "Roberts",    "Robinson",  "Thompson",    "Wright",
    "Walker",    "White",     "Edwards",  "Hughes",     "Green",     "Hall",        "Lewis",
    "Harris",    "Clarke",    "Patel",    "Jackson",    "Wood",      "Turner",      "Martin",
    "Cooper",    "Hill",      "Ward",     "Morris",     "Moore",     "Clark",       "Lee",
    "King",      "Baker",     "Harrison", "Morgan",     "Allen",     "James",       "Scott",
    "Phillips",  "Watson",    "Davis",    "Parker",     "Price",     "Bennett",     "Young",
    "Griffiths", "Mitchell",  "Kelly",    "Cook",       "Carter",    "Richardson",  "Bailey",
    "Collins",   "Bell",      "Shaw",     "Murphy",     "Miller",    "Cox",         "Richards",
    "Khan",      "Marshall",  "Anderson", "Simpson",    "Ellis",     "Adams",       "Singh",
    "Begum",     "Wilkinson", "Foster",   "Chapman",    "Powell",    "Webb",        "Rogers",
    "Gray",      "Mason",     "Ali",      "Hunt",       "Hussain",   "Campbell",    "Matthews",
    "Owen",      "Palmer",    "Holmes",   "Mills",      "Barnes",    "Knight",      "Lloyd",
    "Butler",    "Russell",   "Barker",   "Fisher",     "Stevens",   "Jenkins",     "Murray",
    "Dixon",     "Harvey",    "O'Brien",  "Pearson",    "Fletcher",  "Hudson",      "Gibson",
    "Ashworth",  "Pickering", "Trelawny", "Hargreaves", "Sutcliffe", "Nightingale", "Brooks",
};

static const char unit_letters[] = "ABDEFGHJLNPQRSTUWXYZ";

/* value sets, each with the weights the simulator draws with */
static const char *const sex_codes[] = {"1", "2", "9", "X"};
static const unsigned sex_w[] = {296, 700, 2, 2};
static const char *const ethnic_codes[] = {"A", "B", "C", "D", "E", "F", "G", "H", "J",
                                           "K", "L", "M", "N", "P", "R", "S", "Z", "99"};
static const unsigned ethnic_w[] = {780, 20, 40, 3, 2, 2, 3, 25, 15, 5, 8, 12, 8, 3, 4, 10, 45, 15};
static const char *const residence_codes[] = {"1", "2", "3", "4", "5", "9"};
static const unsigned residence_w[] = {700, 120, 100, 20, 40, 20};
static const char *const mobility_codes[] = {"1", "2", "3", "4", "5", "9"};
static const unsigned mobility_w[] = {350, 250, 200, 120, 50, 30};
static const char *const ftype_codes[] = {"ICD", "ICU", "IT", "ST"};
static const unsigned ftype_w[] = {480, 100, 350, 70};
static const char *const side_codes[] = {"L", "R"};
static const char *const patho_codes[] = {"N", "Y", "U"};
static const unsigned patho_w[] = {950, 20, 30};
static const char *const asa_codes[] = {"1", "2", "3", "4", "5"};
static const unsigned asa_w[] = {20, 250, 550, 170, 10};
enum { OP_CS, OP_HA, OP_THR, OP_SHS, OP_IMN, OP_OTH, OP_NOP };
static const char *const op_codes[] = {"CS", "HA", "THR", "SHS", "IMN", "OTH", "NOP"};
/* operation by fracture type (ICD, ICU, IT, ST), when operated */
static const unsigned op_w[4][6] = {
    {4, 80, 12, 0, 0, 4}, {60, 30, 0, 6, 0, 4}, {0, 0, 0, 75, 22, 3}, {0, 0, 0, 10, 85, 5}};
static const char *const discharge_codes[] = {"1", "2", "3", "4", "5", "6", "9"};
static const unsigned discharge_w[] = {450, 80, 120, 220, 50, 60, 20};
enum { AMTS_ND = 11 };

/* ---------- the simulated world ---------- */

typedef struct {
    char code[8];
    size_t area;
    unsigned nsites;
    unsigned site_w[3];
    unsigned size_w;
    bool uk_dates;
    bool poor;
    bool upper_surname; /* the trust's system writes surnames in capitals */
    int nhs_style;      /* 0 "9434765919", 1 "943 476 5919", 2 "943-476-5919" */
    size_t first, n;    /* its records: order[first .. first + n) */
} trust_t;

typedef struct {
    char sex;
    bool male_name;
    uint16_t forename, surname;
    int32_t dob; /* days since 1970-01-01 */
    char nhs[11];
    char postcode[9];
    uint32_t lsoa;
    uint8_t ethnic;
    uint32_t id; /* numbered from 1 in order of first appearance in the output */
} patient_t;

typedef struct {
    uint32_t trust, patient, seq;
    int64_t arrival;                /* minutes since 1970-01-01T00:00 */
    int32_t ward, ortho, surgery;   /* minutes after arrival; ward -1: never admitted */
    int32_t los;                    /* days from arrival to discharge */
    int32_t dob;                    /* as written (a repeat may carry a typo) */
    char forename[24], surname[32]; /* as written */
    char postcode[9];
    char nhs[11]; /* digits as written, "" when missing */
    uint8_t site, residence, mobility, amts_pre, amts_post, ftype, side, patho, asa, operation,
        discharge;
    uint8_t invalid, invalid_variant, nhs_issue;
    bool repeat;
} rec_t;

struct sim_t {
    sim_opts_t opts;
    rng_t rng;
    trust_t *trusts;
    size_t ntrusts;
    patient_t *patients;
    size_t npatients;
    rec_t *recs;
    size_t nrecs;
    uint32_t *order; /* records in output order: by trust, then arrival */
    uint64_t *nhs_set;
    size_t nhs_cap;
    sim_stats_t stats;
};

static void set_err(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

void sim_opts_default(sim_opts_t *opts)
{
    memset(opts, 0, sizeof *opts);
    opts->audit = "nhfd";
    opts->trusts = 20;
    opts->records = 1000;
    opts->seed = 1;
    opts->round = 0;
    opts->invalid_rate = 0.02;
    opts->start_day = ncap_days_from_civil(2025, 4, 1);
    opts->days = 365;
}

const char *sim_column(size_t i)
{
    return i < SIM_NCOLUMNS ? columns[i] : NULL;
}

static size_t area_index(const char *area)
{
    for (size_t i = 0; i < NELEMS(areas); i++)
        if (strcmp(areas[i].area, area) == 0)
            return i;
    return 0;
}

static bool is_known_code(const char *code)
{
    for (size_t i = 0; i < NELEMS(known_trusts); i++)
        if (strcmp(known_trusts[i].code, code) == 0)
            return true;
    return false;
}

/* Trust i's code: the known trusts first, then unused codes R + letter + letter or digit. */
static void trust_code(size_t i, size_t *next_generated, char out[8])
{
    static const char alnum[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    if (i < NELEMS(known_trusts)) {
        snprintf(out, 8, "%s", known_trusts[i].code);
        return;
    }
    for (;;) {
        size_t c = (*next_generated)++;
        out[0] = 'R';
        out[1] = (char)('A' + c / 36);
        out[2] = alnum[c % 36];
        out[3] = '\0';
        if (!is_known_code(out))
            return;
    }
}

static void build_trusts(sim_t *self, uint32_t *perm)
{
    rng_t r;
    rng_seed(&r, self->opts.seed, 1);
    size_t k = self->ntrusts;
    size_t next_generated = 0;
    for (size_t i = 0; i < k; i++) {
        trust_t *t = &self->trusts[i];
        trust_code(i, &next_generated, t->code);
        t->area = i < NELEMS(known_trusts) ? area_index(known_trusts[i].area)
                                           : rng_below(&r, (uint32_t)NELEMS(areas));
        t->nsites = 1 + rng_below(&r, 3);
        static const unsigned site_w[3][3] = {{100, 0, 0}, {70, 30, 0}, {60, 25, 15}};
        memcpy(t->site_w, site_w[t->nsites - 1], sizeof t->site_w);
        t->size_w = (unsigned)rng_range(&r, 40, 160);
        static const unsigned style_w[] = {70, 25, 5};
        t->nhs_style = (int)PICK(&r, style_w);
        t->upper_surname = rng_per_mille(&r, 250);
    }
    /* about 3 in 20 trusts write UK-style dates, and about 3 in 20 perform worse */
    size_t nspecial = (3 * k + 10) / 20;
    rng_choose(&r, perm, k, nspecial);
    for (size_t i = 0; i < nspecial; i++)
        self->trusts[perm[i]].uk_dates = true;
    rng_choose(&r, perm, k, nspecial);
    for (size_t i = 0; i < nspecial; i++)
        self->trusts[perm[i]].poor = true;
}

/* Splits n records over the trusts in proportion to their size (largest remainder). */
static void split_records(sim_t *self, size_t *count, uint64_t *rem)
{
    uint64_t total = 0;
    for (size_t i = 0; i < self->ntrusts; i++)
        total += self->trusts[i].size_w;
    uint64_t n = self->opts.records, given = 0;
    for (size_t i = 0; i < self->ntrusts; i++) {
        uint64_t q = n * self->trusts[i].size_w;
        count[i] = (size_t)(q / total);
        rem[i] = q % total;
        given += count[i];
    }
    while (given < n) { /* fewer than ntrusts left over */
        size_t best = 0;
        for (size_t i = 1; i < self->ntrusts; i++)
            if (rem[i] > rem[best])
                best = i;
        count[best]++;
        rem[best] = 0;
        given++;
    }
}

/* ---------- people ---------- */

static bool nhs_set_add(sim_t *self, uint64_t v)
{
    size_t mask = self->nhs_cap - 1;
    size_t h = (size_t)((v * 0x9e3779b97f4a7c15u) >> 20) & mask;
    while (self->nhs_set[h]) {
        if (self->nhs_set[h] == v)
            return false;
        h = (h + 1) & mask;
    }
    self->nhs_set[h] = v;
    return true;
}

/* A unique, valid NHS number in the issued ranges (starting 4, 6 or 7: not the test range). */
static void new_nhs_number(sim_t *self, char out[11])
{
    static const char first[] = "467";
    for (;;) {
        out[0] = first[rng_below(&self->rng, 3)];
        for (int i = 1; i < 9; i++)
            out[i] = (char)('0' + rng_below(&self->rng, 10));
        int cd = nhs_number_check_digit(out);
        if (cd == 10)
            continue;
        out[9] = (char)('0' + cd);
        out[10] = '\0';
        if (nhs_number_check(out, NULL) != NHS_NUMBER_VALID)
            continue;
        if (nhs_set_add(self, strtoull(out, NULL, 10)))
            return;
    }
}

static void new_postcode(rng_t *r, size_t area, char out[9])
{
    /* area (1-2 letters) + district (1-2 digits) + space + sector digit + unit: at most 8 */
    char buf[40];
    int district = rng_range(r, 1, areas[area].districts) % 100;
    int sector = rng_range(r, 1, 9) % 10;
    int n = snprintf(buf, sizeof buf, "%.2s%d %d%c%c", areas[area].area, district, sector,
                     unit_letters[rng_below(r, sizeof unit_letters - 1)],
                     unit_letters[rng_below(r, sizeof unit_letters - 1)]);
    if (n < 0 || n > 8)
        n = 8;
    memcpy(out, buf, (size_t)n);
    out[n] = '\0';
}

static int age_at_arrival(rng_t *r)
{
    if (rng_per_mille(r, 20))
        return rng_range(r, 45, 59);
    static const unsigned band_w[] = {100, 250, 450, 200};
    static const int lo[] = {60, 70, 80, 90}, hi[] = {69, 79, 89, 102};
    size_t b = PICK(r, band_w);
    return rng_range(r, lo[b], hi[b]);
}

static uint32_t new_patient(sim_t *self, const trust_t *t, int64_t arrival_day)
{
    rng_t *r = &self->rng;
    patient_t *p = &self->patients[self->npatients];
    p->sex = sex_codes[PICK(r, sex_w)][0];
    p->male_name = p->sex == '1' || ((p->sex == '9' || p->sex == 'X') && rng_per_mille(r, 500));
    p->forename = (uint16_t)rng_below(r, p->male_name ? (uint32_t)NELEMS(male_names)
                                                      : (uint32_t)NELEMS(female_names));
    p->surname = (uint16_t)rng_below(r, (uint32_t)NELEMS(surnames));
    int age = age_at_arrival(r);
    p->dob = (int32_t)(arrival_day - (age * 365 + age / 4) - rng_below(r, 365));
    new_nhs_number(self, p->nhs);
    new_postcode(r, rng_per_mille(r, 900) ? t->area : rng_below(r, (uint32_t)NELEMS(areas)),
                 p->postcode);
    p->lsoa = 1 + rng_below(r, 33768);
    p->ethnic = (uint8_t)PICK(r, ethnic_w);
    return (uint32_t)self->npatients++;
}

static const char *patient_forename(const patient_t *p)
{
    return p->male_name ? male_names[p->forename].name : female_names[p->forename].name;
}

static const char *patient_nickname(const patient_t *p)
{
    return p->male_name ? male_names[p->forename].nick : female_names[p->forename].nick;
}

/* ---------- clinical times ---------- */

/* Moves a time that falls at night to the next working hours (08:00-12:00). */
static int32_t in_daytime(rng_t *r, int64_t arrival, int32_t delay)
{
    int64_t t = arrival + delay;
    int64_t day = t / 1440, minute = t % 1440;
    if (minute < 8 * 60)
        t = day * 1440 + 8 * 60 + rng_below(r, 240);
    else if (minute >= 20 * 60)
        t = (day + 1) * 1440 + 8 * 60 + rng_below(r, 240);
    return (int32_t)(t - arrival);
}

/* Minutes in [lo_h, hi_h) hours, drawn from bands with weights. */
static int32_t hours_from_bands(rng_t *r, const unsigned *w, const int (*band)[2], size_t n)
{
    size_t b = rng_pick(r, w, n);
    return (int32_t)rng_range(r, band[b][0] * 60, band[b][1] * 60 - 1);
}

static void gen_times(rng_t *r, rec_t *rec, bool poor)
{
    static const int ward_b[][2] = {{1, 2}, {2, 5}, {5, 10}};
    static const unsigned ward_w[] = {10, 60, 30};
    if (rec->ward >= 0)
        rec->ward = hours_from_bands(r, ward_w, ward_b, 3);

    static const int ortho_b[][2] = {{2, 24}, {24, 72}, {72, 168}};
    static const unsigned ortho_good[] = {50, 38, 12}, ortho_poor[] = {25, 35, 40};
    rec->ortho = in_daytime(r, rec->arrival,
                            hours_from_bands(r, poor ? ortho_poor : ortho_good, ortho_b, 3));

    static const int surg_b[][2] = {{4, 12}, {12, 36}, {36, 48}, {48, 144}};
    static const unsigned surg_good[] = {5, 62, 18, 15}, surg_poor[] = {3, 30, 22, 45};
    if (rec->operation == OP_NOP)
        rec->surgery = -1;
    else
        rec->surgery = in_daytime(r, rec->arrival,
                                  hours_from_bands(r, poor ? surg_poor : surg_good, surg_b, 4));

    static const int los_b[][2] = {{2, 8}, {8, 22}, {22, 41}, {41, 81}};
    static const unsigned los_w[] = {20, 50, 25, 5};
    size_t b = PICK(r, los_w);
    rec->los = rng_range(r, los_b[b][0], los_b[b][1] - 1);
    int64_t arrival_day = rec->arrival / 1440;
    if (rec->surgery >= 0) {
        int64_t surgery_day = (rec->arrival + rec->surgery) / 1440;
        if (arrival_day + rec->los <= surgery_day)
            rec->los = (int32_t)(surgery_day - arrival_day + 1);
    }
}

static int64_t random_arrival(rng_t *r, const sim_opts_t *o)
{
    static const unsigned hour_w[24] = {1, 1, 1, 1, 1, 1, 2, 2, 3, 3, 3, 3,
                                        3, 3, 3, 3, 3, 3, 3, 3, 2, 2, 2, 1};
    int64_t day = o->start_day + rng_below(r, o->days);
    return day * 1440 + (int64_t)PICK(r, hour_w) * 60 + rng_below(r, 60);
}

static uint8_t amts_before(rng_t *r, uint8_t residence)
{
    if (rng_per_mille(r, 80))
        return AMTS_ND;
    if (residence == 1 || residence == 2) /* residential or nursing care */
        return (uint8_t)(rng_per_mille(r, 750) ? rng_range(r, 0, 6) : rng_range(r, 7, 10));
    static const unsigned w[] = {100, 250, 650};
    static const int lo[] = {0, 4, 8}, hi[] = {3, 7, 10};
    size_t b = PICK(r, w);
    return (uint8_t)rng_range(r, lo[b], hi[b]);
}

static void new_record(sim_t *self, uint32_t trust, rec_t *rec)
{
    rng_t *r = &self->rng;
    const trust_t *t = &self->trusts[trust];
    memset(rec, 0, sizeof *rec);
    rec->trust = trust;
    rec->site = (uint8_t)rng_pick(r, t->site_w, t->nsites);
    rec->arrival = random_arrival(r, &self->opts);
    rec->patient = new_patient(self, t, rec->arrival / 1440);
    const patient_t *p = &self->patients[rec->patient];
    snprintf(rec->forename, sizeof rec->forename, "%s", patient_forename(p));
    snprintf(rec->surname, sizeof rec->surname, "%s", surnames[p->surname]);
    memcpy(rec->postcode, p->postcode, sizeof rec->postcode);
    memcpy(rec->nhs, p->nhs, sizeof rec->nhs);
    rec->dob = p->dob;

    rec->ward = rng_per_mille(r, 15) ? -1 : 0;
    rec->residence = (uint8_t)PICK(r, residence_w);
    rec->mobility = (uint8_t)PICK(r, mobility_w);
    rec->amts_pre = amts_before(r, rec->residence);
    rec->ftype = (uint8_t)PICK(r, ftype_w);
    rec->side = (uint8_t)rng_below(r, 2);
    rec->patho = (uint8_t)PICK(r, patho_w);
    rec->asa = (uint8_t)PICK(r, asa_w);
    rec->operation =
        rng_per_mille(r, 30) ? OP_NOP : (uint8_t)rng_pick(r, op_w[rec->ftype], NELEMS(op_w[0]));
    if (rec->amts_pre == AMTS_ND)
        rec->amts_post = rng_per_mille(r, 500) ? AMTS_ND : (uint8_t)rng_range(r, 0, 10);
    else if (rng_per_mille(r, 120))
        rec->amts_post = AMTS_ND;
    else {
        int a = rec->amts_pre - rng_range(r, -1, 2);
        rec->amts_post = (uint8_t)(a < 0 ? 0 : a > 10 ? 10 : a);
    }
    rec->discharge = (uint8_t)PICK(r, discharge_w);
    gen_times(r, rec, t->poor);
}

/* ---------- repeat patients and their typos ---------- */

enum { ROLE_FREE, ROLE_SOURCE, ROLE_REPEAT };

static void typo_transpose(rng_t *r, char *s)
{
    size_t n = strlen(s);
    if (n < 3)
        return;
    size_t i = 1 + rng_below(r, (uint32_t)(n - 2));
    if (s[i] == s[i + 1] && i + 2 < n)
        i++;
    char c = s[i];
    s[i] = s[i + 1];
    s[i + 1] = c;
}

static void typo_drop(rng_t *r, char *s)
{
    size_t n = strlen(s);
    if (n < 4)
        return;
    size_t i = 1 + rng_below(r, (uint32_t)(n - 1));
    memmove(s + i, s + i + 1, n - i);
}

static void typo_double(rng_t *r, char *s, size_t size)
{
    size_t n = strlen(s);
    if (n < 2 || n + 2 > size)
        return;
    size_t i = 1 + rng_below(r, (uint32_t)(n - 1));
    memmove(s + i + 1, s + i, n - i + 1);
}

/* A date of birth as a clerk might mistype it: day and month swapped, or the day off by one. */
static int32_t typo_dob(int32_t dob)
{
    int y, m, d;
    ncap_civil_from_days(dob, &y, &m, &d);
    if (d <= 12 && d != m)
        return (int32_t)ncap_days_from_civil(y, d, m);
    return d < 28 ? dob + 1 : dob - 1;
}

static void write_names(sim_t *self, rec_t *rec)
{
    rng_t *r = &self->rng;
    const patient_t *p = &self->patients[rec->patient];
    snprintf(rec->forename, sizeof rec->forename, "%s", patient_forename(p));
    snprintf(rec->surname, sizeof rec->surname, "%s", surnames[p->surname]);
    static const unsigned w[] = {45, 15, 15, 15, 10};
    char *name = rng_per_mille(r, 500) ? rec->forename : rec->surname;
    size_t size = name == rec->forename ? sizeof rec->forename : sizeof rec->surname;
    switch (PICK(r, w)) {
    case 0: /* written the same */
        break;
    case 1:
        if (patient_nickname(p))
            snprintf(rec->forename, sizeof rec->forename, "%s", patient_nickname(p));
        else
            typo_transpose(r, name);
        break;
    case 2:
        typo_transpose(r, name);
        break;
    case 3:
        typo_drop(r, name);
        break;
    default:
        typo_double(r, name, size);
        break;
    }
}

/* Makes record rec another visit of source's patient: a transfer a few hours later, with the
 * same fracture, or the other hip months apart. */
static void make_repeat(sim_t *self, rec_t *rec, const rec_t *src)
{
    rng_t *r = &self->rng;
    const sim_opts_t *o = &self->opts;
    int64_t lo = o->start_day * 1440, hi = (o->start_day + o->days) * 1440;
    rec->patient = src->patient;
    rec->repeat = true;
    int64_t a;
    if (rec->trust != src->trust && rng_per_mille(r, 550)) {
        int64_t d = rng_range(r, 3 * 60, 72 * 60);
        a = src->arrival + d;
        if (a >= hi)
            a = src->arrival - d;
        rec->ftype = src->ftype;
        rec->side = src->side;
        if (rec->operation != OP_NOP)
            rec->operation = (uint8_t)rng_pick(r, op_w[rec->ftype], NELEMS(op_w[0]));
    } else {
        int64_t d = (int64_t)rng_range(r, 30, 300) * 1440;
        a = src->arrival + (rng_per_mille(r, 500) ? d : -d);
        if (a >= hi || a < lo)
            a = src->arrival + (a >= hi ? -d : d);
        rec->side = (uint8_t)(1 - src->side);
    }
    if (a < lo || a >= hi)
        a = random_arrival(r, o);
    rec->arrival = a;
    gen_times(r, rec, self->trusts[rec->trust].poor);

    const patient_t *p = &self->patients[rec->patient];
    write_names(self, rec);
    rec->dob = rng_per_mille(r, 50) ? typo_dob(p->dob) : p->dob;
    memcpy(rec->nhs, p->nhs, sizeof rec->nhs);
    if (rng_per_mille(r, 850))
        memcpy(rec->postcode, p->postcode, sizeof rec->postcode);
    else
        new_postcode(r, self->trusts[rec->trust].area, rec->postcode);
}

/* role: n bytes of scratch */
static void add_repeats(sim_t *self, uint32_t *perm, uint8_t *role)
{
    size_t n = self->nrecs;
    size_t want = (size_t)((double)n * 0.09 + 0.5);
    if (want > n / 2)
        want = n / 2;
    memset(role, ROLE_FREE, n);
    rng_choose(&self->rng, perm, n, n);
    size_t done = 0;
    for (size_t i = 0; i < n && done < want; i++) {
        uint32_t ri = perm[i];
        if (role[ri] != ROLE_FREE)
            continue;
        rec_t *rec = &self->recs[ri];
        bool other_trust = self->ntrusts > 1 && rng_per_mille(&self->rng, 800);
        for (int tries = 0; tries < 30; tries++) {
            uint32_t si = rng_below(&self->rng, (uint32_t)n);
            const rec_t *src = &self->recs[si];
            if (si == ri || role[si] == ROLE_REPEAT || (other_trust && src->trust == rec->trust))
                continue;
            make_repeat(self, rec, src);
            role[ri] = ROLE_REPEAT;
            role[si] = ROLE_SOURCE;
            done++;
            break;
        }
    }
    self->stats.repeats = done;
}

/* ---------- NHS number issues and invalid rows ---------- */

static void mistype(rng_t *r, char nhs[11])
{
    char orig[11];
    memcpy(orig, nhs, sizeof orig);
    do {
        memcpy(nhs, orig, 11);
        if (rng_per_mille(r, 500)) {
            size_t i = rng_below(r, 9);
            char c = nhs[i];
            nhs[i] = nhs[i + 1];
            nhs[i + 1] = c;
        } else {
            size_t i = rng_below(r, 10);
            nhs[i] = (char)('0' + (nhs[i] - '0' + 1 + rng_below(r, 9)) % 10);
        }
    } while (nhs_number_check(nhs, NULL) != NHS_NUMBER_CHECKSUM);
}

static void add_nhs_issues(sim_t *self, uint32_t *perm)
{
    size_t n = self->nrecs;
    size_t k = (size_t)((double)n * 0.02 + 0.5);
    rng_choose(&self->rng, perm, n, k);
    for (size_t i = 0; i < k; i++) {
        rec_t *rec = &self->recs[perm[i]];
        if (i % 2 == 0) {
            rec->nhs_issue = SIM_NHS_MISTYPED;
            mistype(&self->rng, rec->nhs);
            self->stats.nhs_mistyped++;
        } else {
            rec->nhs_issue = SIM_NHS_MISSING;
            rec->nhs[0] = '\0';
            self->stats.nhs_missing++;
        }
    }
}

static void add_invalid(sim_t *self, uint32_t *perm)
{
    size_t n = self->nrecs;
    size_t k = (size_t)(self->opts.invalid_rate * (double)n + 0.5);
    if (k > n)
        k = n;
    rng_choose(&self->rng, perm, n, k);
    for (size_t i = 0; i < k; i++) {
        rec_t *rec = &self->recs[perm[i]];
        rec->invalid = (uint8_t)(SIM_MISSING_REQUIRED + i % 3);
        rec->invalid_variant =
            (uint8_t)rng_below(&self->rng, rec->invalid == SIM_BAD_DATETIME ? 5 : 3);
    }
    self->stats.invalid = k;
}

/* ---------- ordering ---------- */

typedef struct {
    uint32_t trust, index;
    int64_t arrival;
} sort_key_t;

static int cmp_key(const void *a, const void *b)
{
    const sort_key_t *ka = a, *kb = b;
    if (ka->trust != kb->trust)
        return ka->trust < kb->trust ? -1 : 1;
    if (ka->arrival != kb->arrival)
        return ka->arrival < kb->arrival ? -1 : 1;
    return ka->index < kb->index ? -1 : ka->index > kb->index;
}

/* keys: nrecs slots of scratch */
static void put_in_order(sim_t *self, sort_key_t *keys)
{
    for (size_t i = 0; i < self->nrecs; i++)
        keys[i] = (sort_key_t){self->recs[i].trust, (uint32_t)i, self->recs[i].arrival};
    qsort(keys, self->nrecs, sizeof *keys, cmp_key);
    for (size_t i = 0; i < self->nrecs; i++)
        self->order[i] = keys[i].index;
    size_t pos = 0;
    for (size_t t = 0; t < self->ntrusts; t++) {
        trust_t *tr = &self->trusts[t];
        tr->first = pos;
        while (pos < self->nrecs && self->recs[self->order[pos]].trust == t) {
            self->recs[self->order[pos]].seq = (uint32_t)(pos - tr->first + 1);
            pos++;
        }
        tr->n = pos - tr->first;
    }
    uint32_t next_id = 1;
    for (size_t i = 0; i < self->nrecs; i++) {
        patient_t *p = &self->patients[self->recs[self->order[i]].patient];
        if (p->id == 0)
            p->id = next_id++;
    }
    self->stats.patients = next_id - 1;
}

/* ---------- life cycle ---------- */

sim_t *sim_new(const sim_opts_t *opts, char *err, size_t errlen)
{
    assert(opts);
    if (!opts->audit || strcmp(opts->audit, "nhfd") != 0) {
        set_err(err, errlen, "audit \"%s\" is not supported by the simulator, only \"nhfd\"",
                opts->audit ? opts->audit : "");
        return NULL;
    }
    if (opts->trusts < 1 || opts->trusts > SIM_MAX_TRUSTS) {
        set_err(err, errlen, "number of trusts %u is out of range, expected 1-%d", opts->trusts,
                SIM_MAX_TRUSTS);
        return NULL;
    }
    if (opts->records > SIM_MAX_RECORDS) {
        set_err(err, errlen, "number of records %u is out of range, expected 0-%u", opts->records,
                SIM_MAX_RECORDS);
        return NULL;
    }
    if (!(opts->invalid_rate >= 0.0 && opts->invalid_rate <= 1.0)) {
        set_err(err, errlen, "invalid rate %g is out of range, expected 0-1", opts->invalid_rate);
        return NULL;
    }
    if (opts->days < 1 || opts->days > 36600) {
        set_err(err, errlen, "number of days %u is out of range, expected 1-36600", opts->days);
        return NULL;
    }
    sim_t *self = calloc(1, sizeof *self);
    if (!self) {
        set_err(err, errlen, "out of memory");
        return NULL;
    }
    self->opts = *opts;
    self->opts.audit = "nhfd";
    self->ntrusts = opts->trusts;
    self->nrecs = opts->records;
    size_t nslots = self->nrecs ? self->nrecs : 1;
    self->nhs_cap = 64;
    while (self->nhs_cap < 2 * nslots)
        self->nhs_cap *= 2;
    self->trusts = calloc(self->ntrusts, sizeof *self->trusts);
    self->patients = calloc(nslots, sizeof *self->patients);
    self->recs = calloc(nslots, sizeof *self->recs);
    self->order = calloc(nslots, sizeof *self->order);
    self->nhs_set = calloc(self->nhs_cap, sizeof *self->nhs_set);
    /* scratch for the steps below */
    size_t nscratch = nslots > self->ntrusts ? nslots : self->ntrusts;
    size_t *count = calloc(self->ntrusts, sizeof *count);
    uint64_t *rem = calloc(self->ntrusts, sizeof *rem);
    uint32_t *perm = calloc(nscratch, sizeof *perm);
    uint8_t *role = calloc(nslots, 1);
    sort_key_t *keys = calloc(nslots, sizeof *keys);
    bool ok = self->trusts && self->patients && self->recs && self->order && self->nhs_set &&
              count && rem && perm && role && keys;
    if (ok) {
        build_trusts(self, perm);
        split_records(self, count, rem);
        rng_seed(&self->rng, opts->seed + opts->round, 2);
        size_t i = 0;
        for (uint32_t t = 0; t < self->ntrusts; t++)
            for (size_t j = 0; j < count[t]; j++, i++)
                new_record(self, t, &self->recs[i]);
        add_repeats(self, perm, role);
        add_nhs_issues(self, perm);
        add_invalid(self, perm);
        put_in_order(self, keys);
        self->stats.records = self->nrecs;
    }
    free(count);
    free(rem);
    free(perm);
    free(role);
    free(keys);
    if (!ok) {
        sim_destroy(&self);
        set_err(err, errlen, "out of memory");
    }
    return self;
}

void sim_destroy(sim_t **self_p)
{
    assert(self_p);
    sim_t *self = *self_p;
    if (!self)
        return;
    free(self->trusts);
    free(self->patients);
    free(self->recs);
    free(self->order);
    free(self->nhs_set);
    free(self);
    *self_p = NULL;
}

/* ---------- accessors ---------- */

size_t sim_ntrusts(const sim_t *self)
{
    assert(self);
    return self->ntrusts;
}

const char *sim_trust_code(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts ? self->trusts[t].code : NULL;
}

size_t sim_trust_nsites(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts ? self->trusts[t].nsites : 0;
}

size_t sim_trust_nrecords(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts ? self->trusts[t].n : 0;
}

bool sim_trust_uk_dates(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts && self->trusts[t].uk_dates;
}

bool sim_trust_poor(const sim_t *self, size_t t)
{
    assert(self);
    return t < self->ntrusts && self->trusts[t].poor;
}

void sim_stats(const sim_t *self, sim_stats_t *stats)
{
    assert(self);
    *stats = self->stats;
}

const char *sim_invalid_text(sim_invalid_t kind)
{
    switch (kind) {
    case SIM_VALID:
        return "";
    case SIM_MISSING_REQUIRED:
        return "missing_required";
    case SIM_BAD_DATETIME:
        return "bad_datetime";
    case SIM_BAD_CODE:
        return "bad_code";
    }
    return "";
}

const char *sim_nhs_issue_text(sim_nhs_issue_t issue)
{
    switch (issue) {
    case SIM_NHS_OK:
        return "";
    case SIM_NHS_MISTYPED:
        return "mistyped";
    case SIM_NHS_MISSING:
        return "missing";
    }
    return "";
}

/* ---------- writing ---------- */

static void format_date(char *out, size_t size, int64_t day, bool uk)
{
    int y, m, d;
    ncap_civil_from_days(day, &y, &m, &d);
    if (uk)
        snprintf(out, size, "%02d/%02d/%04d", d, m, y);
    else
        snprintf(out, size, "%04d-%02d-%02d", y, m, d);
}

static void format_datetime(char *out, size_t size, int64_t minutes, bool uk)
{
    int y, m, d;
    int64_t day = minutes / 1440, minute = minutes % 1440;
    ncap_civil_from_days(day, &y, &m, &d);
    int hh = (int)(minute / 60), mm = (int)(minute % 60);
    if (uk)
        snprintf(out, size, "%02d/%02d/%04d %02d:%02d", d, m, y, hh, mm);
    else
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d", y, m, d, hh, mm);
}

/* An arrival time on a day that does not exist: 30 February or the 31st of a 30-day month. */
static void format_bad_datetime(char *out, size_t size, int64_t minutes, int variant, bool uk)
{
    static const int month[] = {2, 4, 6, 9, 11};
    int y, m, d;
    int64_t minute = minutes % 1440;
    ncap_civil_from_days(minutes / 1440, &y, &m, &d);
    m = month[variant % 5];
    d = m == 2 ? 30 : 31;
    int hh = (int)(minute / 60), mm = (int)(minute % 60);
    if (uk)
        snprintf(out, size, "%02d/%02d/%04d %02d:%02d", d, m, y, hh, mm);
    else
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d", y, m, d, hh, mm);
}

static void format_nhs(char *out, size_t size, const char *nhs, int style)
{
    if (!nhs[0] || style == 0)
        snprintf(out, size, "%s", nhs);
    else
        snprintf(out, size, "%.3s%c%.3s%c%.4s", nhs, style == 1 ? ' ' : '-', nhs + 3,
                 style == 1 ? ' ' : '-', nhs + 6);
}

static void local_record_id(const sim_t *self, const rec_t *rec, char *out, size_t size)
{
    const char *code = self->trusts[rec->trust].code;
    unsigned long long seed = (unsigned long long)self->opts.seed;
    if (self->opts.round)
        snprintf(out, size, "%s-%llu-r%u-%u", code, seed, self->opts.round, rec->seq);
    else
        snprintf(out, size, "%s-%llu-%u", code, seed, rec->seq);
}

static const char *amts_text(uint8_t a, char buf[4])
{
    if (a == AMTS_ND)
        return "ND";
    snprintf(buf, 4, "%u", a);
    return buf;
}

static void write_record(const sim_t *self, const rec_t *rec, FILE *out)
{
    const trust_t *t = &self->trusts[rec->trust];
    const patient_t *p = &self->patients[rec->patient];
    bool uk = t->uk_dates;
    char id[64], site[16], nhs[16], surname[32], dob[16], lsoa[16], arrival[24], ward[24],
        ortho[24], surgery[24], discharge[16], amts_pre[4], amts_post[4];
    local_record_id(self, rec, id, sizeof id);
    snprintf(site, sizeof site, "%s%02u", t->code, rec->site + 1u);
    format_nhs(nhs, sizeof nhs, rec->nhs, t->nhs_style);
    snprintf(surname, sizeof surname, "%s", rec->surname);
    if (t->upper_surname)
        for (char *c = surname; *c; c++)
            *c = (char)toupper((unsigned char)*c);
    format_date(dob, sizeof dob, rec->dob, uk);
    snprintf(lsoa, sizeof lsoa, "E01%06u", p->lsoa);
    format_datetime(arrival, sizeof arrival, rec->arrival, uk);
    ward[0] = '\0';
    if (rec->ward >= 0)
        format_datetime(ward, sizeof ward, rec->arrival + rec->ward, uk);
    format_datetime(ortho, sizeof ortho, rec->arrival + rec->ortho, uk);
    surgery[0] = '\0';
    if (rec->surgery >= 0)
        format_datetime(surgery, sizeof surgery, rec->arrival + rec->surgery, uk);
    format_date(discharge, sizeof discharge, rec->arrival / 1440 + rec->los, uk);

    const char *f[SIM_NCOLUMNS] = {
        id,
        t->code,
        site,
        nhs,
        rec->forename,
        surname,
        dob,
        (char[]){p->sex, '\0'},
        rec->postcode,
        lsoa,
        ethnic_codes[p->ethnic],
        arrival,
        ward,
        rec->ward >= 0 ? "N" : "Y",
        residence_codes[rec->residence],
        mobility_codes[rec->mobility],
        amts_text(rec->amts_pre, amts_pre),
        ftype_codes[rec->ftype],
        side_codes[rec->side],
        patho_codes[rec->patho],
        asa_codes[rec->asa],
        ortho,
        surgery,
        op_codes[rec->operation],
        amts_text(rec->amts_post, amts_post),
        discharge_codes[rec->discharge],
        discharge,
    };
    enum { C_ARRIVAL = 11, C_RESIDENCE = 14, C_MOBILITY = 15, C_FTYPE = 17, C_ASA = 20 };
    switch ((sim_invalid_t)rec->invalid) {
    case SIM_VALID:
        break;
    case SIM_MISSING_REQUIRED: {
        static const int col[] = {C_ARRIVAL, C_FTYPE, C_RESIDENCE};
        f[col[rec->invalid_variant % 3]] = "";
        break;
    }
    case SIM_BAD_DATETIME:
        format_bad_datetime(arrival, sizeof arrival, rec->arrival, rec->invalid_variant, uk);
        break;
    case SIM_BAD_CODE: {
        static const int col[] = {C_FTYPE, C_ASA, C_MOBILITY};
        static const char *const bad[] = {"XX", "7", "8"};
        f[col[rec->invalid_variant % 3]] = bad[rec->invalid_variant % 3];
        break;
    }
    }
    csv_write_row(out, f, SIM_NCOLUMNS);
}

int sim_write_header(FILE *out)
{
    csv_write_row(out, columns, SIM_NCOLUMNS);
    return ferror(out) ? -1 : 0;
}

int sim_write_trust(const sim_t *self, size_t t, FILE *out)
{
    assert(self);
    if (t >= self->ntrusts)
        return -1;
    const trust_t *tr = &self->trusts[t];
    for (size_t i = 0; i < tr->n; i++)
        write_record(self, &self->recs[self->order[tr->first + i]], out);
    return ferror(out) ? -1 : 0;
}

int sim_trust_buffer(const sim_t *self, size_t t, char **buf, size_t *len)
{
    assert(self);
    *buf = NULL;
    *len = 0;
    FILE *f = open_memstream(buf, len);
    if (!f)
        return -1;
    int rc = sim_write_header(f);
    if (rc == 0)
        rc = sim_write_trust(self, t, f);
    if (fclose(f) != 0)
        rc = -1;
    if (rc != 0) {
        free(*buf);
        *buf = NULL;
        *len = 0;
    }
    return rc;
}

int sim_write_truth(const sim_t *self, FILE *out, bool one_file)
{
    assert(self);
    static const char *const head[] = {"local_record_id", "trust_code", "row",
                                       "patient_id",      "invalid",    "reason",
                                       "nhs_number_issue"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[self->order[i]];
        const trust_t *t = &self->trusts[rec->trust];
        char id[64], row[24], patient[16];
        local_record_id(self, rec, id, sizeof id);
        snprintf(row, sizeof row, "%zu", 2 + (one_file ? i : i - t->first));
        snprintf(patient, sizeof patient, "%u", self->patients[rec->patient].id);
        const char *f[] = {id,
                           t->code,
                           row,
                           patient,
                           rec->invalid ? "1" : "0",
                           sim_invalid_text((sim_invalid_t)rec->invalid),
                           sim_nhs_issue_text((sim_nhs_issue_t)rec->nhs_issue)};
        csv_write_row(out, f, NELEMS(f));
    }
    return ferror(out) ? -1 : 0;
}

static void write_trust_list(const sim_t *self, FILE *out, bool poor)
{
    size_t n = 0;
    for (size_t t = 0; t < self->ntrusts; t++) {
        if (poor ? self->trusts[t].poor : self->trusts[t].uk_dates) {
            fprintf(out, " %s", self->trusts[t].code);
            n++;
        }
    }
    if (n == 0)
        fputs(" none", out);
    fputc('\n', out);
}

void sim_write_summary(const sim_t *self, FILE *out)
{
    assert(self);
    const sim_stats_t *s = &self->stats;
    size_t kinds[4] = {0};
    for (size_t i = 0; i < self->nrecs; i++)
        kinds[self->recs[i].invalid]++;
    fprintf(out, "sim: %zu records from %zu trusts (seed %llu%s), %zu patients\n", s->records,
            self->ntrusts, (unsigned long long)self->opts.seed,
            self->opts.round ? ", submit round" : "", s->patients);
    fprintf(out, "sim: invalid rows: %zu (%zu missing_required, %zu bad_datetime, %zu bad_code)\n",
            s->invalid, kinds[SIM_MISSING_REQUIRED], kinds[SIM_BAD_DATETIME], kinds[SIM_BAD_CODE]);
    fprintf(out, "sim: repeat patients (rows of a patient seen in another row): %zu\n", s->repeats);
    fprintf(out, "sim: NHS numbers mistyped: %zu, missing: %zu\n", s->nhs_mistyped, s->nhs_missing);
    fputs("sim: poorer-performing trusts:", out);
    write_trust_list(self, out, true);
    fputs("sim: trusts writing UK-style dates:", out);
    write_trust_list(self, out, false);
}
