/* people.c - the people of the simulation: patients (names, dates of birth, unique NHS numbers,
 * postcodes, LSOAs), people not in the audit, and the noise their identifiers pick up when written
 * again (nicknames, typos, changed surnames, mistyped NHS numbers and dates of birth). */
#include "sim_internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"
#include "lsoa11.h"
#include "nhs_number.h"

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

/* A unique number, among all the simulation gives, that nhs_number_check finds want; its first
 * digit one of first (drawn when more than one). */
static void new_unique_number(sim_t *self, rng_t *r, const char *first, nhs_number_status_t want,
                              char out[11])
{
    size_t nfirst = strlen(first);
    for (;;) {
        out[0] = nfirst > 1 ? first[rng_below(r, (uint32_t)nfirst)] : first[0];
        for (int i = 1; i < 9; i++)
            out[i] = (char)('0' + rng_below(r, 10));
        int cd = nhs_number_check_digit(out);
        if (cd == 10)
            continue;
        out[9] = (char)('0' + cd);
        out[10] = '\0';
        if (nhs_number_check(out, NULL) == want && nhs_set_add(self, strtoull(out, NULL, 10)))
            return;
    }
}

/* A unique, valid NHS number in the issued ranges (starting 4, 6 or 7: not the test range). */
static void new_nhs_number(sim_t *self, rng_t *r, char out[11])
{
    new_unique_number(self, r, "467", NHS_NUMBER_VALID, out);
}

void sim_new_test_number(sim_t *self, rng_t *r, char out[11])
{
    new_unique_number(self, r, "9", NHS_NUMBER_TEST, out);
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

/* age < 0: a hip fracture patient's age, drawn after the names */
static uint32_t new_patient(sim_t *self, const trust_t *t, int64_t arrival_day, int age,
                            const unsigned sex_w[4])
{
    rng_t *r = &self->rng;
    patient_t *p = &self->patients[self->npatients];
    p->sex = sim_sex_codes[rng_pick(r, sex_w, 4)][0];
    p->male_name = p->sex == '1' || ((p->sex == '9' || p->sex == 'X') && rng_per_mille(r, 500));
    p->forename = (uint16_t)rng_below(r, p->male_name ? (uint32_t)NELEMS(male_names)
                                                      : (uint32_t)NELEMS(female_names));
    p->surname = (uint16_t)rng_below(r, (uint32_t)NELEMS(surnames));
    if (age < 0)
        age = age_at_arrival(r);
    p->dob = (int32_t)(arrival_day - (age * 365 + age / 4) - rng_below(r, 365));
    new_nhs_number(self, r, p->nhs);
    sim_new_postcode(r, rng_per_mille(r, 900) ? t->area : sim_random_area(r), p->postcode);
    p->lsoa = lsoa11_number(rng_below(r, LSOA11_COUNT));
    p->ethnic = (uint8_t)PICK(r, sim_ethnic_w);
    return (uint32_t)self->npatients++;
}

uint32_t sim_new_patient(sim_t *self, const trust_t *t, int64_t arrival_day)
{
    return new_patient(self, t, arrival_day, -1, sim_sex_w);
}

uint32_t sim_new_patient_aged(sim_t *self, const trust_t *t, int64_t arrival_day, int age,
                              const unsigned sex_w[4])
{
    return new_patient(self, t, arrival_day, age, sex_w);
}

const char *sim_patient_forename(const patient_t *p)
{
    return p->male_name ? male_names[p->forename].name : female_names[p->forename].name;
}

const char *sim_patient_surname(const patient_t *p)
{
    return surnames[p->surname];
}

size_t sim_forename_count(bool male)
{
    return male ? NELEMS(male_names) : NELEMS(female_names);
}

const char *sim_forename_at(bool male, size_t i)
{
    return male ? male_names[i].name : female_names[i].name;
}

const char *sim_forename_nick(bool male, size_t i)
{
    return male ? male_names[i].nick : female_names[i].nick;
}

size_t sim_surname_count(void)
{
    return NELEMS(surnames);
}

const char *sim_surname_at(size_t i)
{
    return surnames[i];
}

static const char *patient_nickname(const patient_t *p)
{
    return p->male_name ? male_names[p->forename].nick : female_names[p->forename].nick;
}

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
int32_t sim_typo_dob(rng_t *r, int32_t dob)
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

void sim_typo_any(rng_t *r, char *s, size_t size)
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
void sim_change_surname(rng_t *r, const patient_t *p, char *s, size_t size)
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
void sim_names_at_repeat(sim_t *self, rec_t *rec)
{
    rng_t *r = &self->rng;
    const patient_t *p = &self->patients[rec->patient];
    snprintf(rec->forename, sizeof rec->forename, "%s", sim_patient_forename(p));
    snprintf(rec->surname, sizeof rec->surname, "%s", surnames[p->surname]);
    unsigned x = rng_below(r, 1000);
    if (x < 120 && patient_nickname(p))
        snprintf(rec->forename, sizeof rec->forename, "%s", patient_nickname(p));
    else if (x < 200)
        sim_typo_any(r, rec->forename, sizeof rec->forename);
    x = rng_below(r, 1000);
    if (x < 80)
        sim_typo_any(r, rec->surname, sizeof rec->surname);
    else if (x < 100)
        sim_change_surname(r, p, rec->surname, sizeof rec->surname);
    if (rng_per_mille(r, 10)) {
        char tmp[sizeof rec->forename];
        snprintf(tmp, sizeof tmp, "%s", rec->forename);
        snprintf(rec->forename, sizeof rec->forename, "%.*s", (int)sizeof rec->forename - 1,
                 rec->surname);
        snprintf(rec->surname, sizeof rec->surname, "%s", tmp);
    }
}

void sim_mistype(rng_t *r, char nhs[11])
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

/* Someone of the patients' age not in the audit. When twin, with the name of an audit patient
 * and a postcode in the same area (a different person the register holds under that name). */
void sim_new_other(sim_t *self, rng_t *r, patient_t *o, const patient_t *twin, int64_t day)
{
    memset(o, 0, sizeof *o);
    o->sex = sim_sex_codes[rng_per_mille(r, 400) ? 0 : 1][0];
    o->male_name = o->sex == '1';
    o->forename = (uint16_t)rng_below(r, o->male_name ? (uint32_t)NELEMS(male_names)
                                                      : (uint32_t)NELEMS(female_names));
    o->surname = (uint16_t)rng_below(r, (uint32_t)NELEMS(surnames));
    int age = age_at_arrival(r);
    o->dob = (int32_t)(day - (age * 365 + age / 4) - rng_below(r, 365));
    size_t area = sim_random_area(r);
    if (twin) {
        o->sex = twin->sex;
        o->male_name = twin->male_name;
        o->forename = twin->forename;
        o->surname = twin->surname;
        area = sim_postcode_area(twin->postcode, area);
    }
    sim_new_postcode(r, area, o->postcode);
    new_nhs_number(self, r, o->nhs); /* unique among everyone */
}
