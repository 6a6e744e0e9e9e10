/* expr.c - the expression language of audit definitions: a tokenizer, a recursive-descent parser
 * building a tree, and an evaluator over typed values with SQL-like null.
 *
 * Precedence, loosest first: or, and, not, comparison (not chained), + -, * /, unary minus, then
 * calls and atoms. Division by zero gives null (a data fault, not a definition fault). */
#include "expr.h"

#include <assert.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "datetime.h"

/* ---------------------------------------------------------------- tree */

typedef enum {
    N_LIT,
    N_FIELD,
    N_NOT,
    N_NEG,
    N_AND,
    N_OR,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_ADD,
    N_SUB,
    N_MUL,
    N_DIV,
    N_CALL
} node_kind_t;

typedef enum {
    F_PRESENT,
    F_EMPTY,
    F_HOURS_BETWEEN,
    F_DAYS_BETWEEN,
    F_IN,
    F_AGE_YEARS,
    F_BAND,
    F_COALESCE,
    F_YEAR,
    F_MONTH
} fn_t;

static const struct {
    const char *name;
    fn_t fn;
    size_t min_args;
    size_t max_args; /* 0: any number */
} functions[] = {
    {"present", F_PRESENT, 1, 1},
    {"empty", F_EMPTY, 1, 1},
    {"hours_between", F_HOURS_BETWEEN, 2, 2},
    {"days_between", F_DAYS_BETWEEN, 2, 2},
    {"in", F_IN, 2, 0},
    {"age_years", F_AGE_YEARS, 2, 2},
    {"band", F_BAND, 2, 0},
    {"coalesce", F_COALESCE, 1, 0},
    {"year", F_YEAR, 1, 1},
    {"month", F_MONTH, 1, 1},
};
#define N_FUNCTIONS (sizeof functions / sizeof functions[0])

typedef struct node node_t;
struct node {
    node_kind_t kind;
    int column;
    expr_value_t lit; /* N_LIT */
    char *text;       /* N_FIELD: the name; N_LIT string: the text (lit.str points here) */
    int slot;         /* N_FIELD: the slot expr_bind gave it, or -1 */
    size_t fn_index;  /* N_CALL: index in functions[] */
    node_t **args;    /* operands of operators, arguments of calls */
    size_t n_args;
    double *cuts;  /* band(): cut points, ascending */
    char **labels; /* band(): n_args labels ("<c1", ..., "ck+") */
};

struct expr_t {
    node_t *root;
};

static void node_free(node_t *n)
{
    if (!n)
        return;
    for (size_t i = 0; i < n->n_args; i++)
        node_free(n->args[i]);
    if (n->labels)
        for (size_t i = 0; i < n->n_args; i++)
            free(n->labels[i]);
    free(n->labels);
    free(n->cuts);
    free(n->args);
    free(n->text);
    free(n);
}

static node_t *node_new(node_kind_t kind, int column)
{
    node_t *n = calloc(1, sizeof *n);
    if (n) {
        n->kind = kind;
        n->column = column;
        n->slot = -1;
    }
    return n;
}

static int node_add_arg(node_t *n, node_t *arg)
{
    node_t **args = realloc(n->args, (n->n_args + 1) * sizeof *args);
    if (!args)
        return -1;
    n->args = args;
    n->args[n->n_args++] = arg;
    return 0;
}

/* ---------------------------------------------------------------- tokens */

typedef enum { T_END, T_NUMBER, T_STRING, T_IDENT, T_OP } tok_kind_t;

typedef struct {
    tok_kind_t kind;
    int column; /* 1-based */
    const char *start;
    size_t len;
    double num;
} token_t;

typedef struct {
    const char *src;
    size_t pos;
    token_t tok; /* current token */
    char *err;
    size_t errlen;
    bool failed;
} parser_t;

