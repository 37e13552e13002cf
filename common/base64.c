/* base64.c - RFC 4648 base64 encoding and strict decoding; see base64.h. */
#include "base64.h"

#include <stdint.h>

static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void base64_encode(const void *p, size_t n, char *out)
{
    const unsigned char *in = p;
    size_t i, o = 0;

    for (i = 0; i + 2 < n; i += 3) {
        uint32_t t = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8 | in[i + 2];
        out[o++] = alphabet[t >> 18];
        out[o++] = alphabet[(t >> 12) & 63];
        out[o++] = alphabet[(t >> 6) & 63];
        out[o++] = alphabet[t & 63];
    }
    if (n - i == 1) {
        uint32_t t = (uint32_t)in[i] << 16;
        out[o++] = alphabet[t >> 18];
        out[o++] = alphabet[(t >> 12) & 63];
        out[o++] = '=';
        out[o++] = '=';
    } else if (n - i == 2) {
        uint32_t t = (uint32_t)in[i] << 16 | (uint32_t)in[i + 1] << 8;
        out[o++] = alphabet[t >> 18];
        out[o++] = alphabet[(t >> 12) & 63];
        out[o++] = alphabet[(t >> 6) & 63];
        out[o++] = '=';
    }
    out[o] = '\0';
}

static int value_of(unsigned char c)
{
    if (c >= 'A' && c <= 'Z')
        return c - 'A';
    if (c >= 'a' && c <= 'z')
        return c - 'a' + 26;
    if (c >= '0' && c <= '9')
        return c - '0' + 52;
    if (c == '+')
        return 62;
    if (c == '/')
        return 63;
    return -1;
}

int base64_decode(const char *s, size_t n, void *p, size_t cap, size_t *outlen)
{
    unsigned char *out = p;
    size_t pad = 0, o = 0;

    if (n % 4 != 0)
        return -1;
    if (n > 0 && s[n - 1] == '=')
        pad = s[n - 2] == '=' ? 2 : 1;
    if (n / 4 * 3 - pad > cap)
        return -2;
    for (size_t i = 0; i < n; i += 4) {
        int last = i + 4 == n;
        int v[4];

        for (size_t j = 0; j < 4; j++) {
            if (last && s[i + j] == '=' && j >= 4 - pad)
                v[j] = 0;
            else if ((v[j] = value_of((unsigned char)s[i + j])) < 0)
                return -1;
        }
        if (last && ((pad == 2 && (v[1] & 0x0f) != 0) || (pad == 1 && (v[2] & 0x03) != 0)))
            return -1;
        uint32_t t =
            (uint32_t)v[0] << 18 | (uint32_t)v[1] << 12 | (uint32_t)v[2] << 6 | (uint32_t)v[3];
        out[o++] = (unsigned char)(t >> 16);
        if (!last || pad < 2)
            out[o++] = (unsigned char)(t >> 8);
        if (!last || pad < 1)
            out[o++] = (unsigned char)t;
    }
    *outlen = o;
    return 0;
}
