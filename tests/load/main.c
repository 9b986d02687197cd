/*
 * main.c: webhook1c-load, the 1C host stand-in for load, memory and
 * cold-start measurements.  It loads the add-in with dlopen, creates
 * "Client" objects exactly as 1C does, and calls PostJson(URL, Json) through
 * FindMethod/CallAsFunc, reading StatusCode after each call.
 *
 *   webhook1c-load LIBRARY bench URL JSON_FILE COUNT [--fresh] [--set NAME=VALUE]...
 *   webhook1c-load LIBRARY stress URL JSON_FILE THREADS SECONDS [--set NAME=VALUE]...
 *   webhook1c-load LIBRARY memory URL JSON_FILE COUNT EVERY [--set NAME=VALUE]...
 *   webhook1c-load LIBRARY coldstart URL JSON_FILE [--set NAME=VALUE]...
 *
 * Each mode prints one line starting "result mode=..." of key=value pairs
 * (plus "sample" lines in memory mode, "thread" lines in stress mode), and
 * finally "memory allocations=.. frees=.. live=.. foreign_frees=..
 * abi_errors=..".  A call is ok when StatusCode is 200; the first failure's
 * exception and ErrorText go to stderr.
 *
 * Exit status: 0 when every call was ok, no block the add-in handed over is
 * still live after the objects are destroyed, nothing foreign was freed and
 * the add-in kept the ABI contract; 1 otherwise; 2 for usage errors or a
 * library that does not load.
 */
#include "load.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define OBJECT_CALLS 100            /* calls per object in stress and memory */
#define MEMORY_WARMUP_CALLS 1000
#define MAX_THREADS 1024

static addin_library lib;
static call_plan plan;
/* The first failing call describes itself on stderr; later ones are only
 * counted. */
static atomic_bool failure_described;
/* Set when an object cannot be created: every thread stops. */
static atomic_bool fatal_error;

typedef struct tally {
    long calls, ok, failed;
} tally;

static void usage(void)
{
    fputs("usage:\n"
          "  webhook1c-load LIBRARY bench URL JSON_FILE COUNT [--fresh] [--set NAME=VALUE]...\n"
          "  webhook1c-load LIBRARY stress URL JSON_FILE THREADS SECONDS [--set NAME=VALUE]...\n"
          "  webhook1c-load LIBRARY memory URL JSON_FILE COUNT EVERY [--set NAME=VALUE]...\n"
          "  webhook1c-load LIBRARY coldstart URL JSON_FILE [--set NAME=VALUE]...\n"
          "  --set values: true/false = Boolean, numbers = Number, string:TEXT or any other "
          "text = String\n",
          stderr);
}

/* One PostJson on o, counted in t. */
static void post(addin_object *o, tally *t, int thread, long call_no)
{
    bool describe = !atomic_load(&failure_described);
    char *why = NULL;
    call_outcome r = addin_post_json(o, &plan, describe, &why);
    t->calls++;
    if (r == CALL_OK) {
        t->ok++;
    } else {
        t->failed++;
        if (describe && !atomic_exchange(&failure_described, true))
            report("first failure: thread %d, call %ld: %s", thread, call_no,
                   why ? why : "(no description)");
    }
    free(why);
}

static bool create(addin_object *o)
{
    if (addin_create(&lib, &plan, o))
        return true;
    atomic_store(&fatal_error, true);
    return false;
}

/* As 1C code that assigns a new object to the variable holding the old
 * one: the new object exists before the old one is released. */
static bool replace(addin_object *o)
{
    addin_object fresh;
    if (!create(&fresh))
        return false;
    addin_destroy(&lib, o);
    *o = fresh;
    return true;
}

/* ------------------------------------------------------------------------ */
/* bench                                                                     */
/* ------------------------------------------------------------------------ */

