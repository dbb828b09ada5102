/*
 * test_text.c - the line reader and the number parsers. The fast float
 * parser is checked bit for bit against strtof, its naive reference.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "io/io_impl.h"
#include "testutil.h"

TestSuite(text, .timeout = 60);

static void check_parse(const char *s)
{
    const char *p = s;
    float fast = 0;
    cr_assert(frost__parse_f32(&p, &fast), "parse failed on '%s'", s);
    char *end;
    float ref = strtof(s, &end);
    uint32_t a, b;
    memcpy(&a, &fast, 4);
    memcpy(&b, &ref, 4);
    cr_assert(a == b || (isnan(fast) && isnan(ref)), "'%s': fast %a vs strtof %a", s, (double)fast, (double)ref);
    cr_assert_eq(p, (const char *)end, "'%s': stopped at offset %td, strtof at %td", s, p - s, end - s);
}

Test(text, float_parser_matches_strtof_on_random_decimals)
{
    frost_rng r;
    frost_rng_init(&r, 1, 2);
    char buf[128];
    const char *fmts[] = {"%.6f", "%.9g", "%.17g", "%g", "%.3e", "%.8e", "%.1f", "%.12f", "%.20f"};
    for (int k = 0; k < 200000; k++) {
        double mag = pow(10.0, (double)(int)frost_rng_next_below(&r, 30) - 15.0);
        double v = (frost_rng_next_double(&r) - 0.5) * mag;
        snprintf(buf, sizeof buf, fmts[k % 9], v);
        check_parse(buf);
    }
}

Test(text, float_parser_handles_float_midpoints)
{
    /* Decimals that round (in double) to exactly halfway between two floats
     * would be double-rounded by a naive fast path. */
    frost_rng r;
    frost_rng_init(&r, 3, 4);
    char buf[128];
    for (int k = 0; k < 100000; k++) {
        uint32_t bits = frost_rng_next_u32(&r) & 0x7f7fffffu; /* finite */
        float f;
        memcpy(&f, &bits, 4);
        if (!isnormal(f)) continue;
        float g = nextafterf(f, INFINITY);
        double mid = ((double)f + (double)g) / 2.0;
        snprintf(buf, sizeof buf, "%.17g", mid);
        check_parse(buf);
        snprintf(buf, sizeof buf, "%.16g", mid);
        check_parse(buf);
    }
}

Test(text, float_parser_edge_cases)
{
    const char *cases[] = {"0", "-0", "0.0", "1", "-1", "3.4028235e38", "3.5e38", "1e-45", "1.4e-45",
                           "1e-50", "1.17549435e-38", "1.1754942e-38", "123456789012345678901234567890",
                           "0.000000000000000000000000000001", "nan", "-inf", "inf", "1e22", "1e23",
                           "9007199254740993", "0.1", "0.2", "0.30000001", "16777217", "16777216.5",
                           "5e-1", "1E+2", ".5", "5.", "-.25"};
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) check_parse(cases[k]);
    const char *bad[] = {"", "abc", "-", "+", ".", "e5"};
    for (size_t k = 0; k < sizeof bad / sizeof bad[0]; k++) {
        const char *p = bad[k];
        float v;
        cr_assert_not(frost__parse_f32(&p, &v), "'%s' parsed", bad[k]);
    }
}

Test(text, integer_parser)
{
    const char *p = "12345,";
    int64_t v;
    cr_assert(frost__parse_i64(&p, &v));
    cr_assert_eq(v, 12345);
    cr_assert_eq(*p, ',');
    p = "-9223372036854775807";
    cr_assert(frost__parse_i64(&p, &v));
    cr_assert_eq(v, -INT64_C(9223372036854775807));
    p = "99999999999999999999";
    cr_assert_not(frost__parse_i64(&p, &v));
    p = "x1";
    cr_assert_not(frost__parse_i64(&p, &v));
    p = " 7 ";
    cr_assert(frost__parse_i64(&p, &v));
    cr_assert_eq(v, 7);
    cr_assert_eq(*p, 0);
}

