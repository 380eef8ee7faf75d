/*
** plan_parse.c: recursive-descent parser for the SELECT subset hbee plans,
** with SQLite's operator precedence (lowest first): OR; AND; NOT;
** = == != <> IS IN LIKE GLOB BETWEEN ISNULL NOTNULL; < <= > >=; & | << >>;
** + -; * / %; || -> ->>; unary - + ~; COLLATE.
** Also the AST printer, structural equality and the function classes.
**
**     PlanSelect *s;
**     if (plan_parse("SELECT a, count(*) FROM t GROUP BY a", &s, &err)) ...
**     plan_select_free(s);
**
** Constructs outside the subset are refused as soon as they are seen, with
** the construct named: "joins are not supported by hbee".
*/
#include "plan/plan.h"

#include <ctype.h>
#include <string.h>

/* ---- arena: every allocation of a PlanSelect, freed at once ---------- */

typedef struct PlanArena {
    void **a;
    int n, cap;
} PlanArena;

static void *arena_alloc(PlanArena *ar, size_t n) {
    if (ar->n == ar->cap) {
        int cap = ar->cap ? ar->cap * 2 : 64;
        void **na = bz_realloc(ar->a, (size_t)cap * sizeof *na);
        if (!na) return NULL;
        ar->a = na;
        ar->cap = cap;
    }
    void *p = bz_calloc(1, n ? n : 1);
    if (p) ar->a[ar->n++] = p;
    return p;
}

static void arena_free(PlanArena *ar) {
    if (!ar) return;
    for (int i = 0; i < ar->n; i++)
        bz_free(ar->a[i]);
    bz_free(ar->a);
    bz_free(ar);
}

void *plan_select_alloc(PlanSelect *s, size_t n) {
    return arena_alloc(s->arena, n);
}

void plan_select_free(PlanSelect *s) {
    if (!s) return;
    arena_free(s->arena); /* s itself and its SQL copy live in the arena */
}

/* ---- parser state ------------------------------------------------------- */

typedef struct Parser {
    const char *z;
    int pos;      /* offset after the current token */
    PlanToken t;  /* current token */
    int prev_end; /* offset after the previously consumed token */
    PlanArena *ar;
    BzErr *err;
    int rc;
} Parser;

static void advance(Parser *p) {
    if (p->rc) return;
    p->prev_end = (int)(p->t.z - p->z) + p->t.n;
    p->rc = plan_lex_next(p->z, &p->pos, &p->t, p->err);
    if (p->rc) p->t.type = PT_EOF;
}

/* Token after the current one, without consuming. */
static PlanToken peek(Parser *p) {
    PlanToken t = {PT_EOF, p->z + p->pos, 0};
    int pos = p->pos;
    BzErr e;
    if (plan_lex_next(p->z, &pos, &t, &e)) t.type = PT_EOF;
    return t;
}

static int is_op(const PlanToken *t, const char *op) {
    return t->type == PT_OP && (size_t)t->n == strlen(op) && !memcmp(t->z, op, (size_t)t->n);
}

static void *fail(Parser *p, int code, const char *fmt, const char *arg) {
    if (!p->rc) {
        if (arg)
            bz_err(p->err, code, fmt, arg);
        else
            bz_err(p->err, code, fmt, "");
        p->rc = code;
    }
    return NULL;
}

static void *syntax_error(Parser *p) {
    if (p->rc) return NULL;
    if (p->t.type == PT_EOF) {
        bz_err(p->err, BZ_MISUSE, "incomplete input");
    } else {
        bz_err(p->err, BZ_MISUSE, "near \"%.*s\": syntax error", p->t.n, p->t.z);
    }
    p->rc = BZ_MISUSE;
    return NULL;
}

/* what: "joins are", "RAISE is" ... */
static void *unsupported(Parser *p, const char *what) {
    return fail(p, BZ_UNSUPPORTED, "%s not supported by hbee", what);
}

static int accept_kw(Parser *p, const char *kw) {
    if (!p->rc && plan_tok_is(&p->t, kw)) {
        advance(p);
        return 1;
    }
    return 0;
}

static int accept_op(Parser *p, const char *op) {
    if (!p->rc && is_op(&p->t, op)) {
        advance(p);
        return 1;
    }
    return 0;
}

static void expect_op(Parser *p, const char *op) {
    if (!accept_op(p, op)) syntax_error(p);
}

static char *arena_strndup(Parser *p, const char *z, int n) {
    char *s = arena_alloc(p->ar, (size_t)n + 1);
    if (!s) {
        fail(p, BZ_NOMEM, "out of memory%s", NULL);
        return NULL;
    }
    memcpy(s, z, (size_t)n);
    s[n] = 0;
    return s;
}

/* Identifier text of the current token (quotes removed); NULL if it is not
** an identifier. */
static char *ident_text(Parser *p, const PlanToken *t) {
    if (t->type == PT_ID) return arena_strndup(p, t->z, t->n);
    if (t->type != PT_QID) return NULL;
    char q = t->z[0] == '[' ? ']' : t->z[0];
    char *s = arena_strndup(p, t->z + 1, t->n - 2);
    if (!s || q == ']') return s;
    char *o = s;
    for (const char *i = s; *i; i++) {
        *o++ = *i;
        if (*i == q && i[1] == q) i++;
    }
    *o = 0;
    return s;
}