static int run_bench(long count, bool fresh, tally *all)
{
    long warm = count / 10 < 50 ? count / 10 : 50;
    tally warmup = {0, 0, 0}, timed = {0, 0, 0};
    addin_object o = {NULL, NULL};
    if (!fresh && !create(&o))
        return 1;
    long rss_before = -1;
    double t0 = 0, t1 = 0, cpu0 = 0, cpu1 = 0;
    for (long i = 0; i < warm + count && !atomic_load(&fatal_error); i++) {
        if (i == warm) {
            rss_before = (long)host_rss_kb();
            t0 = now_seconds();
            cpu0 = host_cpu_seconds();
        }
        tally *t = i < warm ? &warmup : &timed;
        if (fresh) {
            if (!create(&o))
                break;
            post(&o, t, 0, i);
            addin_destroy(&lib, &o);
        } else {
            post(&o, t, 0, i);
        }
    }
    t1 = now_seconds();
    cpu1 = host_cpu_seconds();
    long rss_after = (long)host_rss_kb();
    if (!fresh && o.obj)
        addin_destroy(&lib, &o);
    if (atomic_load(&fatal_error))
        return 1;
    double seconds = t1 - t0;
    if (warm > 0)
        printf("warmup calls=%ld ok=%ld failed=%ld\n", warmup.calls, warmup.ok, warmup.failed);
    printf("result mode=bench calls=%ld ok=%ld failed=%ld seconds=%.3f rps=%.1f "
           "us_per_call=%.1f cpu_us_per_call=%.1f rss_kb_before=%ld rss_kb_after=%ld\n",
           timed.calls, timed.ok, timed.failed, seconds,
           seconds > 0 ? (double)timed.calls / seconds : 0.0,
           timed.calls > 0 ? seconds * 1e6 / (double)timed.calls : 0.0,
           timed.calls > 0 && cpu0 >= 0 && cpu1 >= 0 ? (cpu1 - cpu0) * 1e6 / (double)timed.calls : -1.0,
           rss_before, rss_after);
    all->calls = warmup.calls + timed.calls;
    all->ok = warmup.ok + timed.ok;
    all->failed = warmup.failed + timed.failed;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* stress                                                                    */
/* ------------------------------------------------------------------------ */

typedef struct worker {
    int index;
    pthread_t thread;
    tally t;
    double finished;    /* when its last call returned */
} worker;

static pthread_mutex_t start_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t start_cond = PTHREAD_COND_INITIALIZER;
static int ready_count;
static bool started;
static double deadline;

static void *stress_thread(void *arg)
{
    worker *w = arg;
    addin_object o = {NULL, NULL};
    bool have = create(&o);

    /* Every thread has its first object before the clock starts. */
    pthread_mutex_lock(&start_lock);
    ready_count++;
    pthread_cond_broadcast(&start_cond);
    while (!started)
        pthread_cond_wait(&start_cond, &start_lock);
    double until = deadline;
    pthread_mutex_unlock(&start_lock);

    long on_object = 0;
    while (have && !atomic_load(&fatal_error) && now_seconds() < until) {
        if (on_object == OBJECT_CALLS) {
            if (!replace(&o))
                break;
            on_object = 0;
        }
        post(&o, &w->t, w->index, w->t.calls);
        on_object++;
    }
    w->finished = now_seconds();
    if (o.obj)
        addin_destroy(&lib, &o);
    return NULL;
}

static int run_stress(int threads, double seconds, tally *all)
{
    worker *workers = xcalloc((size_t)threads, sizeof *workers);
    int launched = 0;
    for (int i = 0; i < threads; i++) {
        workers[i].index = i;
        int rc = pthread_create(&workers[i].thread, NULL, stress_thread, &workers[i]);
        if (rc != 0) {
            report("cannot start thread %d: %s", i, strerror(rc));
            atomic_store(&fatal_error, true);
            break;
        }
        launched++;
    }
    pthread_mutex_lock(&start_lock);
    while (ready_count < launched)
        pthread_cond_wait(&start_cond, &start_lock);
    double t0 = now_seconds();
    deadline = t0 + seconds;
    started = true;
    pthread_cond_broadcast(&start_cond);
    pthread_mutex_unlock(&start_lock);

    double end = t0;
    for (int i = 0; i < launched; i++) {
        pthread_join(workers[i].thread, NULL);
        if (workers[i].finished > end)
            end = workers[i].finished;
        all->calls += workers[i].t.calls;
        all->ok += workers[i].t.ok;
        all->failed += workers[i].t.failed;
    }
    double elapsed = end - t0;
    for (int i = 0; i < launched; i++)
        printf("thread %d calls=%ld ok=%ld failed=%ld\n", i, workers[i].t.calls,
               workers[i].t.ok, workers[i].t.failed);
    printf("result mode=stress threads=%d seconds=%.3f calls=%ld ok=%ld failed=%ld rps=%.1f\n",
           launched, elapsed, all->calls, all->ok, all->failed,
           elapsed > 0 ? (double)all->calls / elapsed : 0.0);
    free(workers);
    return atomic_load(&fatal_error) ? 1 : 0;
}

/* ------------------------------------------------------------------------ */
/* memory                                                                    */
/* ------------------------------------------------------------------------ */

static int run_memory(long count, long every, tally *all)
{
    tally warmup = {0, 0, 0}, measured = {0, 0, 0};
    addin_object o = {NULL, NULL};
    if (!create(&o))
        return 1;
    long first = -1, last = -1;
    long total = MEMORY_WARMUP_CALLS + count;
    for (long i = 0; i < total; i++) {
        if (i > 0 && i % OBJECT_CALLS == 0 && !replace(&o))
            break;
        if (i == MEMORY_WARMUP_CALLS) {
            first = last = (long)host_rss_kb();
            printf("sample calls=0 rss_kb=%ld\n", first);
            fflush(stdout);
        }
        post(&o, i < MEMORY_WARMUP_CALLS ? &warmup : &measured, 0, i);
        long done = i + 1 - MEMORY_WARMUP_CALLS;
        if (done > 0 && (done % every == 0 || done == count)) {
            last = (long)host_rss_kb();
            printf("sample calls=%ld rss_kb=%ld\n", done, last);
            fflush(stdout);
        }
    }
    if (o.obj)
        addin_destroy(&lib, &o);
    if (atomic_load(&fatal_error))
        return 1;
    printf("warmup calls=%ld ok=%ld failed=%ld\n", warmup.calls, warmup.ok, warmup.failed);
    printf("result mode=memory calls=%ld ok=%ld failed=%ld rss_kb_first=%ld rss_kb_last=%ld "
           "growth_kb=%ld\n",
           measured.calls, measured.ok, measured.failed, first, last, last - first);
    all->calls = warmup.calls + measured.calls;
    all->ok = warmup.ok + measured.ok;
    all->failed = warmup.failed + measured.failed;
    return 0;
}

/* ------------------------------------------------------------------------ */
/* coldstart                                                                 */
/* ------------------------------------------------------------------------ */

/* The library is loaded here, not in main: the clock starts just before
 * dlopen. */
static int run_coldstart(const char *library, tally *all)
{
    double t0 = now_seconds();
    if (!addin_load(&lib, library))
        return 2;
    double t1 = now_seconds();
    addin_object o;
    if (!create(&o))
        return 1;
    double t2 = now_seconds();
    post(&o, all, 0, 0);
    double t3 = now_seconds();
    addin_destroy(&lib, &o);
    printf("result mode=coldstart dlopen_ms=%.3f first_object_ms=%.3f first_response_ms=%.3f "
           "total_ms=%.3f\n",
           (t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t3 - t0) * 1e3);
    return 0;
}

/* ------------------------------------------------------------------------ */
/* main                                                                      */
/* ------------------------------------------------------------------------ */

static bool parse_long(const char *s, long min, long max, long *out)
{
    char *end = NULL;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || v < min || v > max)
        return false;
    *out = v;
    return true;
}