Test(text, float_rows_report_columns)
{
    float out[3];
    cr_assert_eq(frost__parse_float_row("1,2,3", 3, out, "f.csv", 4), FROST_OK);
    cr_assert(out[0] == 1.0f && out[1] == 2.0f && out[2] == 3.0f);
    cr_assert_eq(frost__parse_float_row("1,x,3", 3, out, "f.csv", 4), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "f.csv:4: column 2: expected a number, found 'x'"), "%s",
              frost_last_error());
    cr_assert_eq(frost__parse_float_row("1,2", 3, out, "f.csv", 5), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "f.csv:5: expected 3 columns, found 2"), "%s", frost_last_error());
    cr_assert_eq(frost__parse_float_row("1,2,3,4", 3, out, "f.csv", 6), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "expected 3 columns, found 4"), "%s", frost_last_error());
    cr_assert_eq(frost__parse_float_row("1,,3", 3, out, "f.csv", 7), FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "column 2: expected a number, found an empty field"), "%s",
              frost_last_error());
}

static int read_all(const char *path, char lines[][64], int max)
{
    frost__lines r;
    cr_assert_eq(frost__lines_open(&r, path), FROST_OK, "%s", frost_last_error());
    char *line;
    size_t len;
    int n = 0;
    frost_status st;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
        cr_assert_eq(strlen(line), len);
        if (n < max) snprintf(lines[n], 64, "%s", line);
        n++;
    }
    cr_assert_eq(st, FROST_DONE, "%s", frost_last_error());
    frost__lines_close(&r);
    return n;
}

Test(text, line_reader_plain_gzip_crlf_and_no_final_newline)
{
    char *d = tu_tmpdir();
    char lines[8][64];
    tu_writef(d, "a.csv", "1,2\r\n3,4\n\n5,6");
    cr_assert_eq(read_all(tu_path(d, "a.csv"), lines, 8), 4);
    cr_assert_str_eq(lines[0], "1,2");
    cr_assert_str_eq(lines[2], "");
    cr_assert_str_eq(lines[3], "5,6");
    tu_writef(d, "a.csv.gz", "1,2\r\n3,4\n\n5,6");
    cr_assert_eq(read_all(tu_path(d, "a.csv.gz"), lines, 8), 4);
    cr_assert_str_eq(lines[1], "3,4");
    tu_rmtree(d);
    free(d);
}

Test(text, line_reader_grows_for_long_lines)
{
    char *d = tu_tmpdir();
    size_t n = (9u << 20) + 17; /* longer than the initial buffer: it grows */
    char *big = malloc(n + 16);
    memset(big, '7', n);
    strcpy(big + n, "\nshort\n");
    tu_writef(d, "big.csv.gz", big);
    frost__lines r;
    cr_assert_eq(frost__lines_open(&r, tu_path(d, "big.csv.gz")), FROST_OK);
    char *line;
    size_t len;
    cr_assert_eq(frost__lines_next(&r, &line, &len), FROST_OK);
    cr_assert_eq(len, n);
    cr_assert_eq(frost__lines_next(&r, &line, &len), FROST_OK);
    cr_assert_str_eq(line, "short");
    cr_assert_eq(r.lineno, 2);
    cr_assert_eq(frost__lines_next(&r, &line, &len), FROST_DONE);
    frost__lines_close(&r);
    free(big);
    tu_rmtree(d);
    free(d);
}

Test(text, truncated_gzip_is_an_error)
{
    char *d = tu_tmpdir();
    char *text = malloc(1 << 20);
    size_t k = 0;
    for (int i = 0; k < (1u << 20) - 64; i++) k += (size_t)sprintf(text + k, "%d,%d\n", i, i * 7919 % 100003);
    const char *p = tu_path(d, "t.csv.gz");
    tu_write(p, text);
    tu_truncate(p, tu_file_size(p) / 2);
    frost__lines r;
    cr_assert_eq(frost__lines_open(&r, p), FROST_OK);
    char *line;
    size_t len;
    frost_status st;
    while ((st = frost__lines_next(&r, &line, &len)) == FROST_OK) {
    }
    cr_assert_eq(st, FROST_ERR_FORMAT);
    cr_assert(strstr(frost_last_error(), "t.csv.gz: corrupt or truncated gzip data"), "%s", frost_last_error());
    frost__lines_close(&r);
    free(text);
    tu_rmtree(d);
    free(d);
}

Test(text, missing_file)
{
    frost__lines r;
    cr_assert_eq(frost__lines_open(&r, "/nonexistent/x.csv.gz"), FROST_ERR_IO);
    cr_assert(strstr(frost_last_error(), "/nonexistent/x.csv.gz: no such file"), "%s", frost_last_error());
}
