/* The benchmark's C client: virDomainGetInfo through libvirt's own client library
 * (libvirt.so), without Python in the way. bench.py runs it against both daemons.
 *
 *   bench-getinfo latency URI DOMAIN CALLS
 *       after 100 untimed calls, CALLS timed calls on one connection; prints each
 *       round trip in microseconds, one per line
 *   bench-getinfo rate URI SECONDS DOMAIN...
 *       one thread and one connection per DOMAIN, released together, each calling
 *       for SECONDS; prints "calls=N seconds=S client_cpu=C" (S: first start to last
 *       stop, C: this process's CPU seconds in that time)
 *
 * Exit status 1 with a message on stderr when a call fails. */
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

static double
now_seconds(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static double
cpu_seconds(void)
{
    struct rusage ru;

    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
           ru.ru_stime.tv_usec / 1e6;
}

static void
die(const char *what)
{
    const char *msg = virGetLastErrorMessage();

    fprintf(stderr, "bench-getinfo: %s: %s\n", what, msg ? msg : "failed");
    exit(1);
}

/* Opens @uri and finds @name; dies on failure. */
static virDomainPtr
open_domain(const char *uri, const char *name, virConnectPtr *ret_conn)
{
    virConnectPtr conn = virConnectOpen(uri);
    virDomainPtr dom;

    if (!conn)
        die("virConnectOpen");
    if (!(dom = virDomainLookupByName(conn, name)))
        die("virDomainLookupByName");
    *ret_conn = conn;
    return dom;
}

static void
get_info(virDomainPtr dom)
{
    virDomainInfo info;

    if (virDomainGetInfo(dom, &info) < 0)
        die("virDomainGetInfo");
}

static int
run_latency(const char *uri, const char *name, long calls)
{
    virConnectPtr conn;
    virDomainPtr dom = open_domain(uri, name, &conn);
    double *samples = calloc(calls, sizeof(*samples));

    for (int i = 0; i < 100; i++)
        get_info(dom);
    for (long i = 0; i < calls; i++) {
        double t0 = now_seconds();

        get_info(dom);
        samples[i] = (now_seconds() - t0) * 1e6;
    }
    for (long i = 0; i < calls; i++)
        printf("%.2f\n", samples[i]);
    free(samples);
    virDomainFree(dom);
    virConnectClose(conn);
    return 0;
}

typedef struct {
    const char *uri;
    const char *name;
    double seconds;
    pthread_barrier_t *ready;
    unsigned long long calls;
    double began, ended;
} Worker;

static void *
worker_run(void *opaque)
{
    Worker *w = opaque;
    virConnectPtr conn;
    virDomainPtr dom = open_domain(w->uri, w->name, &conn);
    double deadline;

    get_info(dom);
    pthread_barrier_wait(w->ready);
    w->began = now_seconds();
    deadline = w->began + w->seconds;
    do {
        get_info(dom);
        w->calls++;
    } while (now_seconds() < deadline);
    w->ended = now_seconds();
    virDomainFree(dom);
    virConnectClose(conn);
    return NULL;
}

static int
run_rate(const char *uri, double seconds, char **names, int n)
{
    Worker *workers = calloc(n, sizeof(*workers));
    pthread_t *threads = calloc(n, sizeof(*threads));
    pthread_barrier_t ready;
    unsigned long long calls = 0;
    double began = 0, ended = 0, cpu0, cpu1;

    /* The main thread joins the barrier too, so the CPU count starts with the calls. */
    pthread_barrier_init(&ready, NULL, n + 1);
    for (int i = 0; i < n; i++) {
        workers[i] = (Worker){ .uri = uri, .name = names[i], .seconds = seconds,
                               .ready = &ready };
        pthread_create(&threads[i], NULL, worker_run, &workers[i]);
    }
    pthread_barrier_wait(&ready);
    cpu0 = cpu_seconds();
    for (int i = 0; i < n; i++) {
        pthread_join(threads[i], NULL);
        calls += workers[i].calls;
        if (i == 0 || workers[i].began < began)
            began = workers[i].began;
        if (workers[i].ended > ended)
            ended = workers[i].ended;
    }
    cpu1 = cpu_seconds();
    printf("calls=%llu seconds=%.6f client_cpu=%.6f\n", calls, ended - began, cpu1 - cpu0);
    free(workers);
    free(threads);
    return 0;
}

/* Errors are reported by die(), not printed twice by libvirt's default handler. */
static void
ignore_error(void *opaque, virErrorPtr err)
{
    (void)opaque;
    (void)err;
}

int
main(int argc, char **argv)
{
    virSetErrorFunc(NULL, ignore_error);
    if (argc == 5 && strcmp(argv[1], "latency") == 0)
        return run_latency(argv[2], argv[3], atol(argv[4]));
    if (argc >= 5 && strcmp(argv[1], "rate") == 0)
        return run_rate(argv[2], atof(argv[3]), argv + 4, argc - 4);
    fprintf(stderr, "usage: bench-getinfo latency URI DOMAIN CALLS\n"
                    "       bench-getinfo rate URI SECONDS DOMAIN...\n");
    return 2;
}