static bool parse_seconds(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end != '\0' || !(v > 0) || v > 1e6)
        return false;
    *out = v;
    return true;
}

int main(int argc, char **argv)
{
    memory_init();
    connection_set_application(eAppServer);
    if (argc < 5) {
        usage();
        return 2;
    }
    const char *library = argv[1];
    const char *mode = argv[2];

    /* Positional arguments after the mode, and the options among them. */
    const char **pos = xcalloc((size_t)argc, sizeof *pos);
    int npos = 0;
    prop_setting *settings = xcalloc((size_t)argc, sizeof *settings);
    size_t nsettings = 0;
    bool fresh = false;
    for (int i = 3; i < argc; i++) {
        if (strcmp(argv[i], "--fresh") == 0) {
            fresh = true;
        } else if (strcmp(argv[i], "--set") == 0 && i + 1 < argc) {
            if (!parse_setting(argv[++i], &settings[nsettings])) {
                report("--set needs NAME=VALUE, not %s", argv[i]);
                return 2;
            }
            nsettings++;
        } else if (strncmp(argv[i], "--", 2) == 0) {
            report("unknown option %s", argv[i]);
            usage();
            return 2;
        } else {
            pos[npos++] = argv[i];
        }
    }

    long count = 0, every = 0, threads = 0;
    double seconds = 0;
    bool ok_args;
    if (strcmp(mode, "bench") == 0)
        ok_args = npos == 3 && parse_long(pos[2], 1, 1000000000L, &count);
    else if (strcmp(mode, "stress") == 0)
        ok_args = npos == 4 && parse_long(pos[2], 1, MAX_THREADS, &threads) &&
                  parse_seconds(pos[3], &seconds) && !fresh;
    else if (strcmp(mode, "memory") == 0)
        ok_args = npos == 4 && parse_long(pos[2], 1, 1000000000L, &count) &&
                  parse_long(pos[3], 1, 1000000000L, &every) && !fresh;
    else if (strcmp(mode, "coldstart") == 0)
        ok_args = npos == 2 && !fresh;
    else
        ok_args = false;
    if (!ok_args) {
        usage();
        return 2;
    }

    char *json_utf8 = NULL, *error = NULL;
    size_t json_len = 0;
    if (!read_file_all(pos[1], &json_utf8, &json_len, &error)) {
        report("%s", error);
        return 2;
    }
    size_t url_units = 0, json_units = 0;
    WCHAR_T *url = utf16_from_utf8(pos[0], strlen(pos[0]), &url_units);
    WCHAR_T *json = utf16_from_utf8(json_utf8, json_len, &json_units);
    free(json_utf8);
    plan.url = url;
    plan.url_units = url_units;
    plan.json = json;
    plan.json_units = json_units;
    plan.settings = settings;
    plan.setting_count = nsettings;

    tally all = {0, 0, 0};
    int status;
    if (strcmp(mode, "coldstart") == 0) {
        status = run_coldstart(library, &all);
    } else if (!addin_load(&lib, library)) {
        status = 2;
    } else if (strcmp(mode, "bench") == 0) {
        status = run_bench(count, fresh, &all);
    } else if (strcmp(mode, "stress") == 0) {
        status = run_stress((int)threads, seconds, &all);
    } else {
        status = run_memory(count, every, &all);
    }

    /* Every object is destroyed by now: whatever the add-in handed over and
     * the host has not freed is a leak. */
    mm_stats st = memory_stats();
    long abi = abi_error_count();
    printf("memory allocations=%llu frees=%llu live=%llu foreign_frees=%llu abi_errors=%ld\n",
           st.allocations, st.frees, st.live, st.foreign_frees, abi);
    fflush(stdout);
    if (status == 0 && (all.failed > 0 || st.live > 0 || st.foreign_frees > 0 || abi > 0)) {
        if (all.failed > 0)
            report("%ld of %ld calls failed", all.failed, all.calls);
        if (st.live > 0)
            report("%llu blocks handed over by the add-in are still live", st.live);
        status = 1;
    }

    addin_unload(&lib);
    memory_release_live(NULL, NULL);
    memory_done();
    for (size_t i = 0; i < nsettings; i++)
        free_setting(&settings[i]);
    free(settings);
    free(pos);
    free(url);
    free(json);
    return status;
}
