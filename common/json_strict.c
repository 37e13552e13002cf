/* json_strict.c - a strict RFC 8259 syntax check; see json_strict.h. */
#include "json_strict.h"

#include <ctype.h>
#include <string.h>

#define JSON_FAIL ((size_t)-1)

int json_strict_nul_escape(const void *text, size_t n)
{
    const unsigned char *p = text;
    int in_string = 0;

    for (size_t i = 0; i < n; i++) {
        if (!in_string) {
            in_string = p[i] == '"';
        } else if (p[i] == '"') {
            in_string = 0;
        } else if (p[i] == '\\') {
            if (n - i >= 6 && memcmp(p + i + 1, "u0000", 5) == 0)
                return 1;
            i++;
        }
    }
    return 0;
}

static size_t skip_ws(const unsigned char *p, size_t n, size_t i)
{
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r'))
        i++;
    return i;
}

static int is_digit(const unsigned char *p, size_t n, size_t i)
{
    return i < n && p[i] >= '0' && p[i] <= '9';
}

/* The string opening at p[i]: the index after it, or JSON_FAIL. */
static size_t scan_string(const unsigned char *p, size_t n, size_t i)
{
    for (i++; i < n; i++) {
        if (p[i] == '"')
            return i + 1;
        if (p[i] < 0x20)
            return JSON_FAIL;
        if (p[i] != '\\')
            continue;
        if (++i >= n)
            return JSON_FAIL;
        if (p[i] == 'u') {
            for (int k = 1; k <= 4; k++)
                if (i + k >= n || !isxdigit(p[i + k]))
                    return JSON_FAIL;
            i += 4;
        } else if (strchr("\"\\/bfnrt", p[i]) == NULL) {
            return JSON_FAIL;
        }
    }
    return JSON_FAIL;
}

/* The number starting at p[i]: the index after it, or JSON_FAIL. */
static size_t scan_number(const unsigned char *p, size_t n, size_t i)
{
    if (i < n && p[i] == '-')
        i++;
    if (!is_digit(p, n, i))
        return JSON_FAIL;
    if (p[i] == '0')
        i++;
    else
        while (is_digit(p, n, i))
            i++;
    if (i < n && p[i] == '.') {
        if (!is_digit(p, n, ++i))
            return JSON_FAIL;
        while (is_digit(p, n, i))
            i++;
    }
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        if (!is_digit(p, n, i))
            return JSON_FAIL;
        while (is_digit(p, n, i))
            i++;
    }
    return i;
}

/* The scalar (string, number, true, false, null) at p[i]: the index after it, or JSON_FAIL. */
static size_t scan_scalar(const unsigned char *p, size_t n, size_t i)
{
    if (p[i] == '"')
        return scan_string(p, n, i);
    if (p[i] == '-' || (p[i] >= '0' && p[i] <= '9'))
        return scan_number(p, n, i);
    if (n - i >= 4 && memcmp(p + i, "true", 4) == 0)
        return i + 4;
    if (n - i >= 5 && memcmp(p + i, "false", 5) == 0)
        return i + 5;
    if (n - i >= 4 && memcmp(p + i, "null", 4) == 0)
        return i + 4;
    return JSON_FAIL;
}

/*
 * A push-down automaton over the text: the stack holds the open brackets,
 * the state says what may come next. No recursion, so deep nesting costs
 * no C stack.
 */
int json_strict_check(const void *text, size_t n, size_t *at)
{
    enum { VALUE, VALUE_OR_CLOSE, KEY, KEY_OR_CLOSE, AFTER } state = VALUE;
    const unsigned char *p = text;
    char stack[JSON_STRICT_MAX_DEPTH];
    int depth = 0;
    size_t i = 0;

    for (;;) {
        i = skip_ws(p, n, i);
        *at = i;
        if (state == AFTER) {
            if (depth == 0)
                return i == n;
            if (i >= n)
                return 0;
            if (p[i] == ',') {
                state = stack[depth - 1] == '{' ? KEY : VALUE;
                i++;
            } else if (p[i] == (stack[depth - 1] == '{' ? '}' : ']')) {
                depth--;
                i++;
            } else {
                return 0;
            }
            continue;
        }
        if (i >= n)
            return 0;
        if (state == KEY || state == KEY_OR_CLOSE) {
            if (state == KEY_OR_CLOSE && p[i] == '}') {
                depth--;
                i++;
                state = AFTER;
                continue;
            }
            if (p[i] != '"' || (i = scan_string(p, n, i)) == JSON_FAIL)
                return 0;
            i = skip_ws(p, n, i);
            *at = i;
            if (i >= n || p[i] != ':')
                return 0;
            i++;
            state = VALUE;
            continue;
        }
        /* VALUE or VALUE_OR_CLOSE */
        if (state == VALUE_OR_CLOSE && p[i] == ']') {
            depth--;
            i++;
            state = AFTER;
            continue;
        }
        if (p[i] == '{' || p[i] == '[') {
            if (depth == JSON_STRICT_MAX_DEPTH)
                return 0;
            stack[depth++] = (char)p[i];
            state = p[i] == '{' ? KEY_OR_CLOSE : VALUE_OR_CLOSE;
            i++;
            continue;
        }
        if ((i = scan_scalar(p, n, i)) == JSON_FAIL)
            return 0;
        state = AFTER;
    }
}