static int is_name_token(const PlanToken *t) {
    return t->type == PT_QID || (t->type == PT_ID && !plan_is_reserved(t->z, t->n));
}

static PlanExpr *new_expr(Parser *p, int op, int start) {
    PlanExpr *e = arena_alloc(p->ar, sizeof *e);
    if (!e) return fail(p, BZ_NOMEM, "out of memory%s", NULL);
    e->op = op;
    e->iCol = -1;
    e->zSpan = p->z + start;
    return e;
}

static void end_span(Parser *p, PlanExpr *e) {
    if (e) e->nSpan = (int)(p->z + p->prev_end - e->zSpan);
}

static int push_arg(Parser *p, PlanExpr *e, PlanExpr *arg) {
    if (!e || !arg) return BZ_ERROR;
    if ((e->nA & 7) == 0) {
        PlanExpr **na = arena_alloc(p->ar, (size_t)(e->nA + 8) * sizeof *na);
        if (!na) {
            fail(p, BZ_NOMEM, "out of memory%s", NULL);
            return BZ_NOMEM;
        }
        if (e->nA) memcpy(na, e->a, (size_t)e->nA * sizeof *na);
        e->a = na;
    }
    e->a[e->nA++] = arg;
    return BZ_OK;
}

static PlanExpr *make_binary(Parser *p, const char *op, PlanExpr *l, PlanExpr *r, int start) {
    if (!l || !r) return NULL;
    PlanExpr *e = new_expr(p, PE_BINARY, start);
    if (!e) return NULL;
    e->z = (char *)op;
    push_arg(p, e, l);
    push_arg(p, e, r);
    end_span(p, e);
    return p->rc ? NULL : e;
}

static PlanExpr *parse_expr(Parser *p);
static PlanExpr *parse_level(Parser *p, int level);

/* Levels, lowest binding first. */
enum { L_OR = 0, L_AND, L_NOT, L_EQ, L_CMP, L_BIT, L_ADD, L_MUL, L_CONCAT, L_UNARY };

static int start_of(Parser *p) {
    return (int)(p->t.z - p->z);
}

/* ---- primaries ------------------------------------------------------------ */

static PlanExpr *parse_function(Parser *p, const char *name, int start) {
    PlanExpr *e = new_expr(p, PE_FUNC, start);
    if (!e) return NULL;
    char *lc = arena_strndup(p, name, (int)strlen(name));
    if (!lc) return NULL;
    for (char *c = lc; *c; c++)
        *c = (char)tolower((unsigned char)*c);
    e->z = lc;
    expect_op(p, "(");
    if (accept_kw(p, "DISTINCT"))
        e->bDistinct = 1;
    else
        accept_kw(p, "ALL");
    if (!e->bDistinct && accept_op(p, "*")) {
        e->bStar = 1;
    } else if (!is_op(&p->t, ")")) {
        do {
            if (push_arg(p, e, parse_expr(p))) return NULL;
        } while (accept_op(p, ","));
    }
    if (plan_tok_is(&p->t, "ORDER")) return unsupported(p, "ORDER BY inside an aggregate is");
    expect_op(p, ")");
    if (accept_kw(p, "FILTER")) {
        expect_op(p, "(");
        if (!accept_kw(p, "WHERE")) return syntax_error(p);
        e->pFilter = parse_expr(p);
        expect_op(p, ")");
    }
    if (plan_tok_is(&p->t, "OVER")) return unsupported(p, "window functions (OVER) are");
    end_span(p, e);
    return p->rc ? NULL : e;
}

static PlanExpr *parse_case(Parser *p, int start) {
    PlanExpr *e = new_expr(p, PE_CASE, start);
    if (!e) return NULL;
    if (!plan_tok_is(&p->t, "WHEN")) {
        e->bBase = 1;
        if (push_arg(p, e, parse_expr(p))) return NULL;
    }
    if (!plan_tok_is(&p->t, "WHEN")) return syntax_error(p);
    while (accept_kw(p, "WHEN")) {
        if (push_arg(p, e, parse_expr(p))) return NULL;
        if (!accept_kw(p, "THEN")) return syntax_error(p);
        if (push_arg(p, e, parse_expr(p))) return NULL;
    }
    if (accept_kw(p, "ELSE")) {
        e->bElse = 1;
        if (push_arg(p, e, parse_expr(p))) return NULL;
    }
    if (!accept_kw(p, "END")) return syntax_error(p);
    end_span(p, e);
    return p->rc ? NULL : e;
}

