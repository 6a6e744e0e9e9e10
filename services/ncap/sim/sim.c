/* sim.c - simulated trusts submitting NHFD-like records, with a known truth. */
#include "sim.h"

#include <assert.h>
#include <ctype.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"
#include "datetime.h"
#include "lsoa11.h"
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
#define NO_SURGERY INT32_MIN /* rec_t.surgery of a patient not operated on */

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
    uint32_t lsoa; /* the six digits after E01 */
    uint8_t ethnic;
    bool opted_out; /* national data opt-out */
    uint32_t id;    /* numbered from 1 in order of first appearance in the output */
} patient_t;

/* A row of the register of deaths: an audit patient's death, or someone else's. */
typedef struct {
    uint32_t person; /* index in patients, or in others when other */
    bool other;
    int32_t day; /* date of death, days since 1970-01-01 */
} death_t;

typedef struct {
    uint32_t trust, patient, seq;
    int64_t arrival;                /* minutes since 1970-01-01T00:00 */
    int32_t ward, ortho, surgery;   /* minutes after arrival; ward -1: never admitted,
                                     * surgery NO_SURGERY: no operation */
    int32_t los;                    /* days from arrival to discharge */
    int32_t dob;                    /* as written (a repeat may carry a typo) */
    char forename[24], surname[32]; /* as written */
    char postcode[9];
    uint32_t lsoa; /* the patient's, or where they live now after a move */
    char nhs[11];  /* digits as written, "" when missing */
    uint8_t site, residence, mobility, amts_pre, amts_post, ftype, side, patho, asa, operation,
        discharge;
    uint8_t invalid, invalid_variant, nhs_issue;
    uint8_t problem, problem_variant; /* sim_problem_kind_t injected on purpose, and how */
    bool repeat;
    bool in_pair; /* one of a probable duplicate episode's two rows (not to be touched again) */
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
    patient_t *others; /* people not in the audit: in the register of deaths or opted out */
    size_t nothers;
    death_t *deaths; /* the register of deaths, in the order written */
    size_t ndeaths;
    size_t noptout_others; /* others[0 .. noptout_others) opted out, the rest died */
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
static void new_nhs_number(sim_t *self, rng_t *r, char out[11])
{
    static const char first[] = "467";
    for (;;) {
        out[0] = first[rng_below(r, 3)];
        for (int i = 1; i < 9; i++)
            out[i] = (char)('0' + rng_below(r, 10));
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
    new_nhs_number(self, r, p->nhs);
    new_postcode(r, rng_per_mille(r, 900) ? t->area : rng_below(r, (uint32_t)NELEMS(areas)),
                 p->postcode);
    p->lsoa = lsoa11_number(rng_below(r, LSOA11_COUNT));
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
        rec->surgery = NO_SURGERY;
    else
        rec->surgery = in_daytime(r, rec->arrival,
                                  hours_from_bands(r, poor ? surg_poor : surg_good, surg_b, 4));

    static const int los_b[][2] = {{2, 8}, {8, 22}, {22, 41}, {41, 81}};
    static const unsigned los_w[] = {20, 50, 25, 5};
    size_t b = PICK(r, los_w);
    rec->los = rng_range(r, los_b[b][0], los_b[b][1] - 1);
    int64_t arrival_day = rec->arrival / 1440;
    if (rec->surgery != NO_SURGERY) {
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
    rec->lsoa = p->lsoa;
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

/* A date of birth as a clerk might mistype it, always a real date: day and month swapped, or
 * one digit off in the day, the month or the year's last digit. */
static int32_t typo_dob(rng_t *r, int32_t dob)
{
    int y, m, d;
    ncap_civil_from_days(dob, &y, &m, &d);
    static const unsigned w[] = {40, 30, 15, 15};
    int ny = y, nm = m, nd = d;
    switch (PICK(r, w)) {
    case 0: /* 04/07 for 07/04 */
        if (d <= 12 && d != m) {
            nm = d;
            nd = m;
        } else {
            nd = d < 28 ? d + 1 : d - 1;
        }
        break;
    case 1: /* the day one off */
        nd = d == 1 || (d < 28 && rng_per_mille(r, 500)) ? d + 1 : d - 1;
        break;
    case 2: /* the month one off */
        nm = m == 1 || (m < 12 && rng_per_mille(r, 500)) ? m + 1 : m - 1;
        if (nd > 28)
            nd = 28;
        break;
    default: /* the year's last digit one off, never making the patient older than 110 */
        ny = y % 10 == 9 ? y - 1 : y + 1;
        if (m == 2 && d == 29)
            nd = 28;
        break;
    }
    return (int32_t)ncap_days_from_civil(ny, nm, nd);
}

static void typo_any(rng_t *r, char *s, size_t size)
{
    static const unsigned w[] = {40, 35, 25};
    switch (PICK(r, w)) {
    case 0:
        typo_transpose(r, s);
        break;
    case 1:
        typo_drop(r, s);
        break;
    default:
        typo_double(r, s, size);
        break;
    }
}

/* Another surname for the same person: married, widowed and remarried, or double-barrelled. */
static void change_surname(rng_t *r, const patient_t *p, char *s, size_t size)
{
    const char *other =
        surnames[(p->surname + 1 + rng_below(r, NELEMS(surnames) - 1)) % NELEMS(surnames)];
    if (rng_per_mille(r, 300))
        snprintf(s, size, "%s-%s", surnames[p->surname], other);
    else
        snprintf(s, size, "%s", other);
}

/* The names as written at a repeat visit (rates in the usage of `ncap sim`): forename as a
 * nickname 12%, with a typo 8%; surname with a typo 8%, changed 2%; both swapped 1%. */
static void write_names(sim_t *self, rec_t *rec)
{
    rng_t *r = &self->rng;
    const patient_t *p = &self->patients[rec->patient];
    snprintf(rec->forename, sizeof rec->forename, "%s", patient_forename(p));
    snprintf(rec->surname, sizeof rec->surname, "%s", surnames[p->surname]);
    unsigned x = rng_below(r, 1000);
    if (x < 120 && patient_nickname(p))
        snprintf(rec->forename, sizeof rec->forename, "%s", patient_nickname(p));
    else if (x < 200)
        typo_any(r, rec->forename, sizeof rec->forename);
    x = rng_below(r, 1000);
    if (x < 80)
        typo_any(r, rec->surname, sizeof rec->surname);
    else if (x < 100)
        change_surname(r, p, rec->surname, sizeof rec->surname);
    if (rng_per_mille(r, 10)) {
        char tmp[sizeof rec->forename];
        snprintf(tmp, sizeof tmp, "%s", rec->forename);
        snprintf(rec->forename, sizeof rec->forename, "%.*s", (int)sizeof rec->forename - 1,
                 rec->surname);
        snprintf(rec->surname, sizeof rec->surname, "%s", tmp);
    }
}

static void mistype(rng_t *r, char nhs[11]);

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

    /* identifier noise at a repeat visit (rates in the usage of `ncap sim`) */
    const patient_t *p = &self->patients[rec->patient];
    write_names(self, rec);
    rec->dob = rng_per_mille(r, 50) ? typo_dob(r, p->dob) : p->dob;
    memcpy(rec->nhs, p->nhs, sizeof rec->nhs);
    rec->lsoa = p->lsoa;
    if (rng_per_mille(r, 850)) {
        memcpy(rec->postcode, p->postcode, sizeof rec->postcode);
    } else { /* moved, e.g. into a care home */
        new_postcode(r, self->trusts[rec->trust].area, rec->postcode);
        rec->lsoa = lsoa11_number(rng_below(r, LSOA11_COUNT));
    }
    unsigned x = rng_below(r, 1000);
    if (x < 40) {
        rec->nhs_issue = SIM_NHS_MISSING;
        rec->nhs[0] = '\0';
    } else if (x < 60) {
        rec->nhs_issue = SIM_NHS_MISTYPED;
        mistype(r, rec->nhs);
    }
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
        /* a patient has at most two visits: one source, one repeat, so no two visits at one trust
         * on one side fall within the 30 days of a probable duplicate episode by chance */
        bool other_trust = self->ntrusts > 1 && rng_per_mille(&self->rng, 800);
        for (int tries = 0; tries < 30; tries++) {
            uint32_t si = rng_below(&self->rng, (uint32_t)n);
            const rec_t *src = &self->recs[si];
            if (si == ri || role[si] != ROLE_FREE || (other_trust && src->trust == rec->trust))
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
        if (rec->nhs_issue != SIM_NHS_OK) /* a repeat visit's already */
            continue;
        if (i % 2 == 0) {
            rec->nhs_issue = SIM_NHS_MISTYPED;
            mistype(&self->rng, rec->nhs);
        } else {
            rec->nhs_issue = SIM_NHS_MISSING;
            rec->nhs[0] = '\0';
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

/* ---------- problems on purpose ---------- */

/* What `ncap validate` reports for each kind: the field (NULL when the variant picks it), the rule
 * and the severity; and how many ways the simulator writes it. */
typedef struct {
    const char *name;
    const char *field;
    const char *rule;
    const char *severity;
    uint8_t variants;
} problem_kind_t;

static const int required_cols[] = {SIM_C_ID,        SIM_C_SITE,     SIM_C_SEX,      SIM_C_ARRIVAL,
                                    SIM_C_RESIDENCE, SIM_C_MOBILITY, SIM_C_AMTS_PRE, SIM_C_FTYPE,
                                    SIM_C_SIDE,      SIM_C_PATHO};
static const int datetime_cols[] = {SIM_C_ARRIVAL, SIM_C_WARD, SIM_C_ORTHO, SIM_C_SURGERY};
typedef struct {
    int col;
    const char *bad[2];
} bad_code_t;
static const bad_code_t bad_codes[] = {
    {SIM_C_RESIDENCE, {"6", "0"}},      {SIM_C_MOBILITY, {"6", "8"}},
    {SIM_C_AMTS_PRE, {"11", "N"}},      {SIM_C_FTYPE, {"XX", "NOF"}},
    {SIM_C_SIDE, {"B", "X"}},           {SIM_C_PATHO, {"X", "2"}},
    {SIM_C_OPERATION, {"DHS", "THA"}},  {SIM_C_AMTS_POST, {"11", "12"}},
    {SIM_C_DISCHARGE_DEST, {"7", "0"}},
};
static const char *const bad_integers[] = {"II", "two", "3a"};
static const char *const bad_booleans[] = {"maybe", "2", "YN", "?"};
static const char *const bad_sexes[] = {"M", "F", "0", "3", "U"};
static const char *const bad_ethnics[] = {"0", "I", "O", "T", "X", "AA"};
static const char *const bad_asa[] = {"0", "6", "7", "9"};

static const problem_kind_t problem_kinds[SIM_NPROBLEM_KINDS] = {
    [SIM_P_NONE] = {"", NULL, NULL, NULL, 1},
    [SIM_P_REQUIRED] = {"required", NULL, "required", "error", NELEMS(required_cols)},
    [SIM_P_TYPE_INTEGER] = {"type_integer", "asa_grade", "type", "error", NELEMS(bad_integers)},
    [SIM_P_TYPE_DATE] = {"type_date", "discharge_date", "type", "error", 6},
    [SIM_P_TYPE_DATETIME_ISO] = {"type_datetime_iso", NULL, "type", "error", 16},
    [SIM_P_TYPE_DATETIME_UK] = {"type_datetime_uk", NULL, "type", "error", 16},
    [SIM_P_TYPE_BOOLEAN] = {"type_boolean", "never_admitted_to_ward", "type", "error",
                            NELEMS(bad_booleans)},
    /* identifiers other than the NHS number and date of birth: a warning, as in linkage */
    [SIM_P_TYPE_POSTCODE] = {"type_postcode", "postcode", "type", "warning", 4},
    /* a site code that is not one is refused by ingest as not a site of the trust */
    [SIM_P_TYPE_ODS] = {"type_ods", "site_code", "site_trust", "error", 4},
    [SIM_P_TYPE_LSOA] = {"type_lsoa", "lsoa", "type", "warning", 3},
    [SIM_P_CODE] = {"code", NULL, "code", "error", 2 * NELEMS(bad_codes)},
    [SIM_P_CODE_SEX] = {"code_sex", "sex", "code", "error", NELEMS(bad_sexes)},
    [SIM_P_CODE_ETHNIC] = {"code_ethnic", "ethnic_category", "code", "error", NELEMS(bad_ethnics)},
    [SIM_P_RANGE] = {"range", "asa_grade", "range", "error", NELEMS(bad_asa)},
    [SIM_P_PATTERN] = {"pattern", "local_record_id", "pattern", "error", 4},
    [SIM_P_NHS_CHECKSUM] = {"nhs_number_invalid", "nhs_number", "nhs_number_invalid", "warning", 1},
    [SIM_P_NHS_PLACEHOLDER] = {"nhs_number_placeholder", "nhs_number", "nhs_number_placeholder",
                               "warning", 9},
    [SIM_P_NHS_TEST] = {"nhs_number_test", "nhs_number", "nhs_number_test", "warning", 1},
    [SIM_P_NHS_MISSING] = {"nhs_number_missing", "nhs_number", "nhs_number_missing", "warning", 1},
    [SIM_P_DOB_INVALID] = {"dob_invalid", "date_of_birth", "dob_invalid", "warning", 4},
    [SIM_P_DOB_MISSING] = {"dob_missing", "date_of_birth", "dob_missing", "warning", 1},
    [SIM_P_SURGERY_BEFORE_ARRIVAL] = {"surgery_before_arrival", "surgery_datetime",
                                      "surgery_before_arrival", "error", 1},
    [SIM_P_ORTHO_BEFORE_ARRIVAL] = {"ortho_before_arrival", "orthogeriatric_assessment_datetime",
                                    "ortho_before_arrival", "error", 1},
    [SIM_P_DISCHARGE_BEFORE_ARRIVAL] = {"discharge_before_arrival", "discharge_date",
                                        "discharge_before_arrival", "error", 1},
    [SIM_P_WARD_NEVER_ADMITTED] = {"ward_admission_never_admitted", "ward_admission_datetime",
                                   "ward_admission_never_admitted", "error", 1},
    [SIM_P_AGE_OVER_110] = {"age_over_110", "age_at_arrival", "age_over_110", "warning", 1},
    [SIM_P_SURGERY_AFTER_30_DAYS] = {"surgery_after_30_days", "surgery_datetime",
                                     "surgery_after_30_days", "warning", 1},
    [SIM_P_OPERATION_WITHOUT_SURGERY] = {"operation_without_surgery", "operation",
                                         "operation_without_surgery", "warning", 2},
    [SIM_P_PROBABLE_DUPLICATE] = {"probable_duplicate_episode", "arrival_datetime",
                                  "probable_duplicate_episode", "warning", 1},
};

const char *sim_problem_kind_name(sim_problem_kind_t kind)
{
    return kind < SIM_NPROBLEM_KINDS ? problem_kinds[kind].name : "";
}

sim_problem_kind_t sim_problem_kind_parse(const char *name)
{
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++)
        if (strcmp(problem_kinds[k].name, name) == 0)
            return (sim_problem_kind_t)k;
    return SIM_P_NONE;
}

/* Rows the problems of opts take: one each, two for a probable duplicate. */
static size_t problem_rows(const sim_opts_t *opts)
{
    size_t n = 0;
    for (int k = 1; k < SIM_NPROBLEM_KINDS; k++)
        n += opts->problems[k];
    return n + opts->problems[SIM_P_PROBABLE_DUPLICATE];
}

size_t sim_min_records(const sim_opts_t *opts)
{
    /* about 80% of rows can take a problem (not a repeat patient, no other problem): ask for
     * 10 rows for each 7 problem rows, plus a few per trust to pair duplicates in */
    size_t n = problem_rows(opts);
    return n ? (10 * n + 6) / 7 + 4 * (size_t)opts->trusts + 20 : 0;
}

/* The record is operated on: an operation for its fracture and a surgery time the next day. */
static void ensure_operated(rng_t *r, rec_t *rec)
{
    if (rec->operation == OP_NOP)
        rec->operation = (uint8_t)rng_pick(r, op_w[rec->ftype], NELEMS(op_w[0]));
    if (rec->surgery == NO_SURGERY)
        rec->surgery = in_daytime(r, rec->arrival, rng_range(r, 18 * 60, 30 * 60));
    int64_t arrival_day = rec->arrival / 1440, surgery_day = (rec->arrival + rec->surgery) / 1440;
    if (arrival_day + rec->los <= surgery_day)
        rec->los = (int32_t)(surgery_day - arrival_day + 1);
}

/* A unique valid number in the test range (starting 9). */
static void new_test_number(sim_t *self, rng_t *r, char out[11])
{
    for (;;) {
        out[0] = '9';
        for (int i = 1; i < 9; i++)
            out[i] = (char)('0' + rng_below(r, 10));
        int cd = nhs_number_check_digit(out);
        if (cd == 10)
            continue;
        out[9] = (char)('0' + cd);
        out[10] = '\0';
        if (nhs_number_check(out, NULL) == NHS_NUMBER_TEST &&
            nhs_set_add(self, strtoull(out, NULL, 10)))
            return;
    }
}

/* Gives rec (a patient's only row, otherwise clean) the problem kind. placeholders: a set of
 * (digit, date of birth) already used, so that no two placeholder rows look like one patient. */
static void inject(sim_t *self, rng_t *r, rec_t *rec, sim_problem_kind_t kind, uint64_t *used,
                   size_t used_cap)
{
    rec->problem = (uint8_t)kind;
    rec->problem_variant = (uint8_t)rng_below(r, problem_kinds[kind].variants);
    patient_t *p = &self->patients[rec->patient];
    int v = rec->problem_variant;
    switch (kind) {
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK:
        if (datetime_cols[v % 4] == SIM_C_WARD && rec->ward < 0)
            rec->ward = rng_range(r, 60, 600);
        if (datetime_cols[v % 4] == SIM_C_SURGERY)
            ensure_operated(r, rec);
        break;
    case SIM_P_NHS_CHECKSUM:
        rec->nhs_issue = SIM_NHS_MISTYPED;
        mistype(r, rec->nhs);
        break;
    case SIM_P_NHS_MISSING:
        rec->nhs_issue = SIM_NHS_MISSING;
        rec->nhs[0] = '\0';
        break;
    case SIM_P_NHS_TEST:
        rec->nhs_issue = SIM_NHS_TEST;
        new_test_number(self, r, rec->nhs);
        break;
    case SIM_P_NHS_PLACEHOLDER: {
        rec->nhs_issue = SIM_NHS_PLACEHOLDER;
        size_t mask = used_cap - 1;
        for (;;) {
            uint64_t key = ((uint64_t)(uint32_t)rec->dob << 4 | (uint64_t)v) + 1;
            size_t h = (size_t)((key * 0x9e3779b97f4a7c15u) >> 24) & mask;
            while (used[h] && used[h] != key)
                h = (h + 1) & mask;
            if (!used[h]) {
                used[h] = key;
                break;
            }
            rec->dob--; /* taken: the patient was born a day earlier */
        }
        p->dob = rec->dob;
        memset(rec->nhs, '0' + v, 10);
        rec->nhs[10] = '\0';
        break;
    }
    case SIM_P_SURGERY_BEFORE_ARRIVAL:
        ensure_operated(r, rec);
        rec->surgery = -rng_range(r, 120, 48 * 60);
        break;
    case SIM_P_ORTHO_BEFORE_ARRIVAL:
        rec->ortho = -rng_range(r, 120, 72 * 60);
        break;
    case SIM_P_DISCHARGE_BEFORE_ARRIVAL:
        rec->los = -rng_range(r, 1, 10);
        break;
    case SIM_P_WARD_NEVER_ADMITTED:
        if (rec->ward < 0)
            rec->ward = rng_range(r, 60, 600);
        break;
    case SIM_P_AGE_OVER_110: {
        int y, m, d;
        ncap_civil_from_days(rec->arrival / 1440, &y, &m, &d);
        rec->dob = (int32_t)ncap_days_from_civil(y - rng_range(r, 112, 118), rng_range(r, 1, 12),
                                                 rng_range(r, 1, 28));
        break;
    }
    case SIM_P_SURGERY_AFTER_30_DAYS: {
        ensure_operated(r, rec);
        rec->surgery = rng_range(r, 31 * 1440, 90 * 1440);
        int64_t arrival_day = rec->arrival / 1440;
        int64_t surgery_day = (rec->arrival + rec->surgery) / 1440;
        rec->los = (int32_t)(surgery_day - arrival_day) + rng_range(r, 2, 20);
        break;
    }
    case SIM_P_OPERATION_WITHOUT_SURGERY:
        ensure_operated(r, rec);
        if (v == 0)
            rec->operation = OP_NOP; /* "no operation" with a surgery time */
        else
            rec->surgery = NO_SURGERY; /* an operation without one */
        break;
    default: /* written wrong by write_record; nothing else changes */
        break;
    }
}

/* Makes rec a second episode of src's patient at src's trust: same identifiers and side, arriving
 * 1 hour to 28 days apart. The later of the two carries the problem. */
static void make_duplicate(sim_t *self, rng_t *r, rec_t *rec, rec_t *src)
{
    const sim_opts_t *o = &self->opts;
    int64_t lo = o->start_day * 1440, hi = (o->start_day + o->days) * 1440;
    rec->patient = src->patient;
    memcpy(rec->forename, src->forename, sizeof rec->forename);
    memcpy(rec->surname, src->surname, sizeof rec->surname);
    memcpy(rec->nhs, src->nhs, sizeof rec->nhs);
    memcpy(rec->postcode, src->postcode, sizeof rec->postcode);
    rec->lsoa = src->lsoa;
    rec->dob = src->dob;
    rec->side = src->side;
    int64_t d = rng_range(r, 60, 28 * 1440);
    rec_t *later = rec;
    rec->arrival = src->arrival + d;
    if (rec->arrival >= hi && src->arrival - d >= lo) {
        rec->arrival = src->arrival - d;
        later = src;
    }
    gen_times(r, rec, self->trusts[rec->trust].poor);
    later->problem = SIM_P_PROBABLE_DUPLICATE;
    rec->in_pair = src->in_pair = true;
}

static bool can_take_problem(const rec_t *rec, const uint8_t *role, size_t i)
{
    return role[i] == ROLE_FREE && !rec->in_pair && rec->nhs_issue == SIM_NHS_OK &&
           rec->invalid == SIM_VALID && rec->problem == SIM_P_NONE;
}

/* Gives opts.problems[k] rows each kind k, drawn from the rows of patients seen once with no
 * other problem. perm: nrecs slots of scratch; role: from add_repeats. Returns 0, -1 when the
 * records are too few, -2 when out of memory. */
static int add_problems(sim_t *self, uint32_t *perm, const uint8_t *role)
{
    const unsigned *want = self->opts.problems;
    if (problem_rows(&self->opts) == 0)
        return 0;
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 3);
    size_t n = self->nrecs;
    size_t used_cap = 64;
    while (used_cap < 2 * (size_t)want[SIM_P_NHS_PLACEHOLDER])
        used_cap *= 2;
    uint64_t *used = calloc(used_cap, sizeof *used);
    uint32_t *pending = malloc(self->ntrusts * sizeof *pending);
    if (!used || !pending) {
        free(used);
        free(pending);
        return -2;
    }
    rng_choose(&r, perm, n, n);
    /* probable duplicates first: two free rows of one trust make a pair */
    for (size_t t = 0; t < self->ntrusts; t++)
        pending[t] = UINT32_MAX;
    size_t pairs = 0;
    for (size_t i = 0; i < n && pairs < want[SIM_P_PROBABLE_DUPLICATE]; i++) {
        rec_t *rec = &self->recs[perm[i]];
        if (!can_take_problem(rec, role, perm[i]))
            continue;
        if (pending[rec->trust] == UINT32_MAX) {
            pending[rec->trust] = perm[i];
            continue;
        }
        make_duplicate(self, &r, rec, &self->recs[pending[rec->trust]]);
        pending[rec->trust] = UINT32_MAX;
        pairs++;
    }
    size_t next = 0, done = pairs;
    int rc = pairs == want[SIM_P_PROBABLE_DUPLICATE] ? 0 : -1;
    for (int k = 1; rc == 0 && k < SIM_NPROBLEM_KINDS; k++) {
        if (k == SIM_P_PROBABLE_DUPLICATE)
            continue;
        for (unsigned j = 0; rc == 0 && j < want[k]; j++) {
            while (next < n && !can_take_problem(&self->recs[perm[next]], role, perm[next]))
                next++;
            if (next == n) {
                rc = -1;
                break;
            }
            inject(self, &r, &self->recs[perm[next++]], (sim_problem_kind_t)k, used, used_cap);
            done++;
        }
    }
    self->stats.problems = done;
    free(used);
    free(pending);
    return rc;
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

/* ---------- what linkage joins the records to: opt-outs and deaths ---------- */

static void count_nhs_issues(sim_t *self)
{
    for (size_t i = 0; i < self->nrecs; i++) {
        self->stats.nhs_mistyped += self->recs[i].nhs_issue == SIM_NHS_MISTYPED;
        self->stats.nhs_missing += self->recs[i].nhs_issue == SIM_NHS_MISSING;
    }
}

/* The patients in order of id (first appearance), into list (npatients slots); returns how many. */
static size_t patients_by_id(const sim_t *self, uint32_t *list)
{
    size_t n = 0;
    for (size_t i = 0; i < self->npatients; i++)
        if (self->patients[i].id)
            list[self->patients[i].id - 1] = (uint32_t)i, n++;
    return n;
}

/* Someone of the patients' age not in the audit. When twin, with the name of an audit patient
 * and a postcode in the same area (a different person the register holds under that name). */
static void new_other(sim_t *self, rng_t *r, patient_t *o, const patient_t *twin, int64_t day)
{
    memset(o, 0, sizeof *o);
    o->sex = sex_codes[rng_per_mille(r, 400) ? 0 : 1][0];
    o->male_name = o->sex == '1';
    o->forename = (uint16_t)rng_below(r, o->male_name ? (uint32_t)NELEMS(male_names)
                                                      : (uint32_t)NELEMS(female_names));
    o->surname = (uint16_t)rng_below(r, (uint32_t)NELEMS(surnames));
    int age = age_at_arrival(r);
    o->dob = (int32_t)(day - (age * 365 + age / 4) - rng_below(r, 365));
    size_t area = rng_below(r, (uint32_t)NELEMS(areas));
    if (twin) {
        o->sex = twin->sex;
        o->male_name = twin->male_name;
        o->forename = twin->forename;
        o->surname = twin->surname;
        for (size_t a = 0; a < NELEMS(areas); a++)
            if (strncmp(twin->postcode, areas[a].area, strlen(areas[a].area)) == 0 &&
                !isalpha((unsigned char)twin->postcode[strlen(areas[a].area)]))
                area = a;
    }
    new_postcode(r, area, o->postcode);
    new_nhs_number(self, r, o->nhs); /* unique among everyone */
}

/* About 5% of patients opted out (the national rate is near 5.5%), and as many people not in the
 * audit appear in the list. */
static int add_optouts(sim_t *self)
{
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 5);
    size_t n = 0;
    for (size_t i = 0; i < self->npatients; i++)
        if (self->patients[i].id && rng_per_mille(&r, 50)) {
            self->patients[i].opted_out = true;
            n++;
        }
    self->stats.opted_out = n;
    self->others = calloc(n ? n : 1, sizeof *self->others);
    if (!self->others)
        return -1;
    for (size_t i = 0; i < n; i++)
        new_other(self, &r, &self->others[i], NULL, self->opts.start_day);
    self->nothers = self->noptout_others = n;
    return 0;
}

static int cmp_death(const void *a, const void *b)
{
    const death_t *x = a, *y = b;
    if (x->day != y->day)
        return x->day < y->day ? -1 : 1;
    if (x->other != y->other)
        return x->other ? 1 : -1;
    return x->person < y->person ? -1 : x->person > y->person;
}

/* Patients who die: those who died in hospital (on the day of discharge), and about a quarter of
 * the others within a year of their last discharge, never before any of their arrivals. As many
 * people not in the audit die too, one in five with the name of an audit patient. */
static int add_deaths(sim_t *self)
{
    size_t np = self->npatients;
    int32_t *last = malloc((np ? np : 1) * sizeof *last);
    bool *in_hospital = calloc(np ? np : 1, sizeof *in_hospital);
    uint32_t *ids = malloc((np ? np : 1) * sizeof *ids);
    if (!last || !in_hospital || !ids) {
        free(last);
        free(in_hospital);
        free(ids);
        return -1;
    }
    for (size_t i = 0; i < np; i++)
        last[i] = INT32_MIN;
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[i];
        int64_t arrival_day = rec->arrival / 1440, discharge_day = arrival_day + rec->los;
        int64_t day = discharge_day > arrival_day ? discharge_day : arrival_day + 1;
        if (day > last[rec->patient])
            last[rec->patient] = (int32_t)day;
        if (rec->discharge == 5) /* "6": died in hospital */
            in_hospital[rec->patient] = true;
    }
    size_t nids = patients_by_id(self, ids);
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 6);
    size_t cap = 2 * nids + 1, n = 0;
    self->deaths = calloc(cap, sizeof *self->deaths);
    size_t ntwins = 0, nplain = 0;
    int rc = self->deaths ? 0 : -1;
    for (size_t k = 0; rc == 0 && k < nids; k++) {
        uint32_t i = ids[k];
        int32_t day;
        if (in_hospital[i])
            day = last[i];
        else if (rng_per_mille(&r, 250))
            day =
                last[i] + (rng_per_mille(&r, 400) ? rng_range(&r, 1, 30) : rng_range(&r, 31, 365));
        else
            continue;
        self->deaths[n++] = (death_t){i, false, day};
    }
    size_t naudit = n;
    patient_t *more =
        rc == 0 ? realloc(self->others, (self->nothers + naudit + 1) * sizeof *more) : NULL;
    if (!more)
        rc = -1;
    else
        self->others = more;
    for (size_t k = 0; rc == 0 && k < naudit; k++) {
        const patient_t *twin = NULL;
        if (nids && rng_per_mille(&r, 200)) {
            twin = &self->patients[ids[rng_below(&r, (uint32_t)nids)]];
            ntwins++;
        } else {
            nplain++;
        }
        int32_t day = (int32_t)(self->opts.start_day + rng_below(&r, self->opts.days + 365));
        new_other(self, &r, &self->others[self->nothers], twin, day);
        self->deaths[n++] = (death_t){(uint32_t)self->nothers++, true, day};
    }
    if (rc == 0) {
        qsort(self->deaths, n, sizeof *self->deaths, cmp_death);
        self->ndeaths = n;
    }
    free(last);
    free(in_hospital);
    free(ids);
    return rc;
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
    bool bad_opts = false;
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
        int prc = add_problems(self, perm, role);
        if (prc == -1) {
            set_err(err, errlen,
                    "%u records are too few for the problems asked for: give at least %zu",
                    opts->records, sim_min_records(opts));
            bad_opts = true;
        }
        ok = prc != -2;
    }
    if (ok && !bad_opts) {
        put_in_order(self, keys);
        count_nhs_issues(self);
        ok = add_optouts(self) == 0 && add_deaths(self) == 0;
        self->stats.records = self->nrecs;
    }
    free(count);
    free(rem);
    free(perm);
    free(role);
    free(keys);
    if (!ok || bad_opts) {
        sim_destroy(&self);
        if (!bad_opts)
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
    free(self->others);
    free(self->deaths);
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
    case SIM_NHS_PLACEHOLDER:
        return "placeholder";
    case SIM_NHS_TEST:
        return "test";
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
    if (rec->problem == SIM_P_REQUIRED && required_cols[rec->problem_variant] == SIM_C_ID) {
        out[0] = '\0';
    } else if (rec->problem == SIM_P_PATTERN) {
        static const char sep[] = "/.+";
        if (rec->problem_variant < 3) { /* RH8/1/12: another separator */
            for (char *c = out; *c; c++)
                if (*c == '-')
                    *c = sep[rec->problem_variant];
        } else { /* longer than 40 characters */
            size_t n = strlen(out);
            snprintf(out + n, size - n, "_%.*s", n < 40 ? (int)(40 - n) : 0,
                     "0000000000000000000000000000000000000000");
        }
    }
}

static const char *amts_text(uint8_t a, char buf[4])
{
    if (a == AMTS_ND)
        return "ND";
    snprintf(buf, 4, "%u", a);
    return buf;
}

/* A date-time written wrong in one layout: 30 February, the 31st of a 30-day month, hour 24, or
 * no time at all. */
static void format_bad_datetime_form(char *out, size_t size, int64_t minutes, int form, bool uk)
{
    static const int month30[] = {4, 6, 9, 11};
    int y, m, d;
    ncap_civil_from_days(minutes / 1440, &y, &m, &d);
    int hh = (int)(minutes % 1440 / 60), mm = (int)(minutes % 60);
    switch (form) {
    case 0:
        m = 2, d = 30;
        break;
    case 1:
        m = month30[(unsigned)y % 4], d = 31;
        break;
    case 2:
        hh = 24;
        break;
    default:
        if (uk)
            snprintf(out, size, "%02d/%02d/%04d", d, m, y);
        else
            snprintf(out, size, "%04d-%02d-%02d", y, m, d);
        return;
    }
    if (uk)
        snprintf(out, size, "%02d/%02d/%04d %02d:%02d", d, m, y, hh, mm);
    else
        snprintf(out, size, "%04d-%02d-%02dT%02d:%02d", y, m, d, hh, mm);
}

/* A date written wrong: variants 0-2 in ISO layout, 3-5 in UK layout. */
static void format_bad_date(char *out, size_t size, int64_t day, int variant)
{
    int y, m, d;
    ncap_civil_from_days(day, &y, &m, &d);
    static const int month30[] = {4, 6, 9, 11};
    int bm = month30[(unsigned)y % 4];
    switch (variant) {
    case 0:
        snprintf(out, size, "%04d-%02d-31", y, bm);
        break;
    case 1:
        snprintf(out, size, "%04d-02-30", y);
        break;
    case 2:
        snprintf(out, size, "%04d-13-%02d", y, d);
        break;
    case 3:
        snprintf(out, size, "31/%02d/%04d", bm, y);
        break;
    case 4:
        snprintf(out, size, "30/02/%04d", y);
        break;
    default:
        snprintf(out, size, "%02d/13/%04d", d, y);
        break;
    }
}

/* Writes rec's injected problem over the row's fields f; bad is room for a value. */
static void write_problem(const sim_t *self, const rec_t *rec, const char **f, char *bad,
                          size_t size)
{
    const trust_t *t = &self->trusts[rec->trust];
    int v = rec->problem_variant;
    switch ((sim_problem_kind_t)rec->problem) {
    case SIM_P_REQUIRED:
        f[required_cols[v]] = "";
        break;
    case SIM_P_TYPE_INTEGER:
        f[SIM_C_ASA] = bad_integers[v];
        break;
    case SIM_P_TYPE_DATE:
        format_bad_date(bad, size, rec->arrival / 1440 + rec->los, v);
        f[SIM_C_DISCHARGE_DATE] = bad;
        break;
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK: {
        int col = datetime_cols[v % 4];
        int64_t at = rec->arrival + (col == SIM_C_WARD      ? rec->ward
                                     : col == SIM_C_ORTHO   ? rec->ortho
                                     : col == SIM_C_SURGERY ? rec->surgery
                                                            : 0);
        format_bad_datetime_form(bad, size, at, v / 4, rec->problem == SIM_P_TYPE_DATETIME_UK);
        f[col] = bad;
        break;
    }
    case SIM_P_TYPE_BOOLEAN:
        f[SIM_C_NEVER_ADMITTED] = bad_booleans[v];
        break;
    case SIM_P_TYPE_POSTCODE: {
        const char *pc = rec->postcode;
        size_t outward = strcspn(pc, " ");
        if (v == 0) /* the outward code alone: LS1 */
            snprintf(bad, size, "%.*s", (int)outward, pc);
        else if (v == 1) /* the inward code cut short: LS1 4A */
            snprintf(bad, size, "%.*s", (int)strlen(pc) - 1, pc);
        else if (v == 2) /* digits where letters go */
            snprintf(bad, size, "%u%.*s", 1 + rec->seq % 9, (int)strlen(pc) - 1, pc + 1);
        else
            snprintf(bad, size, "%s", "N/K");
        f[SIM_C_POSTCODE] = bad;
        break;
    }
    case SIM_P_TYPE_ODS:
        if (v == 0) /* lower case */
            snprintf(bad, size, "%c%c%c%02u", tolower((unsigned char)t->code[0]),
                     tolower((unsigned char)t->code[1]), tolower((unsigned char)t->code[2]),
                     rec->site + 1u);
        else if (v == 1)
            snprintf(bad, size, "%s-%u", t->code, rec->site + 1u);
        else if (v == 2) /* the trust's code for the site's */
            snprintf(bad, size, "%s", t->code);
        else
            snprintf(bad, size, "%s%03u", t->code, rec->site + 1u);
        f[SIM_C_SITE] = bad;
        break;
    case SIM_P_TYPE_LSOA:
        if (v == 0)
            snprintf(bad, size, "E01%05u", rec->lsoa % 100000);
        else if (v == 1) /* an MSOA code */
            snprintf(bad, size, "E02%06u", rec->lsoa % 7201);
        else
            snprintf(bad, size, "E01%05uX", rec->lsoa % 100000);
        f[SIM_C_LSOA] = bad;
        break;
    case SIM_P_CODE:
        f[bad_codes[v / 2].col] = bad_codes[v / 2].bad[v % 2];
        break;
    case SIM_P_CODE_SEX:
        f[SIM_C_SEX] = bad_sexes[v];
        break;
    case SIM_P_CODE_ETHNIC:
        f[SIM_C_ETHNIC] = bad_ethnics[v];
        break;
    case SIM_P_RANGE:
        f[SIM_C_ASA] = bad_asa[v];
        break;
    case SIM_P_DOB_INVALID:
        format_bad_date(bad, size, rec->dob, v == 0 ? 1 : v == 1 ? 2 : v == 2 ? 3 : 5);
        f[SIM_C_DOB] = bad;
        break;
    case SIM_P_DOB_MISSING:
        f[SIM_C_DOB] = "";
        break;
    default: /* in the record's values, or in local_record_id */
        break;
    }
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
    snprintf(lsoa, sizeof lsoa, "E01%06u", rec->lsoa);
    format_datetime(arrival, sizeof arrival, rec->arrival, uk);
    ward[0] = '\0';
    if (rec->ward >= 0)
        format_datetime(ward, sizeof ward, rec->arrival + rec->ward, uk);
    format_datetime(ortho, sizeof ortho, rec->arrival + rec->ortho, uk);
    surgery[0] = '\0';
    if (rec->surgery != NO_SURGERY)
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
        rec->ward >= 0 && rec->problem != SIM_P_WARD_NEVER_ADMITTED ? "N" : "Y",
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
    char bad[48];
    write_problem(self, rec, f, bad, sizeof bad);
    switch ((sim_invalid_t)rec->invalid) {
    case SIM_VALID:
        break;
    case SIM_MISSING_REQUIRED: {
        static const int col[] = {SIM_C_ARRIVAL, SIM_C_FTYPE, SIM_C_RESIDENCE};
        f[col[rec->invalid_variant % 3]] = "";
        break;
    }
    case SIM_BAD_DATETIME:
        format_bad_datetime(arrival, sizeof arrival, rec->arrival, rec->invalid_variant, uk);
        break;
    case SIM_BAD_CODE: {
        static const int col[] = {SIM_C_FTYPE, SIM_C_ASA, SIM_C_MOBILITY};
        static const char *const wrong[] = {"XX", "7", "8"};
        f[col[rec->invalid_variant % 3]] = wrong[rec->invalid_variant % 3];
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

typedef struct {
    const char *field, *rule, *severity;
} truth_problem_t;

#define ROW_MAX_PROBLEMS 3

/* Every problem `ncap validate` reports on rec's row, into out; returns how many. */
static size_t row_problems(const rec_t *rec, truth_problem_t *out)
{
    int v = rec->problem_variant;
    const problem_kind_t *k = &problem_kinds[rec->problem];
    /* refused by ingest: nothing else is checked */
    if (rec->problem == SIM_P_TYPE_ODS ||
        (rec->problem == SIM_P_REQUIRED && required_cols[v] == SIM_C_ID)) {
        out[0] = (truth_problem_t){k->field ? k->field : columns[SIM_C_ID], k->rule, k->severity};
        return 1;
    }
    size_t n = 0;
    static const char *const nhs_rules[] = {NULL, "nhs_number_invalid", "nhs_number_missing",
                                            "nhs_number_placeholder", "nhs_number_test"};
    if (rec->nhs_issue != SIM_NHS_OK)
        out[n++] = (truth_problem_t){"nhs_number", nhs_rules[rec->nhs_issue], "warning"};
    switch ((sim_invalid_t)rec->invalid) {
    case SIM_VALID:
        break;
    case SIM_MISSING_REQUIRED: {
        static const int col[] = {SIM_C_ARRIVAL, SIM_C_FTYPE, SIM_C_RESIDENCE};
        out[n++] = (truth_problem_t){columns[col[rec->invalid_variant % 3]], "required", "error"};
        break;
    }
    case SIM_BAD_DATETIME:
        out[n++] = (truth_problem_t){"arrival_datetime", "type", "error"};
        break;
    case SIM_BAD_CODE: {
        static const truth_problem_t bad[] = {{"fracture_type", "code", "error"},
                                              {"asa_grade", "range", "error"},
                                              {"pre_fracture_mobility", "code", "error"}};
        out[n++] = bad[rec->invalid_variant % 3];
        break;
    }
    }
    switch ((sim_problem_kind_t)rec->problem) {
    case SIM_P_NONE:
    case SIM_P_NHS_CHECKSUM: /* the NHS number issue above */
    case SIM_P_NHS_PLACEHOLDER:
    case SIM_P_NHS_TEST:
    case SIM_P_NHS_MISSING:
        break;
    case SIM_P_REQUIRED:
        out[n++] = (truth_problem_t){columns[required_cols[v]], k->rule, k->severity};
        break;
    case SIM_P_TYPE_DATETIME_ISO:
    case SIM_P_TYPE_DATETIME_UK:
        out[n++] = (truth_problem_t){columns[datetime_cols[v % 4]], k->rule, k->severity};
        break;
    case SIM_P_CODE:
        out[n++] = (truth_problem_t){columns[bad_codes[v / 2].col], k->rule, k->severity};
        break;
    default:
        out[n++] = (truth_problem_t){k->field, k->rule, k->severity};
        break;
    }
    return n;
}

static bool row_has_error(const rec_t *rec)
{
    truth_problem_t p[ROW_MAX_PROBLEMS];
    size_t n = row_problems(rec, p);
    for (size_t i = 0; i < n; i++)
        if (strcmp(p[i].severity, "error") == 0)
            return true;
    return false;
}

int sim_write_truth(const sim_t *self, FILE *out, bool one_file)
{
    assert(self);
    static const char *const head[] = {"local_record_id",  "trust_code", "row",
                                       "patient_id",       "invalid",    "reason",
                                       "nhs_number_issue", "opted_out"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[self->order[i]];
        const trust_t *t = &self->trusts[rec->trust];
        const patient_t *p = &self->patients[rec->patient];
        char id[64], row[24], patient[16];
        local_record_id(self, rec, id, sizeof id);
        snprintf(row, sizeof row, "%zu", 2 + (one_file ? i : i - t->first));
        snprintf(patient, sizeof patient, "%u", p->id);
        const char *f[] = {id,
                           t->code,
                           row,
                           patient,
                           row_has_error(rec) ? "1" : "0",
                           rec->problem ? problem_kinds[rec->problem].name
                                        : sim_invalid_text((sim_invalid_t)rec->invalid),
                           sim_nhs_issue_text((sim_nhs_issue_t)rec->nhs_issue),
                           p->opted_out ? "1" : "0"};
        csv_write_row(out, f, NELEMS(f));
    }
    return ferror(out) ? -1 : 0;
}

int sim_write_problems_truth(const sim_t *self, FILE *out, bool one_file)
{
    assert(self);
    static const char *const head[] = {"row", "field", "rule", "severity", "trust_code"};
    csv_write_row(out, head, NELEMS(head));
    for (size_t i = 0; i < self->nrecs; i++) {
        const rec_t *rec = &self->recs[self->order[i]];
        const trust_t *t = &self->trusts[rec->trust];
        truth_problem_t p[ROW_MAX_PROBLEMS];
        size_t n = row_problems(rec, p);
        char row[24];
        snprintf(row, sizeof row, "%zu", 2 + (one_file ? i : i - t->first));
        for (size_t j = 0; j < n; j++) {
            const char *f[] = {row, p[j].field, p[j].rule, p[j].severity, t->code};
            csv_write_row(out, f, NELEMS(f));
        }
    }
    return ferror(out) ? -1 : 0;
}

/* One death row: an audit patient as the register holds them, with the noise of a different
 * source (rates in the usage of `ncap sim`), or someone else. */
static void write_death(const sim_t *self, size_t k, FILE *out)
{
    const death_t *d = &self->deaths[k];
    const patient_t *p = d->other ? &self->others[d->person] : &self->patients[d->person];
    rng_t r;
    rng_seed(&r, self->opts.seed + self->opts.round, 7 + (uint64_t)k);
    char nhs[11], forename[32], surname[40], dob[16], postcode[9], died[16];
    memcpy(nhs, p->nhs, sizeof nhs);
    snprintf(forename, sizeof forename, "%s", patient_forename(p));
    snprintf(surname, sizeof surname, "%s", surnames[p->surname]);
    memcpy(postcode, p->postcode, sizeof postcode);
    int32_t born = p->dob;
    if (!d->other) {
        unsigned x = rng_below(&r, 1000);
        if (x < 50)
            nhs[0] = '\0';
        else if (x < 60)
            mistype(&r, nhs);
        if (rng_per_mille(&r, 20))
            typo_any(&r, forename, sizeof forename);
        x = rng_below(&r, 1000);
        if (x < 20)
            typo_any(&r, surname, sizeof surname);
        else if (x < 30)
            change_surname(&r, p, surname, sizeof surname);
        if (rng_per_mille(&r, 10))
            born = typo_dob(&r, born);
        if (rng_per_mille(&r, 200)) { /* died at another address, e.g. a care home */
            size_t area = 0;
            for (size_t a = 0; a < NELEMS(areas); a++)
                if (strncmp(postcode, areas[a].area, strlen(areas[a].area)) == 0 &&
                    !isalpha((unsigned char)postcode[strlen(areas[a].area)]))
                    area = a;
            new_postcode(&r, area, postcode);
        }
    }
    format_date(dob, sizeof dob, born, false);
    format_date(died, sizeof died, d->day, false);
    /* the register records sex as 1 or 2, else leaves it empty */
    const char sex[2] = {p->sex == '1' || p->sex == '2' ? p->sex : '\0', '\0'};
    const char *f[] = {nhs, forename, surname, dob, sex, postcode, died};
    csv_write_row(out, f, NELEMS(f));
}

int sim_write_deaths(const sim_t *self, FILE *deaths, FILE *truth)
{
    assert(self);
    static const char *const head[] = {"nhs_number", "forename", "surname",      "date_of_birth",
                                       "sex",        "postcode", "date_of_death"};
    static const char *const truth_head[] = {"row", "patient_id"};
    if (deaths)
        csv_write_row(deaths, head, NELEMS(head));
    if (truth)
        csv_write_row(truth, truth_head, NELEMS(truth_head));
    for (size_t k = 0; k < self->ndeaths; k++) {
        if (deaths)
            write_death(self, k, deaths);
        if (truth) {
            const death_t *d = &self->deaths[k];
            char row[24], patient[16] = "";
            snprintf(row, sizeof row, "%zu", k + 2);
            if (!d->other)
                snprintf(patient, sizeof patient, "%u", self->patients[d->person].id);
            const char *f[] = {row, patient};
            csv_write_row(truth, f, NELEMS(f));
        }
    }
    return (deaths && ferror(deaths)) || (truth && ferror(truth)) ? -1 : 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int sim_write_optouts(const sim_t *self, FILE *out)
{
    assert(self);
    size_t n = self->stats.opted_out + self->noptout_others;
    uint64_t *list = malloc((n ? n : 1) * sizeof *list);
    if (!list)
        return -1;
    size_t k = 0;
    for (size_t i = 0; i < self->npatients; i++)
        if (self->patients[i].opted_out)
            list[k++] = strtoull(self->patients[i].nhs, NULL, 10);
    for (size_t i = 0; i < self->noptout_others; i++)
        list[k++] = strtoull(self->others[i].nhs, NULL, 10);
    qsort(list, k, sizeof *list, cmp_u64); /* in number order, as an extract comes */
    fputs("nhs_number\n", out);
    for (size_t i = 0; i < k; i++)
        fprintf(out, "%010llu\n", (unsigned long long)list[i]);
    free(list);
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
    if (s->problems) {
        fprintf(out, "sim: rows with a problem on purpose: %zu (", s->problems);
        bool first = true;
        for (int k = 1; k < SIM_NPROBLEM_KINDS; k++) {
            if (!self->opts.problems[k])
                continue;
            fprintf(out, "%s%u %s", first ? "" : ", ", self->opts.problems[k],
                    problem_kinds[k].name);
            first = false;
        }
        fputs(")\n", out);
    }
    fprintf(out,
            "sim: deaths in the register: %zu (%zu not in the audit), opted out: %zu patients\n",
            self->ndeaths, self->nothers - self->noptout_others, s->opted_out);
    fputs("sim: poorer-performing trusts:", out);
    write_trust_list(self, out, true);
    fputs("sim: trusts writing UK-style dates:", out);
    write_trust_list(self, out, false);
}
