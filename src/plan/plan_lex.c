/*
** plan_lex.c: SQL tokenizer for the planner, following SQLite's lexical
** rules (tokenize.c): '' inside strings, "" inside quoted identifiers,
** [bracket] and `backquote` identifiers, x'..' blobs, -- and C comments,
** decimal/hex/exponent numbers.
**
**     int pos = 0;  PlanToken t;
**     while (plan_lex_next(sql, &pos, &t, &err) == BZ_OK && t.type != PT_EOF) ...
*/
#include "plan/plan.h"

#include <ctype.h>
#include <string.h>

static int is_id_start(unsigned char c) {
    return isalpha(c) || c == '_' || c >= 0x80;
}
static int is_id_char(unsigned char c) {
    return isalnum(c) || c == '_' || c == '$' || c >= 0x80;
}

int plan_tok_is(const PlanToken *t, const char *kw) {
    size_t n = strlen(kw);
    if (t->type != PT_ID || (size_t)t->n != n) return 0;
    for (size_t i = 0; i < n; i++)
        if (toupper((unsigned char)t->z[i]) != kw[i]) return 0;
    return 1;
}

/* Words that end an expression or a list in our grammar, so they cannot be
** bare column names or aliases. (SQLite accepts some of them as identifiers
** in places; quoting them always works.) */
static const char *const reserved[] = {
    "ALL",
    "AND",
    "AS",
    "ASC",
    "BETWEEN",
    "BY",
    "CASE",
    "CAST",
    "COLLATE",
    "CROSS",
    "CURRENT_DATE",
    "CURRENT_TIME",
    "CURRENT_TIMESTAMP",
    "DESC",
    "DISTINCT",
    "ELSE",
    "END",
    "ESCAPE",
    "EXCEPT",
    "EXISTS",
    "FILTER",
    "FROM",
    "FULL",
    "GLOB",
    "GROUP",
    "HAVING",
    "IN",
    "INDEXED",
    "INNER",
    "INTERSECT",
    "IS",
    "ISNULL",
    "JOIN",
    "LEFT",
    "LIKE",
    "LIMIT",
    "MATCH",
    "NATURAL",
    "NOT",
    "NOTNULL",
    "NULL",
    "NULLS",
    "OFFSET",
    "ON",
    "OR",
    "ORDER",
    "OUTER",
    "OVER",
    "REGEXP",
    "RIGHT",
    "SELECT",
    "THEN",
    "UNION",
    "USING",
    "VALUES",
    "WHEN",
    "WHERE",
    "WINDOW",
    "WITH",
};

int plan_is_reserved(const char *z, int n) {
    for (size_t i = 0; i < BZ_ARRAY_LEN(reserved); i++) {
        const char *k = reserved[i];
        if ((int)strlen(k) != n) continue;
        int j = 0;
        while (j < n && toupper((unsigned char)z[j]) == k[j])
            j++;
        if (j == n) return 1;
    }
    return 0;
}

int plan_lex_next(const char *z, int *pos, PlanToken *tok, BzErr *err) {
    int i = *pos;
    for (;;) {
        while (z[i] && isspace((unsigned char)z[i]))
            i++;
        if (z[i] == '-' && z[i + 1] == '-') {
            while (z[i] && z[i] != '\n')
                i++;
            continue;
        }
        if (z[i] == '/' && z[i + 1] == '*') {
            const char *e = strstr(z + i + 2, "*/");
            i = e ? (int)(e - z) + 2 : (int)strlen(z);
            continue;
        }
        break;
    }
    int s = i;
    unsigned char c = (unsigned char)z[i];
    tok->z = z + s;
    if (c == 0) {
        tok->type = PT_EOF;
        tok->n = 0;
        *pos = i;
        return BZ_OK;
    }
    if ((c == 'x' || c == 'X') && z[i + 1] == '\'') {
        i += 2;
        while (isxdigit((unsigned char)z[i]))
            i++;
        if (z[i] != '\'' || (i - s - 2) % 2)
            return bz_err(err, BZ_MISUSE, "malformed blob literal at offset %d", s);
        i++;
        tok->type = PT_BLOB;
    } else if (is_id_start(c)) {
        while (is_id_char((unsigned char)z[i]))
            i++;
        tok->type = PT_ID;
    } else if (c == '\'' || c == '"' || c == '`' || c == '[') {
        char q = c == '[' ? ']' : (char)c;
        i++;
        for (;;) {
            if (!z[i])
                return bz_err(err, BZ_MISUSE, "unterminated %s at offset %d",
                              c == '\'' ? "string" : "quoted identifier", s);
            if (z[i] == q) {
                if (q != ']' && z[i + 1] == q) {
                    i += 2;
                    continue;
                }
                i++;
                break;
            }
            i++;
        }
        tok->type = c == '\'' ? PT_STRING : PT_QID;
    } else if (isdigit(c) || (c == '.' && isdigit((unsigned char)z[i + 1]))) {
        tok->type = PT_INTEGER;
        if (c == '0' && (z[i + 1] == 'x' || z[i + 1] == 'X') && isxdigit((unsigned char)z[i + 2])) {
            i += 2;
            while (isxdigit((unsigned char)z[i]))
                i++;
        } else {
            while (isdigit((unsigned char)z[i]))
                i++;
            if (z[i] == '.') {
                tok->type = PT_FLOAT;
                i++;
                while (isdigit((unsigned char)z[i]))
                    i++;
            }
            if ((z[i] == 'e' || z[i] == 'E') &&
                (isdigit((unsigned char)z[i + 1]) ||
                 ((z[i + 1] == '+' || z[i + 1] == '-') && isdigit((unsigned char)z[i + 2])))) {
                tok->type = PT_FLOAT;
                i += 2;
                while (isdigit((unsigned char)z[i]))
                    i++;
            }
        }
        if (is_id_char((unsigned char)z[i]))
            return bz_err(err, BZ_MISUSE, "unrecognized token at offset %d: \"%.*s\"", s, i - s + 1,
                          z + s);
    } else if (c == '?' || c == ':' || c == '@' || c == '$') {
        i++;
        while (is_id_char((unsigned char)z[i]))
            i++;
        tok->type = PT_VARIABLE;
    } else {
        static const char *const two[] = {"||", "<=", ">=", "==", "!=", "<>", "<<", ">>", "->"};
        tok->type = PT_OP;
        if (c == '-' && z[i + 1] == '>' && z[i + 2] == '>') {
            i += 3;
        } else {
            size_t k;
            for (k = 0; k < BZ_ARRAY_LEN(two); k++)
                if (z[i] == two[k][0] && z[i + 1] == two[k][1]) break;
            if (k < BZ_ARRAY_LEN(two)) {
                i += 2;
            } else if (strchr("(),;.+-*/%<>=&|~", c)) {
                i++;
            } else {
                return bz_err(err, BZ_MISUSE, "unrecognized token at offset %d: \"%c\"", s, c);
            }
        }
    }
    tok->n = i - s;
    *pos = i;
    return BZ_OK;
}