static PlanExpr *parse_cast(Parser *p, int start) {
    PlanExpr *e = new_expr(p, PE_CAST, start);
    if (!e) return NULL;
    expect_op(p, "(");
    if (push_arg(p, e, parse_expr(p))) return NULL;
    if (!accept_kw(p, "AS")) return syntax_error(p);
    /* type name: identifiers, optionally (n) or (n, m) */
    BzBuf b;
    bz_buf_init(&b, 256);
    while (!p->rc && p->t.type == PT_ID) {
        if (b.n) bz_buf_appendc(&b, ' ');
        for (int i = 0; i < p->t.n; i++)
            bz_buf_appendc(&b, (char)toupper((unsigned char)p->t.z[i]));
        advance(p);
    }
    if (accept_op(p, "(")) {
        bz_buf_appendc(&b, '(');
        while (!p->rc && !is_op(&p->t, ")") && p->t.type != PT_EOF) {
            if (p->t.type != PT_INTEGER && p->t.type != PT_FLOAT && !is_op(&p->t, ",") &&
                !is_op(&p->t, "-") && !is_op(&p->t, "+"))
                break;
            bz_buf_append(&b, p->t.z, (size_t)p->t.n);
            advance(p);
        }
        bz_buf_appendc(&b, ')');
        if (!accept_op(p, ")")) {
            bz_buf_free(&b);
            return syntax_error(p);
        }
    }
    if (b.rc || !b.n) {
        bz_buf_free(&b);
        return b.rc ? fail(p, BZ_NOMEM, "out of memory%s", NULL) : syntax_error(p);
    }
    e->z = arena_strndup(p, b.data, (int)b.n);
    bz_buf_free(&b);
    expect_op(p, ")");
    end_span(p, e);
    return p->rc ? NULL : e;
}

static PlanExpr *parse_primary(Parser *p) {
    int start = start_of(p);
    PlanToken t = p->t;
    PlanExpr *e;
    if (p->rc) return NULL;
    switch (t.type) {
    case PT_INTEGER:
    case PT_FLOAT:
    case PT_STRING:
    case PT_BLOB:
        e = new_expr(p, PE_LIT, start);
        if (!e) return NULL;
        e->z = arena_strndup(p, t.z, t.n);
        advance(p);
        end_span(p, e);
        return p->rc ? NULL : e;
    case PT_VARIABLE:
        return unsupported(p, "parameters (?, :name) are");
    case PT_OP:
        if (is_op(&t, "(")) {
            advance(p);
            if (plan_tok_is(&p->t, "SELECT") || plan_tok_is(&p->t, "WITH") ||
                plan_tok_is(&p->t, "VALUES"))
                return unsupported(p, "subqueries are");
            e = parse_expr(p);
            if (is_op(&p->t, ",")) return unsupported(p, "row values are");
            expect_op(p, ")");
            if (e) {
                /* keep the parentheses in the span: "(a+b)" names a column so */
                e->zSpan = p->z + start;
                end_span(p, e);
            }
            return p->rc ? NULL : e;
        }
        return syntax_error(p);
    case PT_QID:
    case PT_ID:
        break;
    default:
        return syntax_error(p);
    }
    if (t.type == PT_ID) {
        if (plan_tok_is(&t, "NULL") || plan_tok_is(&t, "TRUE") || plan_tok_is(&t, "FALSE")) {
            e = new_expr(p, PE_LIT, start);
            if (!e) return NULL;
            e->z = arena_strndup(p, t.z, t.n);
            for (char *c = e->z; c && *c; c++)
                *c = (char)toupper((unsigned char)*c);
            advance(p);
            end_span(p, e);
            return p->rc ? NULL : e;
        }
        if (plan_tok_is(&t, "CURRENT_DATE") || plan_tok_is(&t, "CURRENT_TIME") ||
            plan_tok_is(&t, "CURRENT_TIMESTAMP"))
            return fail(p, BZ_UNSUPPORTED, "non-deterministic %s is not supported by hbee",
                        plan_tok_is(&t, "CURRENT_DATE")   ? "CURRENT_DATE"
                        : plan_tok_is(&t, "CURRENT_TIME") ? "CURRENT_TIME"
                                                          : "CURRENT_TIMESTAMP");
        if (plan_tok_is(&t, "EXISTS")) return unsupported(p, "subqueries (EXISTS) are");
        if (plan_tok_is(&t, "SELECT")) return unsupported(p, "subqueries are");
        if (plan_tok_is(&t, "RAISE")) return unsupported(p, "RAISE is");
        if (plan_tok_is(&t, "CASE")) {
            advance(p);
            return parse_case(p, start);
        }
        if (plan_tok_is(&t, "CAST")) {
            advance(p);
            return parse_cast(p, start);
        }
        if (plan_is_reserved(t.z, t.n)) {
            PlanToken nx = peek(p);
            if (!is_op(&nx, "(")) return syntax_error(p);
        }
    }
    char *name = ident_text(p, &t);
    if (!name) return NULL;
    advance(p);
    if (t.type == PT_ID && is_op(&p->t, "(")) return parse_function(p, name, start);
    e = new_expr(p, PE_COL, start);
    if (!e) return NULL;
    e->z = name;
    if (accept_op(p, ".")) {
        if (!is_name_token(&p->t)) return syntax_error(p);
        e->zQual = name;
        e->z = ident_text(p, &p->t);
        advance(p);
        if (is_op(&p->t, ".")) {
            /* schema.table.column: keep table as the qualifier */
            advance(p);
            if (!is_name_token(&p->t)) return syntax_error(p);
            e->zQual = e->z;
            e->z = ident_text(p, &p->t);
            advance(p);
        }
    }
    end_span(p, e);
    return p->rc ? NULL : e;
}

/* ---- operators -------------------------------------------------------------- */

