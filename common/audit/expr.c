/* expr.c - the expression language of audit definitions: a tokenizer, a recursive-descent parser
 * building a tree, a static type checker run once at load, and an evaluator over typed values
 * with SQL-like null.
 *
 * Precedence, loosest first: or, and, not, comparison (not chained), + -, * /, unary minus, then
 * calls and atoms. Division by zero, and any arithmetic whose result is not finite, gives null (a
 * data fault, not a definition fault). */
#include "expr.h"

#include <assert.h>
#include <math.h>
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
    F_MONTH,
    F_LN,
    F_EXP,
    F_SQRT,
    F_POW,
    F_CLAMP,
    F_MIN,
    F_MAX,
    F_IF
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
    {"ln", F_LN, 1, 1},
    {"exp", F_EXP, 1, 1},
    {"sqrt", F_SQRT, 1, 1},
    {"pow", F_POW, 2, 2},
    {"clamp", F_CLAMP, 3, 3},
    {"min", F_MIN, 2, 0},
    {"max", F_MAX, 2, 0},
    {"if", F_IF, 3, 3},
};
#define N_FUNCTIONS (sizeof functions / sizeof functions[0])

typedef struct node node_t;
struct node {
    node_kind_t kind;
    int column;       /* 1-based column of the node's own token (operator, name, literal) */
    int start, end;   /* the node's text in the source: bytes [start, end) */
    int depth;        /* 1 for a leaf, 1 + the deepest operand otherwise */
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
    char *src; /* the source, for the type checker's messages */
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
        n->start = column - 1;
        n->end = column - 1;
        n->depth = 1;
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
    if (arg->depth + 1 > n->depth)
        n->depth = arg->depth + 1;
    if (arg->start < n->start)
        n->start = arg->start;
    if (arg->end > n->end)
        n->end = arg->end;
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
    int level;   /* brackets, calls and prefix operators being parsed, one inside another */
    expr_problem_t *problem;
    bool failed;
} parser_t;

