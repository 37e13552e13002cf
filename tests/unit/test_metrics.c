/* test_metrics.c - unit tests of the Prometheus text writer (common/metrics.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "metrics.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/test_metrics.XXXXXX");
    return mkdtemp(dir) == NULL ? -1 : 0;
}

static int teardown(void **state)
{
    (void)state;
    DIR *d = opendir(dir);
    struct dirent *e;
    char p[512];
    while (d != NULL && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    if (d != NULL)
        closedir(d);
    rmdir(dir);
    return 0;
}

static char *slurp(const char *path)
{
    static char buf[8192];
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* How many entries the directory holds besides . and .. */
static int entries(void)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL)
        n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(d);
    return n;
}

static void test_write(void **state)
{
    (void)state;
    char path[128], err[256];
    struct metrics_writer w;
    snprintf(path, sizeof path, "%s/x.prom", dir);
    assert_int_equal(metrics_begin(&w, path, err, sizeof err), 0);
    metrics_family(&w, "a_total", "counter", "Things.");
    const char *const l1[] = {"queue", "q\"1\\\nx", "result", "moved", NULL};
    metrics_u64(&w, "a_total", l1, 18446744073709551615ull);
    metrics_family(&w, "b_seconds", "gauge", "A time.");
    metrics_gauge(&w, "b_seconds", NULL, 1764500000.1234);
    assert_int_equal(metrics_commit(&w, err, sizeof err), 0);
    assert_string_equal(slurp(path), "# HELP a_total Things.\n"
                                     "# TYPE a_total counter\n"
                                     "a_total{queue=\"q\\\"1\\\\\\nx\",result=\"moved\"} "
                                     "18446744073709551615\n"
                                     "# HELP b_seconds A time.\n"
                                     "# TYPE b_seconds gauge\n"
                                     "b_seconds 1764500000.123\n");
    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0644);
    assert_int_equal(entries(), 1); /* no temporary left */
    double v = 0;
    assert_int_equal(metrics_read_value(path, "b_seconds", &v), 1);
    assert_true(v > 1764500000.12 && v < 1764500000.13);
    assert_int_equal(metrics_read_value(path, "a_total", &v), 1);
    assert_int_equal(metrics_read_value(path, "a", &v), 0); /* a prefix is not the name */
    assert_int_equal(metrics_read_value(path, "c", &v), 0);
}

static const double bounds[] = {0.1, 1, 10};

static void test_histogram(void **state)
{
    (void)state;
    struct metrics_hist h;
    metrics_hist_init(&h, bounds, 3);
    metrics_hist_observe(&h, 0.1); /* le is inclusive */
    metrics_hist_observe(&h, -5);  /* counted as 0 */
    metrics_hist_observe(&h, 2);
    metrics_hist_observe(&h, 1000);
    assert_int_equal(h.count, 4);
    char path[128], err[256];
    struct metrics_writer w;
    snprintf(path, sizeof path, "%s/h.prom", dir);
    assert_int_equal(metrics_begin(&w, path, err, sizeof err), 0);
    const char *const l[] = {"queue", "files", NULL};
    metrics_family(&w, "lat_seconds", "histogram", "Latency.");
    metrics_histogram(&w, "lat_seconds", l, &h);
    assert_int_equal(metrics_commit(&w, err, sizeof err), 0);
    assert_string_equal(slurp(path), "# HELP lat_seconds Latency.\n"
                                     "# TYPE lat_seconds histogram\n"
                                     "lat_seconds_bucket{queue=\"files\",le=\"0.1\"} 2\n"
                                     "lat_seconds_bucket{queue=\"files\",le=\"1\"} 2\n"
                                     "lat_seconds_bucket{queue=\"files\",le=\"10\"} 3\n"
                                     "lat_seconds_bucket{queue=\"files\",le=\"+Inf\"} 4\n"
                                     "lat_seconds_sum{queue=\"files\"} 1002.100\n"
                                     "lat_seconds_count{queue=\"files\"} 4\n");
}

/* The old file stays whole until the new one replaces it; a failure leaves it. */
static void test_atomic(void **state)
{
    (void)state;
    char path[128], err[256];
    struct metrics_writer w;
    snprintf(path, sizeof path, "%s/a.prom", dir);
    assert_int_equal(metrics_begin(&w, path, err, sizeof err), 0);
    metrics_u64(&w, "x", NULL, 1);
    assert_int_equal(metrics_commit(&w, err, sizeof err), 0);
    assert_int_equal(metrics_begin(&w, path, err, sizeof err), 0);
    metrics_u64(&w, "x", NULL, 2);
    assert_string_equal(slurp(path), "x 1\n"); /* not yet */
    assert_int_equal(entries(), 2);            /* the temporary, hidden */
    metrics_abort(&w);
    assert_int_equal(entries(), 1);
    assert_string_equal(slurp(path), "x 1\n");
}

static void test_errors(void **state)
{
    (void)state;
    char path[128], err[256];
    struct metrics_writer w;
    snprintf(path, sizeof path, "%s/nodir/x.prom", dir);
    assert_int_equal(metrics_begin(&w, path, err, sizeof err), -1);
    assert_non_null(strstr(err, "cannot write the metrics file"));
    assert_non_null(strstr(err, "No such file or directory"));
    /* The target is a directory: the rename fails, the temporary goes. */
    snprintf(path, sizeof path, "%s/d.prom", dir);
    assert_int_equal(mkdir(path, 0755), 0);
    char inner[160];
    snprintf(inner, sizeof inner, "%s/f", path);
    FILE *f = fopen(inner, "w");
    assert_non_null(f);
    fclose(f);
    assert_int_equal(metrics_begin(&w, path, err, sizeof err), 0);
    metrics_u64(&w, "x", NULL, 1);
    assert_int_equal(metrics_commit(&w, err, sizeof err), -1);
    assert_non_null(strstr(err, path));
    unlink(inner);
    rmdir(path);
    assert_int_equal(entries(), 0);
    double v;
    assert_int_equal(metrics_read_value(path, "x", &v), 0);
}

static void test_read_labels(void **state)
{
    (void)state;
    char path[128];
    snprintf(path, sizeof path, "%s/r.prom", dir);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs("# HELP t_seconds x\n# TYPE t_seconds gauge\nt_seconds_other 5\n"
          "t_seconds{queue=\"a} 9\\\"\"} 42.5\n",
          f);
    fclose(f);
    double v = 0;
    assert_int_equal(metrics_read_value(path, "t_seconds", &v), 1);
    assert_true(v == 42.5);
}

static void test_worker(void **state)
{
    (void)state;
    char out[64];
    metrics_worker("/var/lib/prometheus/node-exporter/scanmove-move-archive1.prom", out,
                   sizeof out);
    assert_string_equal(out, "scanmove-move-archive1");
    metrics_worker("m.txt", out, sizeof out);
    assert_string_equal(out, "m.txt");
    metrics_worker("dir/.prom", out, sizeof out);
    assert_string_equal(out, ".prom");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_write, setup, teardown),
        cmocka_unit_test_setup_teardown(test_histogram, setup, teardown),
        cmocka_unit_test_setup_teardown(test_atomic, setup, teardown),
        cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_read_labels, setup, teardown),
        cmocka_unit_test(test_worker),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