static PlanExpr *parse_unary(Parser *p) {
    int start = start_of(p);
    if (is_op(&p->t, "-") || is_op(&p->t, "+") || is_op(&p->t, "~")) {
        const char *op = is_op(&p->t, "-") ? "-" : is_op(&p->t, "+") ? "+" : "~";
        advance(p);
        PlanExpr *c = parse_unary(p);
        if (!c) return NULL;
        PlanExpr *e = new_expr(p, PE_UNARY, start);
        if (!e) return NULL;
        e->z = (char *)op;
        push_arg(p, e, c);
        end_span(p, e);
        return p->rc ? NULL : e;
    }
    PlanExpr *e = parse_primary(p);
    while (e && plan_tok_is(&p->t, "COLLATE")) {
        advance(p);
        if (p->t.type != PT_ID && p->t.type != PT_QID && p->t.type != PT_STRING)
            return syntax_error(p);
        PlanExpr *c = new_expr(p, PE_COLLATE, start);
        if (!c) return NULL;
        c->z = p->t.type == PT_STRING ? arena_strndup(p, p->t.z + 1, p->t.n - 2)
                                      : ident_text(p, &p->t);
        for (char *q = c->z; q && *q; q++)
            *q = (char)toupper((unsigned char)*q);
        advance(p);
        push_arg(p, c, e);
        end_span(p, c);
        e = p->rc ? NULL : c;
    }
    return e;
}

static const char *binop_at(Parser *p, int level) {
    static const char *const cmp[] = {"<=", ">=", "<", ">"};
    static const char *const bit[] = {"<<", ">>", "&", "|"};
    static const char *const add[] = {"+", "-"};
    static const char *const mul[] = {"*", "/", "%"};
    static const char *const cat[] = {"||", "->>", "->"};
    const char *const *ops;
    size_t n;
    switch (level) {
    case L_CMP:
        ops = cmp;
        n = BZ_ARRAY_LEN(cmp);
        break;
    case L_BIT:
        ops = bit;
        n = BZ_ARRAY_LEN(bit);
        break;
    case L_ADD:
        ops = add;
        n = BZ_ARRAY_LEN(add);
        break;
    case L_MUL:
        ops = mul;
        n = BZ_ARRAY_LEN(mul);
        break;
    case L_CONCAT:
        ops = cat;
        n = BZ_ARRAY_LEN(cat);
        break;
    default:
        return NULL;
    }
    for (size_t i = 0; i < n; i++)
        if (is_op(&p->t, ops[i])) return ops[i];
    return NULL;
}

/* The equality level: =, ==, !=, <>, IS [NOT] [DISTINCT FROM], [NOT] IN,
** [NOT] LIKE/GLOB [ESCAPE], [NOT] BETWEEN, ISNULL, NOTNULL, NOT NULL. */
static PlanExpr *parse_eq(Parser *p) {
    int start = start_of(p);
    PlanExpr *l = parse_level(p, L_CMP);
    while (l && !p->rc) {
        int bNot = 0;
        if (is_op(&p->t, "=") || is_op(&p->t, "==") || is_op(&p->t, "!=") || is_op(&p->t, "<>")) {
            const char *op = is_op(&p->t, "=") || is_op(&p->t, "==") ? "=" : "<>";
            advance(p);
            l = make_binary(p, op, l, parse_level(p, L_CMP), start);
            continue;
        }
        if (plan_tok_is(&p->t, "ISNULL") || plan_tok_is(&p->t, "NOTNULL")) {
            PlanExpr *e = new_expr(p, PE_ISNULL, start);
            if (!e) return NULL;
            e->bNot = plan_tok_is(&p->t, "NOTNULL");
            advance(p);
            push_arg(p, e, l);
            end_span(p, e);
            l = e;
            continue;
        }
        if (plan_tok_is(&p->t, "IS")) {
            advance(p);
            int isnot = accept_kw(p, "NOT");
            if (accept_kw(p, "DISTINCT")) {
                if (!accept_kw(p, "FROM")) return syntax_error(p);
                isnot = !isnot;
            }
            if (plan_tok_is(&p->t, "NULL")) {
                advance(p);
                PlanExpr *e = new_expr(p, PE_ISNULL, start);
                if (!e) return NULL;
                e->bNot = isnot;
                push_arg(p, e, l);
                end_span(p, e);
                l = e;
                continue;
            }
            l = make_binary(p, isnot ? "IS NOT" : "IS", l, parse_level(p, L_CMP), start);
            continue;
        }
        if (plan_tok_is(&p->t, "NOT")) {
            PlanToken nx = peek(p);
            if (plan_tok_is(&nx, "NULL")) {
                advance(p);
                advance(p);
                PlanExpr *e = new_expr(p, PE_ISNULL, start);
                if (!e) return NULL;
                e->bNot = 1;
                push_arg(p, e, l);
                end_span(p, e);
                l = e;
                continue;
            }
            if (!plan_tok_is(&nx, "IN") && !plan_tok_is(&nx, "LIKE") && !plan_tok_is(&nx, "GLOB") &&
                !plan_tok_is(&nx, "BETWEEN") && !plan_tok_is(&nx, "MATCH") &&
                !plan_tok_is(&nx, "REGEXP"))
                break;
            advance(p);
            bNot = 1;
        }
        if (plan_tok_is(&p->t, "MATCH") || plan_tok_is(&p->t, "REGEXP"))
            return unsupported(p, "MATCH and REGEXP are");
        if (plan_tok_is(&p->t, "LIKE") || plan_tok_is(&p->t, "GLOB")) {
            int like = plan_tok_is(&p->t, "LIKE");
            advance(p);
            const char *op = like ? (bNot ? "NOT LIKE" : "LIKE") : (bNot ? "NOT GLOB" : "GLOB");
            PlanExpr *e = make_binary(p, op, l, parse_level(p, L_CMP), start);
            if (e && accept_kw(p, "ESCAPE")) {
                if (!like) return syntax_error(p);
                push_arg(p, e, parse_level(p, L_CMP));
                end_span(p, e);
            }
            l = p->rc ? NULL : e;
            continue;
        }
        if (plan_tok_is(&p->t, "BETWEEN")) {
            advance(p);
            PlanExpr *e = new_expr(p, PE_BETWEEN, start);
            if (!e) return NULL;
            e->bNot = bNot;
            push_arg(p, e, l);
            push_arg(p, e, parse_level(p, L_CMP));
            if (!accept_kw(p, "AND")) return syntax_error(p);
            push_arg(p, e, parse_level(p, L_CMP));
            end_span(p, e);
            l = p->rc ? NULL : e;
            continue;
        }
        if (plan_tok_is(&p->t, "IN")) {
            advance(p);
            if (!is_op(&p->t, "(")) return unsupported(p, "IN with a table or function is");
            advance(p);
            if (plan_tok_is(&p->t, "SELECT") || plan_tok_is(&p->t, "WITH") ||
                plan_tok_is(&p->t, "VALUES"))
                return unsupported(p, "subqueries (IN (SELECT ...)) are");
            PlanExpr *e = new_expr(p, PE_IN, start);
            if (!e) return NULL;
            e->bNot = bNot;
            push_arg(p, e, l);
            if (!is_op(&p->t, ")")) {
                do {
                    if (push_arg(p, e, parse_expr(p))) return NULL;
                } while (accept_op(p, ","));
            }
            expect_op(p, ")");
            end_span(p, e);
            l = p->rc ? NULL : e;
            continue;
        }
        if (bNot) return syntax_error(p);
        break;
    }
    return p->rc ? NULL : l;
}

