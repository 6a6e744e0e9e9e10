/* trusts.c - the simulated trusts (codes of real English acute trusts, sites, sizes, the way each
 * writes its file) and the postcode areas they serve. */
#include "sim_internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

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

/* The post town of each area, in the order of areas (for the city written with an address). */
static const char *const area_towns[] = {
    "Exeter",        "Oxford",
    "London",        "London",
    "London",        "Cambridge",
    "Norwich",       "Newcastle upon Tyne",
    "Nottingham",    "Plymouth",
    "Bristol",       "Dorchester",
    "Colchester",    "Ipswich",
    "Portsmouth",    "Stoke-on-Trent",
    "Leicester",     "Middlesbrough",
    "York",          "Preston",
    "Leeds",         "Sheffield",
    "Birmingham",    "Manchester",
    "Liverpool",     "Lincoln",
    "Gloucester",    "Bath",
    "Swindon",       "Torquay",
    "Truro",         "Northampton",
    "Worcester",     "Hereford",
    "Blackburn",     "Hull",
    "Coventry",      "London",
    "Canterbury",    "Rochester",
    "Brighton",      "Southampton",
    "Reading",       "London",
    "Romford",       "Luton",
    "Peterborough",  "Watford",
    "Southall",      "Kingston upon Thames",
    "Sunderland",    "Darlington",
    "Bradford",      "Huddersfield",
    "Doncaster",     "Crewe",
    "Chester",       "Bolton",
    "Wigan",         "Dudley",
    "Wolverhampton", "Shrewsbury",
    "Milton Keynes", "Hemel Hempstead",
    "Dartford",      "Southend-on-Sea",
    "Chelmsford",    "Stevenage",
    "Derby",         "Walsall",
    "Stockport",     "Oldham",
    "Warrington",    "Lancaster",
    "Carlisle",      "Harrogate",
    "Taunton",       "Salisbury",
    "Guildford",     "Redhill",
};
_Static_assert(sizeof area_towns / sizeof area_towns[0] == sizeof areas / sizeof areas[0],
               "a post town for each postcode area");

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

static const char unit_letters[] = "ABDEFGHJLNPQRSTUWXYZ";

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

void sim_trust_codes(size_t k, char (*out)[8])
{
    size_t next_generated = 0;
    for (size_t i = 0; i < k; i++)
        trust_code(i, &next_generated, out[i]);
}

void sim_build_trusts(sim_t *self, uint32_t *perm)
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
void sim_split_records(sim_t *self, size_t *count, uint64_t *rem)
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

void sim_new_postcode(rng_t *r, size_t area, char out[9])
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

size_t sim_random_area(rng_t *r)
{
    return rng_below(r, (uint32_t)NELEMS(areas));
}

size_t sim_postcode_area(const char *postcode, size_t otherwise)
{
    size_t area = otherwise;
    for (size_t a = 0; a < NELEMS(areas); a++)
        if (strncmp(postcode, areas[a].area, strlen(areas[a].area)) == 0 &&
            !isalpha((unsigned char)postcode[strlen(areas[a].area)]))
            area = a;
    return area;
}

const char *sim_area_town(size_t area)
{
    return area < NELEMS(area_towns) ? area_towns[area] : "";
}