static void fail(parser_t *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(parser_t *p, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    if (p->err && p->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(p->err, p->errlen, fmt, ap);
        va_end(ap);
    }
}

static bool is_ident_start(char c)
{
    return (c >= 'a' && c <= 'z') || c == '_';
}

static bool is_ident_char(char c)
{
    return is_ident_start(c) || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* Reads the next token into p->tok. */
static void next(parser_t *p)
{
    const char *s = p->src;
    while (s[p->pos] == ' ' || s[p->pos] == '\t' || s[p->pos] == '\n' || s[p->pos] == '\r')
        p->pos++;
    token_t *t = &p->tok;
    t->start = s + p->pos;
    t->column = (int)p->pos + 1;
    char c = s[p->pos];
    if (c == '\0') {
        t->kind = T_END;
        t->len = 0;
        return;
    }
    size_t i = p->pos;
    if (is_digit(c) || (c == '.' && is_digit(s[i + 1]))) {
        while (is_digit(s[i]))
            i++;
        if (s[i] == '.') {
            i++;
            if (!is_digit(s[i])) {
                fail(p, "malformed number at column %d", t->column);
                return;
            }
            while (is_digit(s[i]))
                i++;
        }
        if (is_ident_char(s[i]) || s[i] == '.') {
            fail(p, "malformed number at column %d", t->column);
            return;
        }
        t->kind = T_NUMBER;
        t->num = strtod(t->start, NULL);
    } else if (is_ident_start(c)) {
        while (is_ident_char(s[i]))
            i++;
        t->kind = T_IDENT;
    } else if (c == '\'') {
        i++;
        for (;;) {
            if (s[i] == '\0') {
                fail(p, "unterminated string starting at column %d", t->column);
                return;
            }
            if (s[i] == '\'') {
                if (s[i + 1] == '\'') {
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            i++;
        }
        t->kind = T_STRING;
    } else {
        t->kind = T_OP;
        if ((c == '=' || c == '!' || c == '<' || c == '>') && s[i + 1] == '=')
            i += 2;
        else if (strchr("<>+-*/(),", c))
            i++;
        else {
            if (c >= ' ' && c < 0x7f)
                fail(p, "unexpected character '%c' at column %d", c, t->column);
            else
                fail(p, "unexpected character at column %d", t->column);
            return;
        }
    }
    t->len = i - p->pos;
    p->pos = i;
}

static bool tok_is(const parser_t *p, const char *text)
{
    return (p->tok.kind == T_OP || p->tok.kind == T_IDENT) && p->tok.len == strlen(text) &&
           strncmp(p->tok.start, text, p->tok.len) == 0;
}

static void unexpected(parser_t *p)
{
    if (p->tok.kind == T_END)
        fail(p, "unexpected end of expression at column %d", p->tok.column);
    else
        fail(p, "unexpected '%.*s' at column %d", (int)(p->tok.len > 40 ? 40 : p->tok.len),
             p->tok.start, p->tok.column);
}

static bool expect(parser_t *p, const char *text)
{
    if (p->failed)
        return false;
    if (!tok_is(p, text)) {
        if (p->tok.kind == T_END)
            fail(p, "expected '%s' at column %d, found the end of the expression", text,
                 p->tok.column);
        else
            fail(p, "expected '%s' at column %d, found '%.*s'", text, p->tok.column,
                 (int)(p->tok.len > 40 ? 40 : p->tok.len), p->tok.start);
        return false;
    }
    next(p);
    return !p->failed;
}

/* ---------------------------------------------------------------- parser */

static node_t *parse_or(parser_t *p);

static node_t *oom(parser_t *p)
{
    fail(p, "out of memory");
    return NULL;
}

static node_t *binary(parser_t *p, node_kind_t kind, int column, node_t *left, node_t *right)
{
    node_t *n = node_new(kind, column);
    if (!n || node_add_arg(n, left) || node_add_arg(n, right)) {
        if (n && n->n_args == 1)
            n->n_args = 0; /* left is freed below */
        node_free(n);
        node_free(left);
        node_free(right);
        return oom(p);
    }
    return n;
}

static node_t *unary(parser_t *p, node_kind_t kind, int column, node_t *operand)
{
    node_t *n = node_new(kind, column);
    if (!n || node_add_arg(n, operand)) {
        node_free(n);
        node_free(operand);
        return oom(p);
    }
    return n;
}

/* band(x, c1, ..., ck): the cut points must be ascending whole-number constants. */
static int prepare_band(parser_t *p, node_t *call)
{
    size_t k = call->n_args - 1;
    call->cuts = calloc(k, sizeof *call->cuts);
    call->labels = calloc(call->n_args, sizeof *call->labels);
    if (!call->cuts || !call->labels) {
        oom(p);
        return -1;
    }
    for (size_t i = 0; i < k; i++) {
        const node_t *a = call->args[i + 1];
        double v;
        if (a->kind == N_LIT && a->lit.kind == EXPR_NUMBER)
            v = a->lit.num;
        else if (a->kind == N_NEG && a->args[0]->kind == N_LIT &&
                 a->args[0]->lit.kind == EXPR_NUMBER)
            v = -a->args[0]->lit.num;
        else {
            fail(p, "band() cut points must be numbers written in the expression, at column %d",
                 a->column);
            return -1;
        }
        if (v != (double)(long long)v || v > 1e15 || v < -1e15) {
            fail(p, "band() cut points must be whole numbers, at column %d", a->column);
            return -1;
        }
        if (i > 0 && v <= call->cuts[i - 1]) {
            fail(p, "band() cut points must be in ascending order, at column %d", a->column);
            return -1;
        }
        call->cuts[i] = v;
    }
    for (size_t i = 0; i <= k; i++) {
        char buf[80];
        if (i == 0)
            snprintf(buf, sizeof buf, "<%.0f", call->cuts[0]);
        else if (i == k)
            snprintf(buf, sizeof buf, "%.0f+", call->cuts[k - 1]);
        else
            snprintf(buf, sizeof buf, "%.0f-%.0f", call->cuts[i - 1], call->cuts[i] - 1);
        call->labels[i] = strdup(buf);
        if (!call->labels[i]) {
            oom(p);
            return -1;
        }
    }
    return 0;
}

static node_t *parse_call(parser_t *p, size_t fn_index, int column)
{
    node_t *call = node_new(N_CALL, column);
    if (!call)
        return oom(p);
    call->fn_index = fn_index;
    next(p); /* the name */
    if (!expect(p, "(")) {
        node_free(call);
        return NULL;
    }
    if (!tok_is(p, ")")) {
        for (;;) {
            node_t *arg = parse_or(p);
            if (!arg) {
                node_free(call);
                return NULL;
            }
            if (node_add_arg(call, arg)) {
                node_free(arg);
                node_free(call);
                return oom(p);
            }
            if (!tok_is(p, ","))
                break;
            next(p);
            if (p->failed) {
                node_free(call);
                return NULL;
            }
        }
    }
    if (!expect(p, ")")) {
        node_free(call);
        return NULL;
    }
    const char *name = functions[fn_index].name;
    size_t lo = functions[fn_index].min_args, hi = functions[fn_index].max_args;
    if (call->n_args < lo || (hi && call->n_args > hi)) {
        if (lo == hi)
            fail(p, "%s() takes %zu argument%s, not %zu, at column %d", name, lo,
                 lo == 1 ? "" : "s", call->n_args, column);
        else
            fail(p, "%s() takes at least %zu argument%s, not %zu, at column %d", name, lo,
                 lo == 1 ? "" : "s", call->n_args, column);
        node_free(call);
        return NULL;
    }
    if (functions[fn_index].fn == F_BAND && prepare_band(p, call)) {
        node_free(call);
        return NULL;
    }
    return call;
}

static node_t *parse_primary(parser_t *p)
{
    if (p->failed)
        return NULL;
    token_t t = p->tok;
    if (t.kind == T_NUMBER) {
        node_t *n = node_new(N_LIT, t.column);
        if (!n)
            return oom(p);
        n->lit.kind = EXPR_NUMBER;
        n->lit.num = t.num;
        next(p);
        return n;
    }
    if (t.kind == T_STRING) {
        node_t *n = node_new(N_LIT, t.column);
        char *text = malloc(t.len);
        if (!n || !text) {
            free(text);
            node_free(n);
            return oom(p);
        }
        size_t o = 0;
        for (size_t i = 1; i + 1 < t.len; i++) {
            text[o++] = t.start[i];
            if (t.start[i] == '\'')
                i++; /* '' is one quote */
        }
        text[o] = '\0';
        n->text = text;
        n->lit.kind = EXPR_STRING;
        n->lit.str = text;
        next(p);
        return n;
    }
    if (t.kind == T_IDENT) {
        if (tok_is(p, "true") || tok_is(p, "false") || tok_is(p, "null")) {
            node_t *n = node_new(N_LIT, t.column);
            if (!n)
                return oom(p);
            if (tok_is(p, "null"))
                n->lit.kind = EXPR_NULL;
            else {
                n->lit.kind = EXPR_BOOL;
                n->lit.b = tok_is(p, "true");
            }
            next(p);
            return n;
        }
        if (tok_is(p, "and") || tok_is(p, "or") || tok_is(p, "not")) {
            unexpected(p);
            return NULL;
        }
        /* a name followed by '(' is a call */
        size_t look = p->pos;
        while (p->src[look] == ' ' || p->src[look] == '\t')
            look++;
        if (p->src[look] == '(') {
            for (size_t i = 0; i < N_FUNCTIONS; i++)
                if (tok_is(p, functions[i].name))
                    return parse_call(p, i, t.column);
            fail(p, "unknown function \"%.*s\" at column %d", (int)(t.len > 40 ? 40 : t.len),
                 t.start, t.column);
            return NULL;
        }
        node_t *n = node_new(N_FIELD, t.column);
        if (!n || !(n->text = strndup(t.start, t.len))) {
            node_free(n);
            return oom(p);
        }
        next(p);
        return n;
    }
    if (tok_is(p, "(")) {
        next(p);
        node_t *inner = parse_or(p);
        if (!inner)
            return NULL;
        if (!expect(p, ")")) {
            node_free(inner);
            return NULL;
        }
        return inner;
    }
    unexpected(p);
    return NULL;
}

static node_t *parse_unary(parser_t *p)
{
    if (p->failed)
        return NULL;
    if (tok_is(p, "-")) {
        int column = p->tok.column;
        next(p);
        node_t *operand = parse_unary(p);
        return operand ? unary(p, N_NEG, column, operand) : NULL;
    }
    return parse_primary(p);
}

static node_t *parse_mul(parser_t *p)
{
    node_t *left = parse_unary(p);
    while (left && (tok_is(p, "*") || tok_is(p, "/"))) {
        node_kind_t kind = tok_is(p, "*") ? N_MUL : N_DIV;
        int column = p->tok.column;
        next(p);
        node_t *right = parse_unary(p);
        if (!right) {
            node_free(left);
            return NULL;
        }
        left = binary(p, kind, column, left, right);
    }
    return left;
}

static node_t *parse_add(parser_t *p)
{
    node_t *left = parse_mul(p);
    while (left && (tok_is(p, "+") || tok_is(p, "-"))) {
        node_kind_t kind = tok_is(p, "+") ? N_ADD : N_SUB;
        int column = p->tok.column;
        next(p);
        node_t *right = parse_mul(p);
        if (!right) {
            node_free(left);
            return NULL;
        }
        left = binary(p, kind, column, left, right);
    }
    return left;
}

static node_t *parse_cmp(parser_t *p)
{
    node_t *left = parse_add(p);
    if (!left)
        return NULL;
    static const struct {
        const char *op;
        node_kind_t kind;
    } ops[] = {{"==", N_EQ}, {"!=", N_NE}, {"<=", N_LE}, {">=", N_GE}, {"<", N_LT}, {">", N_GT}};
    for (size_t i = 0; i < sizeof ops / sizeof ops[0]; i++) {
        if (tok_is(p, ops[i].op)) {
            int column = p->tok.column;
            next(p);
            node_t *right = parse_add(p);
            if (!right) {
                node_free(left);
                return NULL;
            }
            return binary(p, ops[i].kind, column, left, right);
        }
    }
    return left;
}

static node_t *parse_not(parser_t *p)
{
    if (p->failed)
        return NULL;
    if (tok_is(p, "not")) {
        int column = p->tok.column;
        next(p);
        node_t *operand = parse_not(p);
        return operand ? unary(p, N_NOT, column, operand) : NULL;
    }
    return parse_cmp(p);
}

static node_t *parse_and(parser_t *p)
{
    node_t *left = parse_not(p);
    while (left && tok_is(p, "and")) {
        int column = p->tok.column;
        next(p);
        node_t *right = parse_not(p);
        if (!right) {
            node_free(left);
            return NULL;
        }
        left = binary(p, N_AND, column, left, right);
    }
    return left;
}

static node_t *parse_or(parser_t *p)
{
    node_t *left = parse_and(p);
    while (left && tok_is(p, "or")) {
        int column = p->tok.column;
        next(p);
        node_t *right = parse_and(p);
        if (!right) {
            node_free(left);
            return NULL;
        }
        left = binary(p, N_OR, column, left, right);
    }
    return left;
}

expr_t *expr_parse(const char *src, char *err, size_t errlen)
{
    if (err && errlen)
        err[0] = '\0';
    parser_t p = {.src = src ? src : "", .err = err, .errlen = errlen};
    next(&p);
    node_t *root = p.failed ? NULL : parse_or(&p);
    if (root && !p.failed && p.tok.kind != T_END)
        unexpected(&p);
    if (p.failed) {
        node_free(root);
        return NULL;
    }
    expr_t *self = calloc(1, sizeof *self);
    if (!self) {
        node_free(root);
        fail(&p, "out of memory");
        return NULL;
    }
    self->root = root;
    return self;
}

void expr_destroy(expr_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_free((*self_p)->root);
    free(*self_p);
    *self_p = NULL;
}

/* ---------------------------------------------------------------- evaluation */

typedef struct {
    expr_lookup_fn lookup;
    expr_slot_fn slot_fn; /* for bound fields, instead of lookup */
    void *ctx;
    char *err;
    size_t errlen;
} eval_t;

static int eval_fail(eval_t *ev, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int eval_fail(eval_t *ev, const char *fmt, ...)
{
    if (ev->err && ev->errlen) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(ev->err, ev->errlen, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const char *kind_name(expr_kind_t k)
{
    switch (k) {
    case EXPR_NULL:
        return "null";
    case EXPR_BOOL:
        return "true/false";
    case EXPR_NUMBER:
        return "a number";
    case EXPR_STRING:
        return "text";
    case EXPR_TIME:
        return "a date/time";
    }
    return "?";
}

static const char *op_name(node_kind_t k)
{
    switch (k) {
    case N_AND:
        return "and";
    case N_OR:
        return "or";
    case N_NOT:
        return "not";
    case N_NEG:
        return "-";
    case N_EQ:
        return "==";
    case N_NE:
        return "!=";
    case N_LT:
        return "<";
    case N_LE:
        return "<=";
    case N_GT:
        return ">";
    case N_GE:
        return ">=";
    case N_ADD:
        return "+";
    case N_SUB:
        return "-";
    case N_MUL:
        return "*";
    case N_DIV:
        return "/";
    default:
        return "?";
    }
}

static expr_value_t v_null(void)
{
    expr_value_t v = {.kind = EXPR_NULL};
    return v;
}

static expr_value_t v_bool(bool b)
{
    expr_value_t v = {.kind = EXPR_BOOL, .b = b};
    return v;
}

static expr_value_t v_number(double num)
{
    expr_value_t v = {.kind = EXPR_NUMBER, .num = num};
    return v;
}

/* Whole numbers are the common case (ages, scores): written without printf. */
static void format_number(double num, char *out, size_t outlen)
{
    if (num > -1e15 && num < 1e15 && num == (double)(long long)num && outlen >= 18) {
        long long n = (long long)num;
        char digits[20];
        size_t k = 0;
        unsigned long long u = n < 0 ? 0ULL - (unsigned long long)n : (unsigned long long)n;
        do {
            digits[k++] = (char)('0' + u % 10);
            u /= 10;
        } while (u);
        size_t o = 0;
        if (n < 0)
            out[o++] = '-';
        while (k)
            out[o++] = digits[--k];
        out[o] = '\0';
    } else if (num > -1e15 && num < 1e15 && num == (double)(long long)num)
        snprintf(out, outlen, "%lld", (long long)num);
    else
        snprintf(out, outlen, "%.15g", num);
}

/* A time from a time, or from text that reads as a date or date and time.
 * Returns 1 with *t, 0 for null, -1 for any other value. */
static int as_time(const expr_value_t *v, int64_t *t)
{
    if (v->kind == EXPR_NULL)
        return 0;
    if (v->kind == EXPR_TIME) {
        *t = v->time;
        return 1;
    }
    if (v->kind == EXPR_STRING && ncap_datetime_parse(v->str, t, NULL) == 0)
        return 1;
    return -1;
}

static bool is_empty_value(const expr_value_t *v)
{
    return v->kind == EXPR_NULL || (v->kind == EXPR_STRING && (!v->str || v->str[0] == '\0'));
}

/* Compares two non-null values: *cmp < 0, 0, > 0. Returns 0, or -1 when they do not compare
 * (an error is written). ordered: <, <=, >, >= rather than == or !=. */
static int compare(eval_t *ev, node_kind_t op, const expr_value_t *a, const expr_value_t *b,
                   int *cmp)
{
    bool ordered = op != N_EQ && op != N_NE;
    if (a->kind == EXPR_NUMBER && b->kind == EXPR_NUMBER) {
        *cmp = (a->num > b->num) - (a->num < b->num);
        return 0;
    }
    if (a->kind == EXPR_STRING && b->kind == EXPR_STRING) {
        *cmp = strcmp(a->str, b->str);
        return 0;
    }
    int64_t ta, tb;
    if ((a->kind == EXPR_TIME || b->kind == EXPR_TIME) && as_time(a, &ta) == 1 &&
        as_time(b, &tb) == 1) {
        *cmp = (ta > tb) - (ta < tb);
        return 0;
    }
    if (!ordered && a->kind == EXPR_BOOL && b->kind == EXPR_BOOL) {
        *cmp = a->b != b->b;
        return 0;
    }
    if (!ordered && ((a->kind == EXPR_NUMBER && b->kind == EXPR_STRING) ||
                     (a->kind == EXPR_STRING && b->kind == EXPR_NUMBER))) {
        /* code lists: sex == 1 compares "1" with the code's text */
        char buf[40];
        const expr_value_t *n = a->kind == EXPR_NUMBER ? a : b;
        const expr_value_t *s = a->kind == EXPR_NUMBER ? b : a;
        format_number(n->num, buf, sizeof buf);
        *cmp = strcmp(buf, s->str);
        return 0;
    }
    return eval_fail(ev, "cannot compare %s with %s using '%s'", kind_name(a->kind),
                     kind_name(b->kind), op_name(op));
}

static int eval(const node_t *n, eval_t *ev, expr_value_t *out);

static int eval_logic(const node_t *n, eval_t *ev, expr_value_t *out)
{
    /* SQL three-valued logic; the right side is not evaluated when the left decides */
    expr_value_t a, b;
    if (eval(n->args[0], ev, &a))
        return -1;
    if (a.kind != EXPR_NULL && a.kind != EXPR_BOOL)
        return eval_fail(ev, "'%s' needs true/false values, got %s", op_name(n->kind),
                         kind_name(a.kind));
    bool is_and = n->kind == N_AND;
    if (a.kind == EXPR_BOOL && a.b != is_and) {
        *out = v_bool(a.b);
        return 0;
    }
    if (eval(n->args[1], ev, &b))
        return -1;
    if (b.kind != EXPR_NULL && b.kind != EXPR_BOOL)
        return eval_fail(ev, "'%s' needs true/false values, got %s", op_name(n->kind),
                         kind_name(b.kind));
    if (b.kind == EXPR_BOOL && b.b != is_and)
        *out = v_bool(b.b);
    else if (a.kind == EXPR_NULL || b.kind == EXPR_NULL)
        *out = v_null();
    else
        *out = v_bool(is_and);
    return 0;
}

static int eval_call(const node_t *n, eval_t *ev, expr_value_t *out)
{
    fn_t fn = functions[n->fn_index].fn;
    const char *name = functions[n->fn_index].name;
    expr_value_t a, b;

    switch (fn) {
    case F_PRESENT:
    case F_EMPTY:
        if (eval(n->args[0], ev, &a))
            return -1;
        *out = v_bool(is_empty_value(&a) == (fn == F_EMPTY));
        return 0;

    case F_HOURS_BETWEEN:
    case F_DAYS_BETWEEN:
    case F_AGE_YEARS: {
        if (eval(n->args[0], ev, &a) || eval(n->args[1], ev, &b))
            return -1;
        int64_t ta = 0, tb = 0;
        int ra = as_time(&a, &ta), rb = as_time(&b, &tb);
        if (ra < 0 || rb < 0)
            return eval_fail(ev, "%s() needs dates or times, got %s", name,
                             kind_name(ra < 0 ? a.kind : b.kind));
        if (ra == 0 || rb == 0)
            *out = v_null();
        else if (fn == F_AGE_YEARS)
            *out = v_number(ncap_age_years(ta, tb));
        else
            *out = v_number((double)(tb - ta) / (fn == F_HOURS_BETWEEN ? 3600.0 : 86400.0));
        return 0;
    }

    case F_YEAR:
    case F_MONTH: {
        if (eval(n->args[0], ev, &a))
            return -1;
        int64_t t = 0;
        int r = as_time(&a, &t);
        if (r < 0)
            return eval_fail(ev, "%s() needs a date or time, got %s", name, kind_name(a.kind));
        if (r == 0) {
            *out = v_null();
            return 0;
        }
        int64_t days = t / 86400 - (t % 86400 < 0);
        int y, m, d;
        ncap_civil_from_days(days, &y, &m, &d);
        *out = v_number(fn == F_YEAR ? y : m);
        return 0;
    }

    case F_IN:
        if (eval(n->args[0], ev, &a))
            return -1;
        if (a.kind == EXPR_NULL) {
            *out = v_null();
            return 0;
        }
        for (size_t i = 1; i < n->n_args; i++) {
            if (eval(n->args[i], ev, &b))
                return -1;
            if (b.kind == EXPR_NULL)
                continue;
            int cmp;
            if (compare(ev, N_EQ, &a, &b, &cmp))
                return -1;
            if (cmp == 0) {
                *out = v_bool(true);
                return 0;
            }
        }
        *out = v_bool(false);
        return 0;

    case F_BAND: {
        if (eval(n->args[0], ev, &a))
            return -1;
        if (a.kind == EXPR_NULL) {
            *out = v_null();
            return 0;
        }
        if (a.kind != EXPR_NUMBER)
            return eval_fail(ev, "band() needs a number, got %s", kind_name(a.kind));
        size_t k = n->n_args - 1, i = 0;
        while (i < k && a.num >= n->cuts[i])
            i++;
        out->kind = EXPR_STRING;
        out->str = n->labels[i];
        return 0;
    }

    case F_COALESCE:
        for (size_t i = 0; i < n->n_args; i++) {
            if (eval(n->args[i], ev, &a))
                return -1;
            if (!is_empty_value(&a)) {
                *out = a;
                return 0;
            }
        }
        *out = v_null();
        return 0;
    }
    return eval_fail(ev, "unknown function %s()", name);
}

static int eval(const node_t *n, eval_t *ev, expr_value_t *out)
{
    expr_value_t a, b;
    memset(out, 0, sizeof *out);
    switch (n->kind) {
    case N_LIT:
        *out = n->lit;
        return 0;

    case N_FIELD:
        memset(&a, 0, sizeof a);
        if (ev->slot_fn && n->slot >= 0) {
            ev->slot_fn(ev->ctx, n->slot, &a);
            *out = a;
            return 0;
        }
        if (!ev->lookup || ev->lookup(ev->ctx, n->text, &a) != 0)
            return eval_fail(ev, "unknown field \"%s\"", n->text);
        *out = a;
        return 0;

    case N_NOT:
        if (eval(n->args[0], ev, &a))
            return -1;
        if (a.kind == EXPR_NULL)
            *out = v_null();
        else if (a.kind == EXPR_BOOL)
            *out = v_bool(!a.b);
        else
            return eval_fail(ev, "'not' needs true/false, got %s", kind_name(a.kind));
        return 0;

    case N_NEG:
        if (eval(n->args[0], ev, &a))
            return -1;
        if (a.kind == EXPR_NULL)
            *out = v_null();
        else if (a.kind == EXPR_NUMBER)
            *out = v_number(-a.num);
        else
            return eval_fail(ev, "'-' needs a number, got %s", kind_name(a.kind));
        return 0;

    case N_AND:
    case N_OR:
        return eval_logic(n, ev, out);

    case N_EQ:
    case N_NE:
    case N_LT:
    case N_LE:
    case N_GT:
    case N_GE: {
        if (eval(n->args[0], ev, &a) || eval(n->args[1], ev, &b))
            return -1;
        if (a.kind == EXPR_NULL || b.kind == EXPR_NULL) {
            *out = v_null();
            return 0;
        }
        int c;
        if (compare(ev, n->kind, &a, &b, &c))
            return -1;
        bool r = n->kind == N_EQ   ? c == 0
                 : n->kind == N_NE ? c != 0
                 : n->kind == N_LT ? c < 0
                 : n->kind == N_LE ? c <= 0
                 : n->kind == N_GT ? c > 0
                                   : c >= 0;
        *out = v_bool(r);
        return 0;
    }

    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV:
        if (eval(n->args[0], ev, &a) || eval(n->args[1], ev, &b))
            return -1;
        if ((a.kind != EXPR_NULL && a.kind != EXPR_NUMBER) ||
            (b.kind != EXPR_NULL && b.kind != EXPR_NUMBER))
            return eval_fail(
                ev, "'%s' needs numbers, got %s", op_name(n->kind),
                kind_name(a.kind != EXPR_NULL && a.kind != EXPR_NUMBER ? a.kind : b.kind));
        if (a.kind == EXPR_NULL || b.kind == EXPR_NULL || (n->kind == N_DIV && b.num == 0))
            *out = v_null();
        else if (n->kind == N_ADD)
            *out = v_number(a.num + b.num);
        else if (n->kind == N_SUB)
            *out = v_number(a.num - b.num);
        else if (n->kind == N_MUL)
            *out = v_number(a.num * b.num);
        else
            *out = v_number(a.num / b.num);
        return 0;

    case N_CALL:
        return eval_call(n, ev, out);
    }
    return eval_fail(ev, "bad expression");
}

int expr_eval(const expr_t *self, expr_lookup_fn lookup, void *ctx, expr_value_t *out, char *err,
              size_t errlen)
{
    assert(self);
    assert(out);
    if (err && errlen)
        err[0] = '\0';
    eval_t ev = {.lookup = lookup, .ctx = ctx, .err = err, .errlen = errlen};
    if (eval(self->root, &ev, out)) {
        *out = v_null();
        return -1;
    }
    return 0;
}

int expr_eval_bound(const expr_t *self, expr_slot_fn fn, void *ctx, expr_value_t *out, char *err,
                    size_t errlen)
{
    assert(self);
    assert(out);
    if (err && errlen)
        err[0] = '\0';
    eval_t ev = {.slot_fn = fn, .ctx = ctx, .err = err, .errlen = errlen};
    if (eval(self->root, &ev, out)) {
        *out = v_null();
        return -1;
    }
    return 0;
}

static int bind(node_t *n, int (*resolve)(void *ctx, const char *name), void *ctx)
{
    if (n->kind == N_FIELD) {
        n->slot = resolve(ctx, n->text);
        return n->slot < 0 ? -1 : 0;
    }
    for (size_t i = 0; i < n->n_args; i++)
        if (bind(n->args[i], resolve, ctx))
            return -1;
    return 0;
}

int expr_bind(expr_t *self, int (*resolve)(void *ctx, const char *name), void *ctx)
{
    assert(self);
    return bind(self->root, resolve, ctx);
}

static int each_slot(const node_t *n, int (*fn)(void *ctx, int slot), void *ctx)
{
    if (n->kind == N_FIELD)
        return fn(ctx, n->slot);
    for (size_t i = 0; i < n->n_args; i++) {
        int rc = each_slot(n->args[i], fn, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

int expr_each_slot(const expr_t *self, int (*fn)(void *ctx, int slot), void *ctx)
{
    assert(self);
    return each_slot(self->root, fn, ctx);
}

bool expr_truthy(const expr_value_t *v)
{
    if (!v)
        return false;
    switch (v->kind) {
    case EXPR_BOOL:
        return v->b;
    case EXPR_NUMBER:
        return v->num != 0;
    case EXPR_STRING:
        return v->str && v->str[0] != '\0';
    case EXPR_TIME:
        return true;
    case EXPR_NULL:
        return false;
    }
    return false;
}

static int each_field(const node_t *n, int (*fn)(void *ctx, const char *name), void *ctx)
{
    if (n->kind == N_FIELD)
        return fn(ctx, n->text);
    for (size_t i = 0; i < n->n_args; i++) {
        int rc = each_field(n->args[i], fn, ctx);
        if (rc)
            return rc;
    }
    return 0;
}

int expr_each_field(const expr_t *self, int (*fn)(void *ctx, const char *name), void *ctx)
{
    assert(self);
    return each_field(self->root, fn, ctx);
}

void expr_value_format(const expr_value_t *v, char *out, size_t outlen)
{
    if (!out || !outlen)
        return;
    char buf[21];
    switch (v ? v->kind : EXPR_NULL) {
    case EXPR_NULL:
        out[0] = '\0';
        return;
    case EXPR_BOOL:
        snprintf(out, outlen, "%s", v->b ? "true" : "false");
        return;
    case EXPR_NUMBER:
        format_number(v->num, out, outlen);
        return;
    case EXPR_STRING: {
        const char *str = v->str ? v->str : "";
        size_t n = strlen(str);
        if (n >= outlen)
            n = outlen - 1;
        memcpy(out, str, n);
        out[n] = '\0';
        return;
    }
    case EXPR_TIME:
        ncap_datetime_format(v->time, buf);
        snprintf(out, outlen, "%s", buf);
        return;
    }
}