static PlanExpr *parse_level(Parser *p, int level) {
    int start = start_of(p);
    if (p->rc) return NULL;
    switch (level) {
    case L_OR:
    case L_AND: {
        PlanExpr *l = parse_level(p, level + 1);
        const char *kw = level == L_OR ? "OR" : "AND";
        while (l && accept_kw(p, kw))
            l = make_binary(p, kw, l, parse_level(p, level + 1), start);
        return p->rc ? NULL : l;
    }
    case L_NOT:
        if (accept_kw(p, "NOT")) {
            PlanExpr *c = parse_level(p, L_NOT);
            if (!c) return NULL;
            PlanExpr *e = new_expr(p, PE_UNARY, start);
            if (!e) return NULL;
            e->z = "NOT";
            push_arg(p, e, c);
            end_span(p, e);
            return p->rc ? NULL : e;
        }
        return parse_eq(p);
    case L_EQ:
        return parse_eq(p);
    case L_UNARY:
        return parse_unary(p);
    default: {
        PlanExpr *l = parse_level(p, level + 1);
        const char *op;
        while (l && (op = binop_at(p, level)) != NULL) {
            advance(p);
            l = make_binary(p, op, l, parse_level(p, level + 1), start);
        }
        return p->rc ? NULL : l;
    }
    }
}

static PlanExpr *parse_expr(Parser *p) {
    return parse_level(p, L_OR);
}

/* ---- SELECT ------------------------------------------------------------------ */

static char *parse_alias(Parser *p, int required) {
    if (accept_kw(p, "AS")) required = 1;
    if (p->t.type == PT_STRING) {
        char *s = arena_strndup(p, p->t.z + 1, p->t.n - 2);
        /* '' inside a string alias */
        char *o = s;
        for (const char *i = s; i && *i; i++) {
            *o++ = *i;
            if (*i == '\'' && i[1] == '\'') i++;
        }
        if (o) *o = 0;
        advance(p);
        return s;
    }
    if (is_name_token(&p->t)) {
        char *s = ident_text(p, &p->t);
        advance(p);
        return s;
    }
    if (required) syntax_error(p);
    return NULL;
}

static int push_item(Parser *p, void **arr, int *n, size_t sz) {
    if ((*n & 7) == 0) {
        char *na = arena_alloc(p->ar, (size_t)(*n + 8) * sz);
        if (!na) {
            fail(p, BZ_NOMEM, "out of memory%s", NULL);
            return -1;
        }
        if (*n) memcpy(na, *arr, (size_t)*n * sz);
        *arr = na;
    }
    return (*n)++;
}

static void parse_from(Parser *p, PlanSelect *s) {
    if (is_op(&p->t, "(")) {
        unsupported(p, "subqueries in FROM are");
        return;
    }
    if (plan_tok_is(&p->t, "VALUES")) {
        unsupported(p, "VALUES is");
        return;
    }
    if (!is_name_token(&p->t)) {
        syntax_error(p);
        return;
    }
    s->zTable = ident_text(p, &p->t);
    advance(p);
    if (accept_op(p, ".")) {
        if (!is_name_token(&p->t)) {
            syntax_error(p);
            return;
        }
        s->zSchema = s->zTable;
        s->zTable = ident_text(p, &p->t);
        advance(p);
    }
    if (is_op(&p->t, "(")) {
        unsupported(p, "table-valued functions are");
        return;
    }
    s->zAlias = parse_alias(p, 0);
    if (plan_tok_is(&p->t, "INDEXED") || plan_tok_is(&p->t, "NOT")) {
        unsupported(p, "INDEXED BY is");
        return;
    }
    if (is_op(&p->t, ",") || plan_tok_is(&p->t, "JOIN") || plan_tok_is(&p->t, "LEFT") ||
        plan_tok_is(&p->t, "RIGHT") || plan_tok_is(&p->t, "FULL") || plan_tok_is(&p->t, "INNER") ||
        plan_tok_is(&p->t, "CROSS") || plan_tok_is(&p->t, "NATURAL") || plan_tok_is(&p->t, "OUTER"))
        unsupported(p, "joins are");
}