/* Records the first problem: column (1-based) and what was found, what was expected. */
static void fail(parser_t *p, int column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(parser_t *p, int column, const char *fmt, ...)
{
    if (p->failed)
        return;
    p->failed = true;
    p->problem->column = column;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->problem->message, sizeof p->problem->message, fmt, ap);
    va_end(ap);
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

/* What a character the language does not use was probably meant to be. */
static void bad_character(parser_t *p, char c, int column)
{
    if (c == '=')
        fail(p, column, "found '=', expected '==' to compare");
    else if (c == '!')
        fail(p, column, "found '!', expected '!=' or not");
    else if (c == '"')
        fail(p, column, "found '\"', expected text in single quotes such as 'NOP'");
    else if (c >= 'A' && c <= 'Z')
        fail(p, column, "found the capital letter '%c', expected lower-case names", c);
    else if (c > ' ' && c < 0x7f)
        fail(p, column, "found the character '%c', expected a value, an operator or a bracket", c);
    else
        fail(p, column, "found the byte 0x%02x, expected a value, an operator or a bracket",
             (unsigned)(unsigned char)c);
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
        bool ok = true;
        if (s[i] == '.') {
            i++;
            ok = is_digit(s[i]);
            while (is_digit(s[i]))
                i++;
        }
        if (!ok || is_ident_char(s[i]) || s[i] == '.') {
            while (is_ident_char(s[i]) || s[i] == '.')
                i++;
            fail(p, t->column,
                 "found the malformed number '%.*s', expected digits with at most "
                 "one decimal point",
                 (int)(i - p->pos > 40 ? 40 : i - p->pos), t->start);
            return;
        }
        t->kind = T_NUMBER;
        t->num = strtod(t->start, NULL);
        if (!(t->num <= EXPR_MAX_NUMBER)) { /* digits only: never negative, inf when huge */
            size_t len = i - p->pos;
            fail(p, t->column, "found the number '%.*s%s' (%zu characters), expected at most %.0f",
                 (int)(len > 20 ? 20 : len), t->start, len > 20 ? "..." : "", len, EXPR_MAX_NUMBER);
            return;
        }
    } else if (is_ident_start(c)) {
        while (is_ident_char(s[i]))
            i++;
        t->kind = T_IDENT;
    } else if (c == '\'') {
        i++;
        for (;;) {
            if (s[i] == '\0') {
                fail(p, t->column, "found text without its closing quote, expected ' at its end");
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
            bad_character(p, c, t->column);
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

/* Fails with "found <the current token>, expected <expected>". */
static void unexpected(parser_t *p, const char *expected)
{
    if (p->tok.kind == T_END)
        fail(p, p->tok.column, "found the end of the expression, expected %s", expected);
    else
        fail(p, p->tok.column, "found '%.*s', expected %s",
             (int)(p->tok.len > 40 ? 40 : p->tok.len), p->tok.start, expected);
}

/* Takes the token text, or fails saying expected (e.g. "')'"). */
static bool expect(parser_t *p, const char *text, const char *expected)
{
    if (p->failed)
        return false;
    if (!tok_is(p, text)) {
        unexpected(p, expected);
        return false;
    }
    next(p);
    return !p->failed;
}

/* ---------------------------------------------------------------- parser */

static node_t *parse_or(parser_t *p);

static node_t *oom(parser_t *p)
{
    fail(p, 0, "out of memory");
    return NULL;
}

/* Refuses trees deeper than EXPR_MAX_DEPTH (evaluation recurses once a level) and nesting that
 * would take the parser deeper (it recurses too). */
static bool too_deep(parser_t *p, int depth, int column)
{
    if (depth <= EXPR_MAX_DEPTH)
        return false;
    fail(p, column,
         "found operators, calls and brackets nested more than %d deep, expected at most %d "
         "(a derived field can hold a part)",
         EXPR_MAX_DEPTH, EXPR_MAX_DEPTH);
    return true;
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
    if (too_deep(p, n->depth, column)) {
        node_free(n);
        return NULL;
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
    if (too_deep(p, n->depth, column)) {
        node_free(n);
        return NULL;
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
        int len = a->end - a->start > 40 ? 40 : a->end - a->start;
        const char *text = p->src + a->start;
        double v;
        if (a->kind == N_LIT && a->lit.kind == EXPR_NUMBER)
            v = a->lit.num;
        else if (a->kind == N_NEG && a->args[0]->kind == N_LIT &&
                 a->args[0]->lit.kind == EXPR_NUMBER)
            v = -a->args[0]->lit.num;
        else {
            fail(p, a->start + 1,
                 "argument %zu of band() is %.*s, expected a whole number written in the "
                 "expression",
                 i + 2, len, text);
            return -1;
        }
        /* the range first: converting a double out of long long's range (or NaN) is undefined */
        if (!(v >= -EXPR_MAX_NUMBER && v <= EXPR_MAX_NUMBER) || v != (double)(long long)v) {
            fail(p, a->start + 1, "argument %zu of band() is %.*s, expected a whole number", i + 2,
                 len, text);
            return -1;
        }
        if (i > 0 && v <= call->cuts[i - 1]) {
            fail(p, a->start + 1,
                 "argument %zu of band() is %.*s, expected a number greater than %.0f (cut "
                 "points ascend)",
                 i + 2, len, text, call->cuts[i - 1]);
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
    if (!expect(p, "(", "'('")) {
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
    call->end = (int)(p->tok.start - p->src + p->tok.len);
    if (!expect(p, ")", call->n_args ? "',' or ')'" : "')'") || too_deep(p, call->depth, column)) {
        node_free(call);
        return NULL;
    }
    const char *name = functions[fn_index].name;
    size_t lo = functions[fn_index].min_args, hi = functions[fn_index].max_args;
    if (call->n_args < lo || (hi && call->n_args > hi)) {
        fail(p, column, "%s() has %zu argument%s, expected %s%zu", name, call->n_args,
             call->n_args == 1 ? "" : "s", lo == hi ? "" : "at least ", lo);
        node_free(call);
        return NULL;
    }
    if (functions[fn_index].fn == F_BAND && prepare_band(p, call)) {
        node_free(call);
        return NULL;
    }
    return call;
}

static void unknown_function(parser_t *p, const token_t *t)
{
    char list[240] = "";
    for (size_t i = 0, used = 0; i < N_FUNCTIONS && used < sizeof list; i++) {
        int w = snprintf(list + used, sizeof list - used, "%s%s", i ? ", " : "", functions[i].name);
        used += w > 0 ? (size_t)w : 0;
    }
    fail(p, t->column, "found the unknown function \"%.*s\", expected one of: %s",
         (int)(t->len > 40 ? 40 : t->len), t->start, list);
}

static const char value_expected[] = "a value (a number, 'text', a field, a call or a bracket)";

static node_t *parse_primary(parser_t *p)
{
    if (p->failed)
        return NULL;
    token_t t = p->tok;
    node_t *n = NULL;
    if (t.kind == T_NUMBER) {
        if (!(n = node_new(N_LIT, t.column)))
            return oom(p);
        n->lit.kind = EXPR_NUMBER;
        n->lit.num = t.num;
    } else if (t.kind == T_STRING) {
        n = node_new(N_LIT, t.column);
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
    } else if (t.kind == T_IDENT &&
               (tok_is(p, "true") || tok_is(p, "false") || tok_is(p, "null"))) {
        if (!(n = node_new(N_LIT, t.column)))
            return oom(p);
        if (tok_is(p, "null"))
            n->lit.kind = EXPR_NULL;
        else {
            n->lit.kind = EXPR_BOOL;
            n->lit.b = tok_is(p, "true");
        }
    } else if (t.kind == T_IDENT) {
        if (tok_is(p, "and") || tok_is(p, "or") || tok_is(p, "not")) {
            unexpected(p, value_expected);
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
            unknown_function(p, &t);
            return NULL;
        }
        n = node_new(N_FIELD, t.column);
        if (!n || !(n->text = strndup(t.start, t.len))) {
            node_free(n);
            return oom(p);
        }
    } else if (tok_is(p, "(")) {
        next(p);
        node_t *inner = parse_or(p);
        if (!inner)
            return NULL;
        int end = (int)(p->tok.start - p->src + p->tok.len);
        if (!expect(p, ")", "')'")) {
            node_free(inner);
            return NULL;
        }
        inner->start = t.column - 1; /* the node's text takes in its brackets */
        inner->end = end;
        return inner;
    } else {
        unexpected(p, value_expected);
        return NULL;
    }
    n->end = n->start + (int)t.len;
    next(p);
    return n;
}

/* Enters a level of nesting (a bracket, a call's arguments, a prefix operator). */
static bool enter(parser_t *p)
{
    if (p->failed)
        return false;
    p->level++;
    return !too_deep(p, p->level, p->tok.column);
}

static node_t *parse_unary(parser_t *p)
{
    if (p->failed)
        return NULL;
    if (tok_is(p, "-")) {
        int column = p->tok.column;
        next(p);
        if (!enter(p))
            return NULL;
        node_t *operand = parse_unary(p);
        p->level--;
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

static const struct {
    const char *op;
    node_kind_t kind;
} comparisons[] = {{"==", N_EQ}, {"!=", N_NE}, {"<=", N_LE},
                   {">=", N_GE}, {"<", N_LT},  {">", N_GT}};
#define N_COMPARISONS (sizeof comparisons / sizeof comparisons[0])

static node_t *parse_cmp(parser_t *p)
{
    node_t *left = parse_add(p);
    if (!left)
        return NULL;
    for (size_t i = 0; i < N_COMPARISONS; i++) {
        if (tok_is(p, comparisons[i].op)) {
            int column = p->tok.column;
            next(p);
            node_t *right = parse_add(p);
            if (!right) {
                node_free(left);
                return NULL;
            }
            return binary(p, comparisons[i].kind, column, left, right);
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
        if (!enter(p))
            return NULL;
        node_t *operand = parse_not(p);
        p->level--;
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
    if (!enter(p))
        return NULL;
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
    p->level--;
    return left;
}

/* What the token after a whole expression was probably meant to be. */
static void trailing(parser_t *p)
{
    for (size_t i = 0; i < N_COMPARISONS; i++)
        if (tok_is(p, comparisons[i].op)) {
            unexpected(p, "the end of the expression (comparisons do not chain: join them "
                          "with and)");
            return;
        }
    unexpected(p, "an operator or the end of the expression");
}

expr_t *expr_parse_problem(const char *src, expr_problem_t *problem)
{
    expr_problem_t ignored;
    if (!problem)
        problem = &ignored;
    problem->column = 0;
    problem->message[0] = '\0';
    parser_t p = {.src = src ? src : "", .problem = problem};
    size_t len = strlen(p.src);
    if (len > EXPR_MAX_LENGTH) {
        fail(&p, 1,
             "found an expression of %zu characters, expected at most %d (a derived "
             "field can hold a part)",
             len, EXPR_MAX_LENGTH);
        return NULL;
    }
    next(&p);
    node_t *root = p.failed ? NULL : parse_or(&p);
    if (root && !p.failed && p.tok.kind != T_END)
        trailing(&p);
    expr_t *self = p.failed ? NULL : calloc(1, sizeof *self);
    if (self && !(self->src = strdup(p.src))) {
        free(self);
        self = NULL;
    }
    if (!self) {
        node_free(root);
        oom(&p); /* says nothing when the parse failed first */
        return NULL;
    }
    self->root = root;
    return self;
}

expr_t *expr_parse(const char *src, char *err, size_t errlen)
{
    expr_problem_t problem;
    expr_t *self = expr_parse_problem(src, &problem);
    if (err && errlen) {
        if (self)
            err[0] = '\0';
        else if (problem.column > 0)
            snprintf(err, errlen, "column %d: %s", problem.column, problem.message);
        else
            snprintf(err, errlen, "%s", problem.message);
    }
    return self;
}

void expr_destroy(expr_t **self_p)
{
    if (!self_p || !*self_p)
        return;
    node_free((*self_p)->root);
    free((*self_p)->src);
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

/* A number, or null when num is not finite: arithmetic that overflows (1e200 * 1e200) or has no
 * value (inf - inf) is a data fault, as division by zero is, and NaN would compare equal to
 * everything (compare() orders by < and >) and fall in band()'s lowest band. */
static expr_value_t v_number(double num)
{
    expr_value_t v = {.kind = EXPR_NUMBER, .num = num};
    if (!isfinite(num))
        v.kind = EXPR_NULL;
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

/* ln exp sqrt pow clamp min max: numbers in, a number out; null when any argument is null or
 * the result has no finite value (ln of 0 or less, sqrt of a negative, pow(-8, 0.5), exp(1000),
 * clamp with lo > hi), as division by zero is. */
static int eval_math(const node_t *n, eval_t *ev, fn_t fn, expr_value_t *out)
{
    double x[3] = {0, 0, 0}, acc = 0;
    bool any_null = false;
    for (size_t i = 0; i < n->n_args; i++) {
        expr_value_t a;
        if (eval(n->args[i], ev, &a))
            return -1;
        if (a.kind == EXPR_NULL) {
            any_null = true;
            continue;
        }
        if (a.kind != EXPR_NUMBER)
            return eval_fail(ev, "%s() needs numbers, got %s", functions[n->fn_index].name,
                             kind_name(a.kind));
        if (i < 3)
            x[i] = a.num;
        if (i == 0 || (fn == F_MIN && a.num < acc) || (fn == F_MAX && a.num > acc))
            acc = a.num;
    }
    if (any_null) {
        *out = v_null();
        return 0;
    }
    switch (fn) {
    case F_LN:
        *out = x[0] > 0 ? v_number(log(x[0])) : v_null();
        break;
    case F_EXP:
        *out = v_number(exp(x[0]));
        break;
    case F_SQRT:
        *out = x[0] >= 0 ? v_number(sqrt(x[0])) : v_null();
        break;
    case F_POW:
        *out = v_number(pow(x[0], x[1]));
        break;
    case F_CLAMP:
        *out = x[1] <= x[2] ? v_number(x[0] < x[1] ? x[1] : x[0] > x[2] ? x[2] : x[0]) : v_null();
        break;
    default: /* min, max */
        *out = v_number(acc);
        break;
    }
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
        int y, m, d;
        ncap_civil_from_days(ncap_day_of(t), &y, &m, &d);
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

    case F_LN:
    case F_EXP:
    case F_SQRT:
    case F_POW:
    case F_CLAMP:
    case F_MIN:
    case F_MAX:
        return eval_math(n, ev, fn, out);

    case F_IF: /* only the branch taken is evaluated */
        if (eval(n->args[0], ev, &a))
            return -1;
        if (a.kind == EXPR_NULL) {
            *out = v_null();
            return 0;
        }
        if (a.kind != EXPR_BOOL)
            return eval_fail(ev, "if() needs true/false first, got %s", kind_name(a.kind));
        return eval(n->args[a.b ? 1 : 2], ev, out);
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
        if (ev->slot_fn && n->slot >= 0)
            ev->slot_fn(ev->ctx, n->slot, &a);
        else if (!ev->lookup || ev->lookup(ev->ctx, n->text, &a) != 0)
            return eval_fail(ev, "unknown field \"%s\"", n->text);
        /* a lookup may give any double: only finite numbers go further (see v_number) */
        *out = a.kind == EXPR_NUMBER ? v_number(a.num) : a;
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

/* ---------------------------------------------------------------- static types
 *
 * A static type is the kind every non-null value of an expression has, for every record: fields
 * have their declared kind and may always be null. T_UNKNOWN stands for a part already found
 * wrong (or a field whose declaration was refused): nothing more is said about what uses it, so
 * that one mistake gives one message. Each rule below refuses exactly the operands expr_eval
 * refuses for every non-null value, except that text compared with or converted to a date/time
 * must be a literal that reads as one ('2026-03-01'): a text field holding dates is declared
 * date or datetime. */

#define T_UNKNOWN (-1)

typedef struct {
    int kind;       /* an expr_kind_t (EXPR_NULL: always null), or T_UNKNOWN */
    bool time_text; /* EXPR_STRING only: every value reads as a date/time */
} type_t;

typedef struct {
    const expr_t *expr;
    const expr_check_t *env;
    int problems;
} checker_t;

static void problem(checker_t *c, int column, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void problem(checker_t *c, int column, const char *fmt, ...)
{
    expr_problem_t pr = {.column = column};
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(pr.message, sizeof pr.message, fmt, ap);
    va_end(ap);
    c->problems++;
    if (c->env->problem)
        c->env->problem(c->env->ctx, &pr);
}

static type_t ty(int kind)
{
    type_t t = {.kind = kind};
    return t;
}

/* The words of the definition file's types (string, boolean), where kind_name has those of a
 * value in a record's run-time messages, which stay as they were. */
static const char *type_name(int kind)
{
    switch (kind) {
    case EXPR_NULL:
        return "null";
    case EXPR_BOOL:
        return "a boolean";
    case EXPR_NUMBER:
        return "a number";
    case EXPR_STRING:
        return "a string";
    case EXPR_TIME:
        return "a date/time";
    }
    return "a value";
}

/* "a number", with the text of a literal or field after it: "a string ('x')", "a number (age)" */
static const char *describe(const checker_t *c, const node_t *n, type_t t, char *buf, size_t len)
{
    if (n->kind != N_LIT && n->kind != N_FIELD) {
        snprintf(buf, len, "%s", type_name(t.kind));
        return buf;
    }
    if (n->kind == N_LIT && n->lit.kind == EXPR_NULL) {
        snprintf(buf, len, "null");
        return buf;
    }
    int w = n->end - n->start;
    snprintf(buf, len, "%s (%.*s%s)", type_name(t.kind), w > 40 ? 40 : w, c->expr->src + n->start,
             w > 40 ? "..." : "");
    return buf;
}

/* Whether the value is usable where a date/time is (null counts: it propagates). */
static bool time_like(type_t t)
{
    return t.kind == EXPR_TIME || t.kind == EXPR_NULL || t.kind == T_UNKNOWN ||
           (t.kind == EXPR_STRING && t.time_text);
}

/* Whether compare() accepts two non-null values of these types for every record. */
static bool comparable(node_kind_t op, type_t a, type_t b)
{
    bool ordered = op != N_EQ && op != N_NE;
    if (a.kind == b.kind && a.kind != EXPR_TIME)
        return a.kind != EXPR_BOOL || !ordered;
    if (a.kind == EXPR_TIME || b.kind == EXPR_TIME)
        return time_like(a) && time_like(b);
    return !ordered && ((a.kind == EXPR_NUMBER && b.kind == EXPR_STRING) ||
                        (a.kind == EXPR_STRING && b.kind == EXPR_NUMBER));
}

static const char *compare_expected(node_kind_t op, type_t a, type_t b)
{
    if (a.kind == EXPR_TIME || b.kind == EXPR_TIME)
        return "two dates/times (text compared with a date/time must be written as one, such "
               "as '2026-03-01')";
    if (op == N_EQ || op == N_NE)
        return "two values of one type (or a number and a code)";
    return "two numbers, two strings or two dates/times";
}

static type_t check_node(checker_t *c, const node_t *n);

/* Both operands of an arithmetic or logical operator must be of kind want (or null). */
static type_t check_pair(checker_t *c, const node_t *n, int want, const char *expected,
                         const char *hint)
{
    type_t a = check_node(c, n->args[0]), b = check_node(c, n->args[1]);
    bool a_ok = a.kind == want || a.kind == EXPR_NULL || a.kind == T_UNKNOWN;
    bool b_ok = b.kind == want || b.kind == EXPR_NULL || b.kind == T_UNKNOWN;
    if (!a_ok || !b_ok) {
        char da[80], db[80];
        problem(c, n->column, "\"%s\" has %s on the left and %s on the right, expected %s%s",
                op_name(n->kind), describe(c, n->args[0], a, da, sizeof da),
                describe(c, n->args[1], b, db, sizeof db), expected,
                a.kind == EXPR_TIME && b.kind == EXPR_TIME ? hint : "");
        return ty(T_UNKNOWN);
    }
    if (n->kind == N_AND || n->kind == N_OR)
        return ty(a.kind == EXPR_NULL && b.kind == EXPR_NULL ? EXPR_NULL : EXPR_BOOL);
    return ty(a.kind == EXPR_NULL || b.kind == EXPR_NULL ? EXPR_NULL : want);
}

static type_t check_compare(checker_t *c, const node_t *n)
{
    type_t a = check_node(c, n->args[0]), b = check_node(c, n->args[1]);
    if (a.kind == EXPR_NULL || b.kind == EXPR_NULL)
        return ty(EXPR_NULL);
    if (a.kind == T_UNKNOWN || b.kind == T_UNKNOWN)
        return ty(EXPR_BOOL);
    if (!comparable(n->kind, a, b)) {
        char da[80], db[80];
        problem(c, n->column, "\"%s\" has %s on the left and %s on the right, expected %s",
                op_name(n->kind), describe(c, n->args[0], a, da, sizeof da),
                describe(c, n->args[1], b, db, sizeof db), compare_expected(n->kind, a, b));
        return ty(T_UNKNOWN);
    }
    return ty(EXPR_BOOL);
}

/* Argument i (0-based) of call n must be of kind want, or a date/time when want is EXPR_TIME. */
static bool check_arg(checker_t *c, const node_t *n, size_t i, type_t t, int want)
{
    if (want == EXPR_TIME ? time_like(t)
                          : t.kind == want || t.kind == EXPR_NULL || t.kind == T_UNKNOWN)
        return true;
    char d[80];
    problem(c, n->args[i]->start + 1, "argument %zu of %s() is %s, expected %s", i + 1,
            functions[n->fn_index].name, describe(c, n->args[i], t, d, sizeof d),
            want == EXPR_TIME ? "a date/time (text must be written as one, such as "
                                "'2026-03-01')"
                              : type_name(want));
    return false;
}

static type_t check_call(checker_t *c, const node_t *n)
{
    type_t first = check_node(c, n->args[0]);
    bool any_null = first.kind == EXPR_NULL, ok = true;
    switch (functions[n->fn_index].fn) {
    case F_PRESENT:
    case F_EMPTY:
        return ty(EXPR_BOOL);

    case F_HOURS_BETWEEN: /* dates/times in, a number out */
    case F_DAYS_BETWEEN:
    case F_AGE_YEARS:
    case F_YEAR:
    case F_MONTH:
    case F_LN: /* numbers in, a number out */
    case F_EXP:
    case F_SQRT:
    case F_POW:
    case F_CLAMP:
    case F_MIN:
    case F_MAX: {
        fn_t fn = functions[n->fn_index].fn;
        int want = fn == F_HOURS_BETWEEN || fn == F_DAYS_BETWEEN || fn == F_AGE_YEARS ||
                           fn == F_YEAR || fn == F_MONTH
                       ? EXPR_TIME
                       : EXPR_NUMBER;
        ok = check_arg(c, n, 0, first, want);
        for (size_t i = 1; i < n->n_args; i++) {
            type_t t = check_node(c, n->args[i]);
            any_null |= t.kind == EXPR_NULL;
            ok &= check_arg(c, n, i, t, want);
        }
        return ty(!ok ? T_UNKNOWN : any_null ? EXPR_NULL : EXPR_NUMBER);
    }

    case F_IF: {
        ok = check_arg(c, n, 0, first, EXPR_BOOL);
        type_t a = check_node(c, n->args[1]), b = check_node(c, n->args[2]);
        if (a.kind == T_UNKNOWN || b.kind == T_UNKNOWN || !ok)
            return ty(T_UNKNOWN);
        if (a.kind == EXPR_NULL)
            return b;
        if (b.kind == EXPR_NULL || a.kind == b.kind)
            return a.kind == b.kind ? ty(a.kind) : a;
        char da[80], db[80];
        problem(c, n->args[2]->start + 1,
                "argument 3 of if() is %s and argument 2 %s, expected arguments of one type",
                describe(c, n->args[2], b, db, sizeof db),
                describe(c, n->args[1], a, da, sizeof da));
        return ty(T_UNKNOWN);
    }

    case F_BAND: /* the cut points are number literals (the parser saw to it) */
        if (!check_arg(c, n, 0, first, EXPR_NUMBER))
            return ty(T_UNKNOWN);
        return ty(any_null ? EXPR_NULL : EXPR_STRING);

    case F_IN:
        for (size_t i = 1; i < n->n_args; i++) {
            type_t t = check_node(c, n->args[i]);
            /* with a null first argument the list is never looked at */
            if (first.kind == EXPR_NULL || first.kind == T_UNKNOWN || t.kind == T_UNKNOWN ||
                t.kind == EXPR_NULL || comparable(N_EQ, first, t))
                continue;
            char da[80], db[80];
            problem(c, n->args[i]->start + 1,
                    "argument %zu of in() is %s and argument 1 %s, expected %s", i + 1,
                    describe(c, n->args[i], t, db, sizeof db),
                    describe(c, n->args[0], first, da, sizeof da),
                    compare_expected(N_EQ, first, t));
            ok = false;
        }
        return ty(!ok ? T_UNKNOWN : any_null ? EXPR_NULL : EXPR_BOOL);

    case F_COALESCE: {
        /* the first value that is not null or '': every argument must be of one kind */
        type_t common = first;
        size_t at = 0; /* the argument common comes from */
        for (size_t i = 1; i < n->n_args; i++) {
            type_t t = check_node(c, n->args[i]);
            if (t.kind == EXPR_NULL || common.kind == T_UNKNOWN)
                continue;
            if (t.kind == T_UNKNOWN || common.kind == EXPR_NULL) {
                common = t;
                at = i;
            } else if (time_like(common) && time_like(t) &&
                       (common.kind == EXPR_TIME || t.kind == EXPR_TIME))
                common = ty(EXPR_TIME);
            else if (t.kind == common.kind)
                common.time_text &= t.time_text;
            else {
                char da[80], db[80];
                problem(c, n->args[i]->start + 1,
                        "argument %zu of coalesce() is %s and argument %zu %s, expected "
                        "arguments of one type",
                        i + 1, describe(c, n->args[i], t, db, sizeof db), at + 1,
                        describe(c, n->args[at], common, da, sizeof da));
                common = ty(T_UNKNOWN);
            }
        }
        return common;
    }
    }
    return ty(T_UNKNOWN);
}

static type_t check_node(checker_t *c, const node_t *n)
{
    switch (n->kind) {
    case N_LIT: {
        type_t t = ty(n->lit.kind);
        int64_t when;
        t.time_text =
            n->lit.kind == EXPR_STRING && ncap_datetime_parse(n->lit.str, &when, NULL) == 0;
        return t;
    }

    case N_FIELD: {
        expr_kind_t kind = EXPR_NULL;
        char why[256] = "";
        int rc = c->env->field ? c->env->field(c->env->ctx, n->text, &kind, why, sizeof why) : 1;
        if (rc < 0)
            problem(c, n->column, "%s", why[0] ? why : "unknown field");
        return rc == 0 ? ty(kind) : ty(T_UNKNOWN);
    }

    case N_NOT:
    case N_NEG: {
        int want = n->kind == N_NOT ? EXPR_BOOL : EXPR_NUMBER;
        type_t a = check_node(c, n->args[0]);
        if (a.kind == want || a.kind == EXPR_NULL || a.kind == T_UNKNOWN)
            return a.kind == T_UNKNOWN ? ty(want) : a;
        char d[80];
        problem(c, n->column, "\"%s\" has %s, expected %s", op_name(n->kind),
                describe(c, n->args[0], a, d, sizeof d), type_name(want));
        return ty(T_UNKNOWN);
    }

    case N_AND:
    case N_OR:
        return check_pair(c, n, EXPR_BOOL, "two booleans", "");

    case N_EQ:
    case N_NE:
    case N_LT:
    case N_LE:
    case N_GT:
    case N_GE:
        return check_compare(c, n);

    case N_ADD:
    case N_SUB:
    case N_MUL:
    case N_DIV:
        return check_pair(c, n, EXPR_NUMBER, "two numbers",
                          " (hours_between or days_between gives the time between)");

    case N_CALL:
        return check_call(c, n);
    }
    return ty(T_UNKNOWN);
}

int expr_check(const expr_t *self, const expr_check_t *env, expr_kind_t *type)
{
    assert(self);
    assert(env);
    checker_t c = {.expr = self, .env = env};
    type_t t = check_node(&c, self->root);
    if (type)
        *type = t.kind == T_UNKNOWN ? EXPR_NULL : (expr_kind_t)t.kind;
    if (env->want != EXPR_NULL && t.kind != T_UNKNOWN && t.kind != EXPR_NULL &&
        t.kind != (int)env->want && !(env->want == EXPR_TIME && time_like(t))) {
        char d[80];
        problem(&c, self->root->start + 1, "%s gives %s, expected %s",
                env->what ? env->what : "the expression", describe(&c, self->root, t, d, sizeof d),
                type_name(env->want));
    }
    return c.problems;
}