static PlanExpr **parse_expr_list(Parser *p, int *n) {
    PlanExpr **a = NULL;
    *n = 0;
    do {
        int i = push_item(p, (void **)&a, n, sizeof *a);
        if (i < 0) return NULL;
        a[i] = parse_expr(p);
    } while (!p->rc && accept_op(p, ","));
    return p->rc ? NULL : a;
}

static void parse_select(Parser *p, PlanSelect *s) {
    if (plan_tok_is(&p->t, "WITH")) {
        unsupported(p, "common table expressions (WITH) are");
        return;
    }
    if (plan_tok_is(&p->t, "VALUES")) {
        unsupported(p, "VALUES is");
        return;
    }
    if (!accept_kw(p, "SELECT")) {
        if (p->t.type == PT_ID)
            fail(p, BZ_UNSUPPORTED, "only SELECT statements can run on hbee (got %s)",
                 arena_strndup(p, p->t.z, p->t.n));
        else
            syntax_error(p);
        return;
    }
    if (accept_kw(p, "DISTINCT"))
        s->bDistinct = 1;
    else
        accept_kw(p, "ALL");
    do {
        int i = push_item(p, (void **)&s->aCol, &s->nCol, sizeof *s->aCol);
        if (i < 0) return;
        PlanResultCol *c = &s->aCol[i];
        if (accept_op(p, "*")) {
            c->bStar = 1;
            continue;
        }
        if (is_name_token(&p->t)) {
            PlanToken n1 = peek(p);
            if (is_op(&n1, ".")) {
                /* t.* ? */
                int save_pos = p->pos;
                PlanToken save_t = p->t;
                int save_prev = p->prev_end;
                char *q = ident_text(p, &p->t);
                advance(p);
                advance(p);
                if (accept_op(p, "*")) {
                    c->bStar = 1;
                    c->zStarQual = q;
                    continue;
                }
                p->pos = save_pos;
                p->t = save_t;
                p->prev_end = save_prev;
            }
        }
        c->pExpr = parse_expr(p);
        if (p->rc) return;
        c->zAlias = parse_alias(p, 0);
    } while (!p->rc && accept_op(p, ","));
    if (p->rc) return;
    if (!accept_kw(p, "FROM")) {
        if (p->t.type == PT_EOF || is_op(&p->t, ";"))
            fail(p, BZ_UNSUPPORTED, "a query without FROM has no dataset to split%s", NULL);
        else
            syntax_error(p);
        return;
    }
    parse_from(p, s);
    if (accept_kw(p, "WHERE")) s->pWhere = parse_expr(p);
    if (plan_tok_is(&p->t, "GROUP")) {
        advance(p);
        if (!accept_kw(p, "BY")) {
            syntax_error(p);
            return;
        }
        s->aGroup = parse_expr_list(p, &s->nGroup);
    }
    if (accept_kw(p, "HAVING")) s->pHaving = parse_expr(p);
    if (plan_tok_is(&p->t, "WINDOW")) {
        unsupported(p, "window functions (WINDOW) are");
        return;
    }
    if (plan_tok_is(&p->t, "UNION") || plan_tok_is(&p->t, "INTERSECT") ||
        plan_tok_is(&p->t, "EXCEPT")) {
        unsupported(p, "compound SELECTs (UNION, INTERSECT, EXCEPT) are");
        return;
    }
    if (plan_tok_is(&p->t, "ORDER")) {
        advance(p);
        if (!accept_kw(p, "BY")) {
            syntax_error(p);
            return;
        }
        do {
            int i = push_item(p, (void **)&s->aOrder, &s->nOrder, sizeof *s->aOrder);
            if (i < 0) return;
            PlanOrderTerm *o = &s->aOrder[i];
            o->pExpr = parse_expr(p);
            if (accept_kw(p, "DESC"))
                o->bDesc = 1;
            else
                accept_kw(p, "ASC");
            if (accept_kw(p, "NULLS")) {
                if (accept_kw(p, "FIRST"))
                    o->nulls = 1;
                else if (accept_kw(p, "LAST"))
                    o->nulls = 2;
                else
                    syntax_error(p);
            }
        } while (!p->rc && accept_op(p, ","));
    }
    if (accept_kw(p, "LIMIT")) {
        s->pLimit = parse_expr(p);
        if (accept_kw(p, "OFFSET")) {
            s->pOffset = parse_expr(p);
        } else if (accept_op(p, ",")) {
            /* LIMIT offset, count */
            s->pOffset = s->pLimit;
            s->pLimit = parse_expr(p);
        }
    }
    if (p->rc) return;
    accept_op(p, ";");
    if (p->t.type != PT_EOF) {
        if (plan_tok_is(&p->t, "UNION") || plan_tok_is(&p->t, "INTERSECT") ||
            plan_tok_is(&p->t, "EXCEPT"))
            unsupported(p, "compound SELECTs (UNION, INTERSECT, EXCEPT) are");
        else if (plan_tok_is(&p->t, "SELECT") || plan_tok_is(&p->t, "WITH"))
            fail(p, BZ_UNSUPPORTED, "only one statement can run on hbee%s", NULL);
        else
            syntax_error(p);
    }
}

int plan_parse(const char *zSql, PlanSelect **out, BzErr *err) {
    Parser p;
    PlanArena *ar = bz_calloc(1, sizeof *ar);
    *out = NULL;
    if (!ar) return bz_err(err, BZ_NOMEM, "out of memory");
    memset(&p, 0, sizeof p);
    p.ar = ar;
    p.err = err;
    PlanSelect *s = arena_alloc(ar, sizeof *s);
    char *copy = s ? arena_alloc(ar, strlen(zSql) + 1) : NULL;
    if (!copy) {
        arena_free(ar);
        return bz_err(err, BZ_NOMEM, "out of memory");
    }
    strcpy(copy, zSql);
    s->arena = ar;
    s->zSql = copy;
    p.z = copy;
    p.rc = plan_lex_next(copy, &p.pos, &p.t, err);
    if (!p.rc) parse_select(&p, s);
    if (p.rc) {
        arena_free(ar);
        return p.rc;
    }
    *out = s;
    return BZ_OK;
}

/* ---- printing ---------------------------------------------------------------- */

static void print_ident(BzBuf *b, const char *z) {
    bz_buf_appendc(b, '"');
    for (; *z; z++) {
        if (*z == '"') bz_buf_appendc(b, '"');
        bz_buf_appendc(b, *z);
    }
    bz_buf_appendc(b, '"');
}

/* Operands that are themselves operators are parenthesized. */
static int is_compound(const PlanExpr *e) {
    switch (e->op) {
    case PE_UNARY:
    case PE_BINARY:
    case PE_ISNULL:
    case PE_BETWEEN:
    case PE_IN:
    case PE_COLLATE:
        return 1;
    default:
        return 0;
    }
}

static void print_operand(BzBuf *b, const PlanExpr *e) {
    if (is_compound(e)) {
        bz_buf_appendc(b, '(');
        plan_expr_print(b, e);
        bz_buf_appendc(b, ')');
    } else {
        plan_expr_print(b, e);
    }
}

void plan_expr_print(BzBuf *b, const PlanExpr *e) {
    switch (e->op) {
    case PE_LIT:
        bz_buf_appendz(b, e->z);
        break;
    case PE_REF:
        bz_buf_appendz(b, e->z);
        break;
    case PE_COL:
        print_ident(b, e->z);
        break;
    case PE_FUNC:
        bz_buf_printf(b, "%s(", e->z);
        if (e->bDistinct) bz_buf_appendz(b, "DISTINCT ");
        if (e->bStar) bz_buf_appendc(b, '*');
        for (int i = 0; i < e->nA; i++) {
            if (i) bz_buf_appendz(b, ", ");
            plan_expr_print(b, e->a[i]);
        }
        bz_buf_appendc(b, ')');
        if (e->pFilter) {
            bz_buf_appendz(b, " FILTER (WHERE ");
            plan_expr_print(b, e->pFilter);
            bz_buf_appendc(b, ')');
        }
        break;
    case PE_UNARY:
        bz_buf_appendz(b, e->z);
        if (e->z[0] == 'N') bz_buf_appendc(b, ' ');
        print_operand(b, e->a[0]);
        break;
    case PE_BINARY:
        print_operand(b, e->a[0]);
        bz_buf_printf(b, " %s ", e->z);
        print_operand(b, e->a[1]);
        if (e->nA > 2) {
            bz_buf_appendz(b, " ESCAPE ");
            print_operand(b, e->a[2]);
        }
        break;
    case PE_ISNULL:
        print_operand(b, e->a[0]);
        bz_buf_appendz(b, e->bNot ? " IS NOT NULL" : " IS NULL");
        break;
    case PE_BETWEEN:
        print_operand(b, e->a[0]);
        bz_buf_appendz(b, e->bNot ? " NOT BETWEEN " : " BETWEEN ");
        print_operand(b, e->a[1]);
        bz_buf_appendz(b, " AND ");
        print_operand(b, e->a[2]);
        break;
    case PE_IN:
        print_operand(b, e->a[0]);
        bz_buf_appendz(b, e->bNot ? " NOT IN (" : " IN (");
        for (int i = 1; i < e->nA; i++) {
            if (i > 1) bz_buf_appendz(b, ", ");
            plan_expr_print(b, e->a[i]);
        }
        bz_buf_appendc(b, ')');
        break;
    case PE_CASE: {
        int i = 0;
        bz_buf_appendz(b, "CASE");
        if (e->bBase) {
            bz_buf_appendc(b, ' ');
            plan_expr_print(b, e->a[i++]);
        }
        int end = e->nA - (e->bElse ? 1 : 0);
        for (; i + 1 < end; i += 2) {
            bz_buf_appendz(b, " WHEN ");
            plan_expr_print(b, e->a[i]);
            bz_buf_appendz(b, " THEN ");
            plan_expr_print(b, e->a[i + 1]);
        }
        if (e->bElse) {
            bz_buf_appendz(b, " ELSE ");
            plan_expr_print(b, e->a[e->nA - 1]);
        }
        bz_buf_appendz(b, " END");
        break;
    }
    case PE_CAST:
        bz_buf_appendz(b, "CAST(");
        plan_expr_print(b, e->a[0]);
        bz_buf_printf(b, " AS %s)", e->z);
        break;
    case PE_COLLATE: {
        int bare = isalpha((unsigned char)e->z[0]) || e->z[0] == '_';
        for (const char *c = e->z; *c; c++)
            if (!isalnum((unsigned char)*c) && *c != '_') bare = 0;
        print_operand(b, e->a[0]);
        bz_buf_appendz(b, " COLLATE ");
        if (bare)
            bz_buf_appendz(b, e->z);
        else
            print_ident(b, e->z);
        break;
    }
    }
}

/* ---- equality, collation ------------------------------------------------------- */

static int streq_nocase(const char *a, const char *b) {
    if (!a || !b) return a == b;
    while (*a && tolower((unsigned char)*a) == tolower((unsigned char)*b))
        a++, b++;
    return tolower((unsigned char)*a) == tolower((unsigned char)*b);
}

int plan_expr_equal(const PlanExpr *a, const PlanExpr *b) {
    if (!a || !b) return a == b;
    if (a->op != b->op || a->nA != b->nA || a->bStar != b->bStar || a->bDistinct != b->bDistinct ||
        a->bNot != b->bNot || a->bBase != b->bBase || a->bElse != b->bElse)
        return 0;
    if (a->op == PE_COL && a->iCol >= 0 && b->iCol >= 0) {
        if (a->iCol != b->iCol) return 0;
    } else if (a->op == PE_LIT || a->op == PE_REF) {
        if (strcmp(a->z, b->z)) return 0;
    } else if (!streq_nocase(a->z, b->z)) {
        return 0;
    }
    if (!plan_expr_equal(a->pFilter, b->pFilter)) return 0;
    for (int i = 0; i < a->nA; i++)
        if (!plan_expr_equal(a->a[i], b->a[i])) return 0;
    return 1;
}

const char *plan_expr_collation(const PlanExpr *e) {
    while (e) {
        switch (e->op) {
        case PE_COLLATE:
            return e->z;
        case PE_UNARY:
            if (e->z[0] == 'N') return NULL;
            e = e->a[0];
            break;
        case PE_BINARY: {
            /* comparison and arithmetic results carry the operands' explicit
            ** collation, left first */
            const char *l = plan_expr_collation(e->a[0]);
            return l ? l : plan_expr_collation(e->a[1]);
        }
        default:
            return NULL;
        }
    }
    return NULL;
}

/* ---- functions ------------------------------------------------------------------- */

/* Deterministic SQLite built-ins (core, date/time, math, JSON). Rationale:
** workers run with an allowlist, not a denylist, so a task from the network
** cannot reach an application or extension function (file access, network,
** load_extension). */
static const char *const scalar_funcs[] = {
    "abs",          "acos",         "acosh",       "asin",       "asinh",      "atan",
    "atan2",        "atanh",        "ceil",        "ceiling",    "char",       "coalesce",
    "concat",       "concat_ws",    "cos",         "cosh",       "date",       "datetime",
    "degrees",      "exp",          "floor",       "format",     "glob",       "hex",
    "ifnull",       "iif",          "instr",       "json",       "json_array", "json_array_length",
    "json_extract", "json_insert",  "json_object", "json_patch", "json_quote", "json_remove",
    "json_replace", "json_set",     "json_type",   "json_valid", "julianday",  "length",
    "like",         "likelihood",   "likely",      "ln",         "log",        "log10",
    "log2",         "lower",        "ltrim",       "max",        "min",        "mod",
    "nullif",       "octet_length", "pi",          "pow",        "power",      "printf",
    "quote",        "radians",      "replace",     "round",      "rtrim",      "sign",
    "sin",          "sinh",         "sqrt",        "strftime",   "substr",     "substring",
    "tan",          "tanh",         "time",        "trim",       "trunc",      "typeof",
    "unhex",        "unicode",      "unixepoch",   "unlikely",   "upper",      "zeroblob",
};
static const char *const agg_funcs[] = {"avg", "count",      "group_concat", "max",
                                        "min", "string_agg", "sum",          "total"};
static const char *const nondet_funcs[] = {"changes", "last_insert_rowid", "random", "randomblob",
                                           "total_changes"};

static int in_list(const char *z, const char *const *list, size_t n) {
    for (size_t i = 0; i < n; i++)
        if (streq_nocase(z, list[i])) return 1;
    return 0;
}

int plan_func_class(const char *zName, int nArg) {
    if (in_list(zName, agg_funcs, BZ_ARRAY_LEN(agg_funcs))) {
        if ((streq_nocase(zName, "min") || streq_nocase(zName, "max")) && nArg > 1)
            return PF_SCALAR;
        return PF_AGG;
    }
    if (in_list(zName, scalar_funcs, BZ_ARRAY_LEN(scalar_funcs))) return PF_SCALAR;
    if (in_list(zName, nondet_funcs, BZ_ARRAY_LEN(nondet_funcs))) return PF_NONDET;
    return PF_UNKNOWN;
}
