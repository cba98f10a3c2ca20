/* Statistics and small controls of domains: domcontrol, vcpuinfo, vcpupin/emulatorpin,
 * dommemstat, domblkstat, domblkinfo, domifstat, domstats, send-key, screenshot.
 *
 * None of these change the domain's state, so none takes the domain's job: each copies
 * what it needs of the domain under its lock, takes a reference on the QEMU process and
 * talks QMP with the lock dropped (like qemu-monitor-command). What QEMU does not know
 * (CPU times, affinity, RSS, file sizes) comes from procfs and the files themselves.
 *
 * The parsing of QMP replies and procfs text is pure (qemu-stats.h) and tested with
 * canned input.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdarg.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/util/virt-error.h"
#include "drivers/qemu/qemu-driver-priv.h"
#include "drivers/qemu/qemu-command.h"
#include "drivers/qemu/qemu-stats.h"
#include "xml/domain-conf-priv.h"

#define STATS_QMP_TIMEOUT_MS 10000
#define SCREENSHOT_MIME "image/x-portable-pixmap"
#define BALLOON_QOM_PATH "/machine/peripheral/balloon0"

/* ---------------------------------------------------------------------------------- */
/* Pure parsing                                                                        */

static gint64
json_int_member(json_object *obj, const char *key, gint64 fallback)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !(json_object_is_type(v, json_type_int) || json_object_is_type(v, json_type_double)))
        return fallback;
    return json_object_get_int64(v);
}

static const char *
json_str_member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_string))
        return NULL;
    return json_object_get_string(v);
}

static json_object *
json_obj_member(json_object *obj, const char *key)
{
    json_object *v = NULL;
    if (!obj || !json_object_object_get_ex(obj, key, &v) ||
        !json_object_is_type(v, json_type_object))
        return NULL;
    return v;
}

gboolean
qemu_stats_parse_blockstats(json_object *reply, const char *node_name,
                            QemuBlockCounters *ret_counters)
{
    if (!reply || !json_object_is_type(reply, json_type_array))
        return FALSE;
    for (size_t i = 0; i < json_object_array_length(reply); i++) {
        json_object *entry = json_object_array_get_idx(reply, i);
        if (g_strcmp0(json_str_member(entry, "node-name"), node_name) != 0)
            continue;
        json_object *st = json_obj_member(entry, "stats");
        if (!st)
            return FALSE;
        QemuBlockCounters c = {
            .rd_bytes = json_int_member(st, "rd_bytes", -1),
            .wr_bytes = json_int_member(st, "wr_bytes", -1),
            .rd_operations = json_int_member(st, "rd_operations", -1),
            .wr_operations = json_int_member(st, "wr_operations", -1),
            .flush_operations = json_int_member(st, "flush_operations", -1),
            .rd_total_time_ns = json_int_member(st, "rd_total_time_ns", -1),
            .wr_total_time_ns = json_int_member(st, "wr_total_time_ns", -1),
            .flush_total_time_ns = json_int_member(st, "flush_total_time_ns", -1),
            .wr_highest_offset = json_int_member(st, "wr_highest_offset", -1),
        };
        *ret_counters = c;
        return TRUE;
    }
    return FALSE;
}

gboolean
qemu_stats_parse_block_sizes(json_object *reply, const char *node_name, guint64 *ret_virtual,
                             guint64 *ret_actual)
{
    if (!reply || !json_object_is_type(reply, json_type_array))
        return FALSE;
    for (size_t i = 0; i < json_object_array_length(reply); i++) {
        json_object *inserted = json_obj_member(json_object_array_get_idx(reply, i),
                                                "inserted");
        if (!inserted || g_strcmp0(json_str_member(inserted, "node-name"), node_name) != 0)
            continue;
        json_object *image = json_obj_member(inserted, "image");
        *ret_virtual = MAX(json_int_member(image, "virtual-size", 0), 0);
        *ret_actual = MAX(json_int_member(image, "actual-size", 0), 0);
        return TRUE;
    }
    return FALSE;
}

gboolean
qemu_stats_parse_balloon(json_object *reply, guint64 *ret_kib)
{
    gint64 actual = json_int_member(reply, "actual", -1);
    if (actual < 0)
        return FALSE;
    *ret_kib = (guint64)actual / 1024;
    return TRUE;
}

void
qemu_stats_parse_guest_stats(json_object *reply, GArray *stats)
{
    /* QEMU's names, libvirt's tags, whether the value is in bytes (reported in KiB). */
    static const struct {
        const char *name;
        int tag;
        gboolean bytes;
    } known[] = {
        {"stat-swap-in", VIR_DOMAIN_MEMORY_STAT_SWAP_IN, TRUE},
        {"stat-swap-out", VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, TRUE},
        {"stat-major-faults", VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT, FALSE},
        {"stat-minor-faults", VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT, FALSE},
        {"stat-free-memory", VIR_DOMAIN_MEMORY_STAT_UNUSED, TRUE},
        {"stat-total-memory", VIR_DOMAIN_MEMORY_STAT_AVAILABLE, TRUE},
        {"stat-available-memory", VIR_DOMAIN_MEMORY_STAT_USABLE, TRUE},
        {"stat-disk-caches", VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, TRUE},
        {"stat-htlb-pgalloc", VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC, FALSE},
        {"stat-htlb-pgfail", VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL, FALSE},
    };
    json_object *st = json_obj_member(reply, "stats");
    for (gsize i = 0; st && i < G_N_ELEMENTS(known); i++) {
        /* What the guest did not report is -1 as an unsigned 64-bit number, which
         * json-c reads as INT64_MAX. */
        gint64 v = json_int_member(st, known[i].name, -1);
        if (v < 0 || v == G_MAXINT64)
            continue;
        DomainMemoryStat s = {known[i].tag, known[i].bytes ? (guint64)v / 1024 : (guint64)v};
        g_array_append_val(stats, s);
    }
    gint64 last = json_int_member(reply, "last-update", -1);
    if (last >= 0) {
        DomainMemoryStat s = {VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE, (guint64)last};
        g_array_append_val(stats, s);
    }
}

GArray *
qemu_stats_parse_vcpu_threads(json_object *reply)
{
    GArray *threads = g_array_new(FALSE, TRUE, sizeof(QemuVcpuThread));
    for (size_t i = 0; reply && json_object_is_type(reply, json_type_array) &&
                       i < json_object_array_length(reply);
         i++) {
        json_object *cpu = json_object_array_get_idx(reply, i);
        gint64 index = json_int_member(cpu, "cpu-index", -1);
        gint64 tid = json_int_member(cpu, "thread-id", -1);
        if (index < 0 || tid <= 0)
            continue;
        QemuVcpuThread t = {(unsigned int)index, (int)tid};
        g_array_append_val(threads, t);
    }
    return threads;
}

gboolean
qemu_stats_parse_vcpu_comm(const char *comm, unsigned int *ret_index)
{
    if (!comm || !g_str_has_prefix(comm, "CPU "))
        return FALSE;
    char *end = NULL;
    const char *digits = comm + strlen("CPU ");
    guint64 index = g_ascii_strtoull(digits, &end, 10);
    if (end == digits || *end != '/' || index > G_MAXUINT)
        return FALSE;
    *ret_index = (unsigned int)index;
    return TRUE;
}

gboolean
qemu_stats_parse_proc_stat(const char *text, QemuProcStat *ret_stat)
{
    /* The command name (field 2) may hold spaces and parentheses: fields start after the
     * last ')'. Field 3 is the state. */
    const char *p = text ? strrchr(text, ')') : NULL;
    if (!p)
        return FALSE;
    g_auto(GStrv) fields = g_strsplit_set(p + 1, " \n", -1);
    g_autoptr(GPtrArray) f = g_ptr_array_new();
    for (guint i = 0; fields[i]; i++) {
        if (*fields[i])
            g_ptr_array_add(f, fields[i]);
    }
    /* f->pdata[k] is field k + 3 */
    if (f->len < 37)
        return FALSE;
    QemuProcStat st = {
        .utime_ticks = g_ascii_strtoull(f->pdata[14 - 3], NULL, 10),
        .stime_ticks = g_ascii_strtoull(f->pdata[15 - 3], NULL, 10),
        .processor = (int)g_ascii_strtoll(f->pdata[39 - 3], NULL, 10),
    };
    *ret_stat = st;
    return TRUE;
}

gboolean
qemu_stats_parse_vmrss(const char *text, guint64 *ret_kib)
{
    const char *p = text ? strstr(text, "VmRSS:") : NULL;
    if (!p || (p != text && p[-1] != '\n'))
        return FALSE;
    char *end = NULL;
    guint64 kib = g_ascii_strtoull(p + strlen("VmRSS:"), &end, 10);
    if (end == p + strlen("VmRSS:"))
        return FALSE;
    *ret_kib = kib;
    return TRUE;
}

gboolean
qemu_stats_qcow2_size(const guint8 *header, gsize len, guint64 *ret_size)
{
    /* Magic "QFI\xfb" at 0, the virtual size (big-endian u64) at 24. */
    if (len < 32 || memcmp(header, "QFI\xfb", 4) != 0)
        return FALSE;
    guint64 size = 0;
    for (int i = 0; i < 8; i++)
        size = (size << 8) | header[24 + i];
    *ret_size = size;
    return TRUE;
}

static void
map_set(guint8 *map, int maplen, int ncpus, long cpu)
{
    if (cpu >= 0 && cpu < ncpus && cpu < (long)maplen * 8)
        map[cpu / 8] |= 1 << (cpu % 8);
}

static void
map_clear(guint8 *map, int maplen, long cpu)
{
    if (cpu >= 0 && cpu < (long)maplen * 8)
        map[cpu / 8] &= ~(1 << (cpu % 8));
}

gboolean
qemu_stats_parse_cpuset(const char *cpuset, guint8 *map, int maplen, int ncpus, GError **error)
{
    g_auto(GStrv) parts = g_strsplit(cpuset, ",", -1);
    g_autofree guint8 *out = g_malloc0(MAX(maplen, 1));
    gboolean any = FALSE;
    for (guint i = 0; parts[i]; i++) {
        const char *s = g_strstrip(parts[i]);
        gboolean negate = *s == '^';
        if (negate)
            s++;
        char *end = NULL;
        if (!g_ascii_isdigit(*s))
            goto bad;
        long first = strtol(s, &end, 10), last = first;
        if (*end == '-' && !negate) {
            const char *t = end + 1;
            if (!g_ascii_isdigit(*t))
                goto bad;
            last = strtol(t, &end, 10);
        }
        if (*end || last < first || last > 65535)
            goto bad;
        for (long c = first; c <= last; c++) {
            if (negate)
                map_clear(out, maplen, c);
            else
                map_set(out, maplen, ncpus, c);
        }
        any = any || !negate;
    }
    if (!any)
        goto bad;
    memcpy(map, out, maplen);
    return TRUE;
bad:
    virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_CONFIG_UNSUPPORTED,
                   _("'%s' is not a valid CPU list"), cpuset);
    return FALSE;
}

/* ---- key codes ---- */

static const char *const codeset_names[] = {
    [VIR_KEYCODE_SET_LINUX] = "linux",   [VIR_KEYCODE_SET_XT] = "xt",
    [VIR_KEYCODE_SET_ATSET1] = "atset1", [VIR_KEYCODE_SET_ATSET2] = "atset2",
    [VIR_KEYCODE_SET_ATSET3] = "atset3", [VIR_KEYCODE_SET_OSX] = "os_x",
    [VIR_KEYCODE_SET_XT_KBD] = "xt_kbd", [VIR_KEYCODE_SET_USB] = "usb",
    [VIR_KEYCODE_SET_WIN32] = "win32",   [VIR_KEYCODE_SET_QNUM] = "qnum",
};

const char *
qemu_stats_codeset_name(unsigned int codeset)
{
    return codeset < G_N_ELEMENTS(codeset_names) ? codeset_names[codeset] : NULL;
}

gboolean
qemu_stats_codeset_supported(unsigned int codeset)
{
    return codeset == VIR_KEYCODE_SET_LINUX || codeset == VIR_KEYCODE_SET_XT ||
           codeset == VIR_KEYCODE_SET_ATSET1 || codeset == VIR_KEYCODE_SET_USB ||
           codeset == VIR_KEYCODE_SET_QNUM;
}

/* Linux input key codes beyond the range where they equal set 1 scancodes, and their
 * QEMU numbers (0x80 | the scancode that follows an 0xe0 prefix). */
static const struct {
    unsigned int linux_code;
    int qnum;
} linux_extended[] = {
    {86, 0x56},   /* KEY_102ND */
    {87, 0x57},   /* KEY_F11 */
    {88, 0x58},   /* KEY_F12 */
    {96, 0x9c},   /* KEY_KPENTER */
    {97, 0x9d},   /* KEY_RIGHTCTRL */
    {98, 0xb5},   /* KEY_KPSLASH */
    {99, 0x54},   /* KEY_SYSRQ */
    {100, 0xb8},  /* KEY_RIGHTALT */
    {102, 0xc7},  /* KEY_HOME */
    {103, 0xc8},  /* KEY_UP */
    {104, 0xc9},  /* KEY_PAGEUP */
    {105, 0xcb},  /* KEY_LEFT */
    {106, 0xcd},  /* KEY_RIGHT */
    {107, 0xcf},  /* KEY_END */
    {108, 0xd0},  /* KEY_DOWN */
    {109, 0xd1},  /* KEY_PAGEDOWN */
    {110, 0xd2},  /* KEY_INSERT */
    {111, 0xd3},  /* KEY_DELETE */
    {119, 0xc6},  /* KEY_PAUSE */
    {125, 0xdb},  /* KEY_LEFTMETA */
    {126, 0xdc},  /* KEY_RIGHTMETA */
    {127, 0xdd},  /* KEY_COMPOSE */
};

/* USB HID usages (keyboard page) and the Linux key codes they are. */
static const struct {
    unsigned int usb;
    unsigned int linux_code;
} usb_to_linux[] = {
    {4, 30},   {5, 48},   {6, 46},   {7, 32},   {8, 18},   {9, 33},   {10, 34},  {11, 35},
    {12, 23},  {13, 36},  {14, 37},  {15, 38},  {16, 50},  {17, 49},  {18, 24},  {19, 25},
    {20, 16},  {21, 19},  {22, 31},  {23, 20},  {24, 22},  {25, 47},  {26, 17},  {27, 45},
    {28, 21},  {29, 44},  /* a .. z */
    {30, 2},   {31, 3},   {32, 4},   {33, 5},   {34, 6},   {35, 7},   {36, 8},   {37, 9},
    {38, 10},  {39, 11},  /* 1 .. 9, 0 */
    {40, 28},  {41, 1},   {42, 14},  {43, 15},  {44, 57},  {45, 12},  {46, 13},  {47, 26},
    {48, 27},  {49, 43},  {51, 39},  {52, 40},  {53, 41},  {54, 51},  {55, 52},  {56, 53},
    {57, 58},  /* enter .. capslock */
    {58, 59},  {59, 60},  {60, 61},  {61, 62},  {62, 63},  {63, 64},  {64, 65},  {65, 66},
    {66, 67},  {67, 68},  {68, 87},  {69, 88},  /* F1 .. F12 */
    {73, 110}, {74, 102}, {75, 104}, {76, 111}, {77, 107}, {78, 109}, {79, 106}, {80, 105},
    {81, 108}, {82, 103}, /* insert .. up */
    {224, 29}, {225, 42}, {226, 56}, {227, 125}, {228, 97}, {229, 54}, {230, 100},
    {231, 126}, /* modifiers */
};

static int
linux_to_qnum(unsigned int code)
{
    if (code >= 1 && code <= 83)
        return (int)code; /* KEY_ESC .. KEY_KPDOT are their set 1 scancodes */
    for (gsize i = 0; i < G_N_ELEMENTS(linux_extended); i++) {
        if (linux_extended[i].linux_code == code)
            return linux_extended[i].qnum;
    }
    return -1;
}

int
qemu_stats_keycode_to_qnum(unsigned int codeset, unsigned int code)
{
    switch (codeset) {
    case VIR_KEYCODE_SET_LINUX:
        return linux_to_qnum(code);
    case VIR_KEYCODE_SET_XT:
        /* XT scancodes have no prefixed keys. */
        return code >= 1 && code < 0x80 ? (int)code : -1;
    case VIR_KEYCODE_SET_ATSET1:
        if (code >= 1 && code < 0x80)
            return (int)code;
        if ((code & 0xff00) == 0xe000 && (code & 0xff) >= 1 && (code & 0xff) < 0x80)
            return (int)(0x80 | (code & 0x7f));
        return -1;
    case VIR_KEYCODE_SET_USB:
        for (gsize i = 0; i < G_N_ELEMENTS(usb_to_linux); i++) {
            if (usb_to_linux[i].usb == code)
                return linux_to_qnum(usb_to_linux[i].linux_code);
        }
        return -1;
    case VIR_KEYCODE_SET_QNUM:
        return code >= 1 && code <= 0xff ? (int)code : -1;
    default:
        return -1;
    }
}

/* ---- statistics records ---- */

DomainStatsRecord *
qemu_stats_record_new(const DomainRef *ref)
{
    DomainStatsRecord *rec = g_new0(DomainStatsRecord, 1);
    rec->dom.name = g_strdup(ref->name);
    memcpy(rec->dom.uuid, ref->uuid, VIRT_UUID_LEN);
    rec->dom.id = ref->id;
    rec->params = domain_params_new();
    return rec;
}

void
qemu_stats_record_free(DomainStatsRecord *rec)
{
    if (!rec)
        return;
    domain_ref_clear(&rec->dom);
    g_array_unref(rec->params);
    g_free(rec);
}

void
qemu_stats_add_int(DomainStatsRecord *rec, int value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *field = g_strdup_vprintf(fmt, ap); /* e.g. "vcpu.%u.time" */
    va_end(ap);
    domain_params_add_int(rec->params, field, value);
}

void
qemu_stats_add_uint(DomainStatsRecord *rec, unsigned int value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *field = g_strdup_vprintf(fmt, ap); /* e.g. "vcpu.%u.time" */
    va_end(ap);
    domain_params_add_uint(rec->params, field, value);
}

void
qemu_stats_add_ullong(DomainStatsRecord *rec, guint64 value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *field = g_strdup_vprintf(fmt, ap); /* e.g. "vcpu.%u.time" */
    va_end(ap);
    domain_params_add_ullong(rec->params, field, value);
}

void
qemu_stats_add_string(DomainStatsRecord *rec, const char *value, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    g_autofree char *field = g_strdup_vprintf(fmt, ap); /* e.g. "vcpu.%u.time" */
    va_end(ap);
    domain_params_add_string(rec->params, field, value);
}

/* ---------------------------------------------------------------------------------- */
/* What a call needs of a domain, copied under its lock                                */

typedef struct {
    DomainRef ref;
    char *name;
    int state, reason;
    gboolean active, persistent;
    const char *job;      /* static string or NULL */
    DomainDef *def;       /* copy of the current definition */
    QemuProcess *proc;    /* reference, running domains only */
    pid_t pid;
    char *run_dir;
} DomainView;

static void
domain_view_clear(DomainView *v)
{
    domain_ref_clear(&v->ref);
    g_free(v->name);
    domain_def_free(v->def);
    if (v->proc)
        qemu_process_unref(v->proc);
    g_free(v->run_dir);
    memset(v, 0, sizeof(*v));
}
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC(DomainView, domain_view_clear)

/* Copy @dom (locked) into @v; @persistent_def: the next start's definition instead of
 * the current one. */
static void
domain_view_fill(QemuDomain *dom, gboolean persistent_def, DomainView *v)
{
    qemu_domain_fill_ref(dom, &v->ref);
    v->name = g_strdup(qemu_domain_name(dom));
    v->state = dom->state;
    v->reason = dom->reason;
    v->active = qemu_domain_is_active(dom);
    v->persistent = dom->persistent;
    v->job = dom->job;
    v->def = domain_def_copy(persistent_def ? qemu_domain_persistent_def(dom) : dom->def);
    if (v->active && dom->proc) {
        v->proc = qemu_process_ref(dom->proc);
        v->pid = qemu_process_get_pid(dom->proc);
        v->run_dir = g_strdup(dom->run_dir);
    }
}

static gboolean
check_running(const DomainView *v, GError **error)
{
    if (!v->active || !v->proc) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' is not running"), v->name);
        return FALSE;
    }
    return TRUE;
}

/* Look @uuid up and copy it into @v. */
static gboolean
domain_view_get(QemuDriver *drv, const unsigned char *uuid, DomainView *v, GError **error)
{
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return FALSE;
    domain_view_fill(dom, FALSE, v);
    return TRUE;
}

/* Same, and the domain must be running. */
static gboolean
running_view_get(QemuDriver *drv, const unsigned char *uuid, DomainView *v, GError **error)
{
    return domain_view_get(drv, uuid, v, error) && check_running(v, error);
}

static json_object *
qmp(const DomainView *v, const char *command, json_object *args, GError **error)
{
    return qemu_process_qmp(v->proc, command, args, STATS_QMP_TIMEOUT_MS, error);
}

/* ---------------------------------------------------------------------------------- */
/* procfs and host CPUs                                                                */

static gboolean
read_proc_stat(pid_t pid, int tid, QemuProcStat *ret_stat)
{
    g_autofree char *path = tid > 0 ? g_strdup_printf("/proc/%d/task/%d/stat", pid, tid)
                                    : g_strdup_printf("/proc/%d/stat", pid);
    g_autofree char *text = NULL;
    return g_file_get_contents(path, &text, NULL, NULL) &&
           qemu_stats_parse_proc_stat(text, ret_stat);
}

static guint64
ticks_to_ns(guint64 ticks)
{
    long hz = sysconf(_SC_CLK_TCK);
    return ticks * (G_GUINT64_CONSTANT(1000000000) / (guint64)(hz > 0 ? hz : 100));
}

/* Run delay (ns) of a thread from its schedstat; FALSE when not available. */
static gboolean
read_thread_delay(pid_t pid, int tid, guint64 *ret_ns)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/task/%d/schedstat", pid, tid);
    g_autofree char *text = NULL;
    unsigned long long run = 0, wait = 0;
    if (!g_file_get_contents(path, &text, NULL, NULL) ||
        sscanf(text, "%llu %llu", &run, &wait) != 2)
        return FALSE;
    *ret_ns = wait;
    return TRUE;
}

static gboolean
read_rss(pid_t pid, guint64 *ret_kib)
{
    g_autofree char *path = g_strdup_printf("/proc/%d/status", pid);
    g_autofree char *text = NULL;
    return g_file_get_contents(path, &text, NULL, NULL) && qemu_stats_parse_vmrss(text, ret_kib);
}

/* The host's CPU count and the map of those online (the caller frees it). */
static int
host_cpus(QemuDriver *drv, guint8 **ret_online_map, GError **error)
{
    unsigned int online = 0;
    return nodeinfo_cpu_map(&drv->cfg.host, ret_online_map, &online, error);
}

/* The affinity of thread @tid into @map. */
static void
thread_affinity(int tid, guint8 *map, int maplen, int ncpus)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    if (sched_getaffinity(tid, sizeof(set), &set) < 0)
        return;
    for (int c = 0; c < CPU_SETSIZE; c++) {
        if (CPU_ISSET(c, &set))
            map_set(map, maplen, ncpus, c);
    }
}

/* ---------------------------------------------------------------------------------- */
/* domcontrol                                                                          */

static gboolean
qemu_stats_domain_get_control_info(VirtDriver *vdrv, const unsigned char *uuid,
                                   unsigned int flags, DomainControlInfo *ret_info,
                                   GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return FALSE;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(qemu_driver_cast(vdrv), uuid, error);
    if (!dom)
        return FALSE;
    if (!qemu_domain_is_active(dom)) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' is not running"), qemu_domain_name(dom));
        return FALSE;
    }
    /* Every job of this driver talks to the monitor: a held job means the monitor is
     * occupied. The job's start is not recorded, so its duration is unknown (0). */
    DomainControlInfo info = {
        .state = dom->job ? VIR_DOMAIN_CONTROL_OCCUPIED : VIR_DOMAIN_CONTROL_OK,
    };
    *ret_info = info;
    return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* vCPUs                                                                               */

static gint
compare_thread_index(gconstpointer a, gconstpointer b)
{
    const QemuVcpuThread *x = a, *y = b;
    return x->index < y->index ? -1 : x->index > y->index;
}

/* The vCPU threads named by QEMU (-name debug-threads=on) among the tasks of @pid, by
 * index; NULL when there are none. */
static GArray *
vcpu_threads_from_proc(pid_t pid)
{
    g_autofree char *dir_path = g_strdup_printf("/proc/%d/task", pid);
    g_autoptr(GDir) dir = g_dir_open(dir_path, 0, NULL);
    g_autoptr(GArray) threads = g_array_new(FALSE, TRUE, sizeof(QemuVcpuThread));
    for (const char *entry; dir && (entry = g_dir_read_name(dir));) {
        g_autofree char *comm_path = g_strdup_printf("%s/%s/comm", dir_path, entry);
        g_autofree char *comm = NULL;
        QemuVcpuThread t;
        if (g_file_get_contents(comm_path, &comm, NULL, NULL) &&
            qemu_stats_parse_vcpu_comm(comm, &t.index)) {
            t.tid = (int)g_ascii_strtoll(entry, NULL, 10);
            g_array_append_val(threads, t);
        }
    }
    if (threads->len == 0)
        return NULL;
    g_array_sort(threads, compare_thread_index);
    return g_steal_pointer(&threads);
}

/* The vCPU threads of a running domain, NULL and @error when they cannot be found. The
 * thread names come first: they need no monitor, so a stuck QEMU does not hold up the
 * (priority) caller; QEMU's own list is asked when the names do not tell. */
static GArray *
vcpu_threads(const DomainView *v, GError **error)
{
    GArray *named = vcpu_threads_from_proc(v->pid);
    if (named)
        return named;
    json_object *reply = qmp(v, "query-cpus-fast", NULL, error);
    if (!reply)
        return NULL;
    GArray *threads = qemu_stats_parse_vcpu_threads(reply);
    json_object_put(reply);
    return threads;
}

static int
qemu_stats_domain_get_vcpus(VirtDriver *vdrv, const unsigned char *uuid, int maxinfo,
                            DomainVcpuInfo *ret_info, int maplen, guint8 *ret_cpumaps,
                            GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    g_auto(DomainView) v = {0};
    if (!domain_view_get(drv, uuid, &v, error))
        return -1;
    if (!v.active || !v.proc) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("cannot list the vCPUs of domain '%s': it is not running"), v.name);
        return -1;
    }
    g_autofree guint8 *online = NULL;
    int ncpus = host_cpus(drv, &online, error);
    if (ncpus < 0)
        return -1;
    g_autoptr(GArray) threads = vcpu_threads(&v, error);
    if (!threads)
        return -1;
    int n = MIN((int)threads->len, maxinfo);
    for (int i = 0; i < n; i++) {
        QemuVcpuThread *t = &g_array_index(threads, QemuVcpuThread, i);
        QemuProcStat st = {.processor = -1};
        gboolean have = read_proc_stat(v.pid, t->tid, &st);
        ret_info[i].number = t->index;
        ret_info[i].state = VIR_VCPU_RUNNING;
        ret_info[i].cpu_time_ns = have ? ticks_to_ns(st.utime_ticks + st.stime_ticks) : 0;
        ret_info[i].cpu = have ? st.processor : -1;
        if (maplen > 0) {
            memset(ret_cpumaps + (gsize)i * maplen, 0, maplen);
            thread_affinity(t->tid, ret_cpumaps + (gsize)i * maplen, maplen, ncpus);
        }
    }
    return n;
}

/* The definition that @flags (VIR_DOMAIN_AFFECT_*) name, for queries. */
static DomainDef *
affected_def(QemuDriver *drv, const unsigned char *uuid, unsigned int flags, int *ret_nvcpus,
             GError **error)
{
    if (!qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE | VIR_DOMAIN_AFFECT_CONFIG,
                                 error))
        return NULL;
    /* Clients refuse both at once themselves; for others, 'config' is the flag too many. */
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) &&
        !qemu_driver_check_flags(flags, VIR_DOMAIN_AFFECT_LIVE, error))
        return NULL;
    g_autoptr(QemuDomainLocked) dom = qemu_driver_acquire(drv, uuid, error);
    if (!dom)
        return NULL;
    gboolean active = qemu_domain_is_active(dom);
    if ((flags & VIR_DOMAIN_AFFECT_LIVE) && !active) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' is not running"), qemu_domain_name(dom));
        return NULL;
    }
    if ((flags & VIR_DOMAIN_AFFECT_CONFIG) && !dom->persistent) {
        virt_error_set(error, VIR_FROM_DOMAIN, VIR_ERR_OPERATION_INVALID,
                       _("transient domain '%s' has no persistent configuration"),
                       qemu_domain_name(dom));
        return NULL;
    }
    DomainDef *def = (flags & VIR_DOMAIN_AFFECT_CONFIG) ? qemu_domain_persistent_def(dom)
                                                        : dom->def;
    *ret_nvcpus = def->vcpus_max;
    return domain_def_copy(def);
}

/* @cpuset, else the domain-wide <vcpu cpuset>, else every online host CPU. */
static gboolean
fill_pin_map(const char *cpuset, const DomainDef *def, const guint8 *online, int ncpus,
             guint8 *map, int maplen, GError **error)
{
    memset(map, 0, maplen);
    if (!cpuset)
        cpuset = def->vcpu_cpuset;
    if (cpuset)
        return qemu_stats_parse_cpuset(cpuset, map, maplen, ncpus, error);
    for (int c = 0; c < ncpus && c < maplen * 8; c++) {
        if (online[c / 8] & (1 << (c % 8)))
            map_set(map, maplen, ncpus, c);
    }
    return TRUE;
}

static int
qemu_stats_domain_get_vcpu_pin_info(VirtDriver *vdrv, const unsigned char *uuid,
                                    int ncpumaps, int maplen, guint8 *ret_cpumaps,
                                    unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    int nvcpus = 0;
    g_autoptr(DomainDef) def = affected_def(drv, uuid, flags, &nvcpus, error);
    if (!def)
        return -1;
    g_autofree guint8 *online = NULL;
    int ncpus = host_cpus(drv, &online, error);
    if (ncpus < 0)
        return -1;
    int n = MIN(nvcpus, ncpumaps);
    for (int i = 0; i < n && maplen > 0; i++) {
        const char *cpuset = NULL;
        for (guint p = 0; p < def->vcpupins.len; p++) {
            DomainPin *pin = ptr_vec_index(&def->vcpupins, p);
            if (pin->vcpu && g_ascii_strtoll(pin->vcpu, NULL, 10) == i)
                cpuset = pin->cpuset;
        }
        if (!fill_pin_map(cpuset, def, online, ncpus, ret_cpumaps + (gsize)i * maplen, maplen,
                          error))
            return -1;
    }
    return n;
}

static int
qemu_stats_domain_get_emulator_pin_info(VirtDriver *vdrv, const unsigned char *uuid,
                                        int maplen, guint8 *ret_cpumap, unsigned int flags,
                                        GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    int nvcpus = 0;
    g_autoptr(DomainDef) def = affected_def(drv, uuid, flags, &nvcpus, error);
    if (!def)
        return -1;
    g_autofree guint8 *online = NULL;
    int ncpus = host_cpus(drv, &online, error);
    if (ncpus < 0)
        return -1;
    if (maplen > 0 &&
        !fill_pin_map(def->emulatorpin, def, online, ncpus, ret_cpumap, maplen, error))
        return -1;
    return 1;
}

/* ---------------------------------------------------------------------------------- */
/* Memory                                                                              */

static gboolean
has_balloon(const DomainDef *def)
{
    return def->devices.memballoon && g_strcmp0(def->devices.memballoon->model, "none") != 0;
}

static guint64
current_memory_kib(const DomainDef *def)
{
    return def->current_memory_kib ? def->current_memory_kib : def->memory_kib;
}

/* The balloon's size (KiB): what QEMU says, else the definition's current memory. */
static guint64
balloon_actual(const DomainView *v)
{
    guint64 kib = current_memory_kib(v->def);
    if (has_balloon(v->def)) {
        json_object *reply = qmp(v, "query-balloon", NULL, NULL);
        qemu_stats_parse_balloon(reply, &kib);
        json_object_put(reply);
    }
    return kib;
}

/* The guest's own statistics (balloon driver) then RSS, as dommemstat lists them after
 * "actual". */
static void
guest_memory_stats(const DomainView *v, GArray *stats)
{
    if (has_balloon(v->def)) {
        json_object *args = json_object_new_object();
        json_object_object_add(args, "path", json_object_new_string(BALLOON_QOM_PATH));
        json_object_object_add(args, "property", json_object_new_string("guest-stats"));
        json_object *reply = qmp(v, "qom-get", args, NULL);
        json_object_put(args);
        qemu_stats_parse_guest_stats(reply, stats);
        json_object_put(reply);
    }
    guint64 rss;
    if (read_rss(v->pid, &rss)) {
        DomainMemoryStat s = {VIR_DOMAIN_MEMORY_STAT_RSS, rss};
        g_array_append_val(stats, s);
    }
}

static int
qemu_stats_domain_memory_stats(VirtDriver *vdrv, const unsigned char *uuid,
                               DomainMemoryStat *ret_stats, unsigned int max,
                               unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return -1;
    g_auto(DomainView) v = {0};
    if (!running_view_get(qemu_driver_cast(vdrv), uuid, &v, error))
        return -1;
    g_autoptr(GArray) stats = g_array_new(FALSE, TRUE, sizeof(DomainMemoryStat));
    DomainMemoryStat actual = {VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON, balloon_actual(&v)};
    g_array_append_val(stats, actual);
    guest_memory_stats(&v, stats);
    unsigned int n = MIN(stats->len, max);
    memcpy(ret_stats, stats->data, n * sizeof(DomainMemoryStat));
    return n;
}

/* ---------------------------------------------------------------------------------- */
/* Disks                                                                               */

static void
add_counters(DomainBlockStats *sum, const QemuBlockCounters *c)
{
    sum->rd_req += MAX(c->rd_operations, 0);
    sum->rd_bytes += MAX(c->rd_bytes, 0);
    sum->rd_total_times_ns += MAX(c->rd_total_time_ns, 0);
    sum->wr_req += MAX(c->wr_operations, 0);
    sum->wr_bytes += MAX(c->wr_bytes, 0);
    sum->wr_total_times_ns += MAX(c->wr_total_time_ns, 0);
    sum->flush_req += MAX(c->flush_operations, 0);
    sum->flush_total_times_ns += MAX(c->flush_total_time_ns, 0);
}

static gboolean
qemu_stats_domain_block_stats(VirtDriver *vdrv, const unsigned char *uuid, const char *path,
                              DomainBlockStats *ret_stats, GError **error)
{
    g_auto(DomainView) v = {0};
    if (!running_view_get(qemu_driver_cast(vdrv), uuid, &v, error))
        return FALSE;
    const PtrVec *disks = &v.def->devices.disks;
    int only = -1;
    if (path && *path) {
        if ((only = domain_def_find_disk(v.def, path, error)) < 0)
            return FALSE;
        const DomainDiskDef *d = ptr_vec_index(disks, only);
        if (!d->source) {
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                           _("disk '%s' of domain '%s' has no medium"), d->target_dev, v.name);
            return FALSE;
        }
    }
    json_object *reply = qmp(&v, "query-blockstats", NULL, error);
    if (!reply)
        return FALSE;
    DomainBlockStats sum = {.errs = -1}; /* QEMU does not count errors */
    for (guint i = 0; i < disks->len; i++) {
        const DomainDiskDef *d = ptr_vec_index(disks, i);
        if ((only >= 0 && (int)i != only) || !d->source)
            continue;
        g_autofree char *node = qemu_command_disk_node(v.def, i);
        QemuBlockCounters c;
        if (qemu_stats_parse_blockstats(reply, node, &c)) {
            add_counters(&sum, &c);
        } else if (only >= 0) {
            json_object_put(reply);
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                           _("QEMU has no statistics for disk '%s' of domain '%s'"),
                           d->target_dev, v.name);
            return FALSE;
        }
    }
    json_object_put(reply);
    *ret_stats = sum;
    return TRUE;
}

/* Sizes of a disk's file (or block device) as they are on the host. */
typedef struct {
    guint64 capacity;   /* the guest-visible size */
    guint64 allocation; /* host bytes used */
    guint64 physical;   /* size of the file or device */
} DiskFileSizes;

static gboolean
disk_file_sizes(const DomainDiskDef *d, DiskFileSizes *ret_sizes, GError **error)
{
    int fd = open(d->source, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, errno, _("cannot read disk image '%s'"),
                             d->source);
        if (fd >= 0)
            close(fd);
        return FALSE;
    }
    DiskFileSizes s = {0};
    if (S_ISBLK(sb.st_mode)) {
        off_t end = lseek(fd, 0, SEEK_END);
        s.physical = s.allocation = end > 0 ? (guint64)end : 0;
    } else {
        s.physical = sb.st_size;
        s.allocation = (guint64)sb.st_blocks * 512;
    }
    s.capacity = s.physical;
    guint8 header[32];
    if (g_strcmp0(d->driver_type, "qcow2") == 0 &&
        pread(fd, header, sizeof(header), 0) == (ssize_t)sizeof(header))
        qemu_stats_qcow2_size(header, sizeof(header), &s.capacity);
    close(fd);
    *ret_sizes = s;
    return TRUE;
}

static gboolean
qemu_stats_domain_get_block_info(VirtDriver *vdrv, const unsigned char *uuid,
                                 const char *path, unsigned int flags,
                                 DomainBlockInfo *ret_info, GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return FALSE;
    g_auto(DomainView) v = {0};
    if (!domain_view_get(qemu_driver_cast(vdrv), uuid, &v, error))
        return FALSE;
    int idx = domain_def_find_disk(v.def, path, error);
    if (idx < 0)
        return FALSE;
    const DomainDiskDef *d = ptr_vec_index(&v.def->devices.disks, idx);
    if (!d->source) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("disk '%s' of domain '%s' has no medium"), d->target_dev, v.name);
        return FALSE;
    }
    DiskFileSizes s;
    if (!disk_file_sizes(d, &s, error))
        return FALSE;
    if (v.active && v.proc) {
        /* The running QEMU knows the guest-visible size best. */
        json_object *reply = qmp(&v, "query-block", NULL, NULL);
        g_autofree char *node = qemu_command_disk_node(v.def, idx);
        guint64 virt = 0, actual = 0;
        if (qemu_stats_parse_block_sizes(reply, node, &virt, &actual) && virt)
            s.capacity = virt;
        json_object_put(reply);
    }
    DomainBlockInfo info = {s.capacity, s.allocation, s.physical};
    *ret_info = info;
    return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* Interfaces                                                                          */

static char *
format_mac(const unsigned char *m)
{
    return g_strdup_printf("%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
}

static gint64
read_net_counter(const char *ifname, const char *counter)
{
    g_autofree char *path = g_strdup_printf("/sys/class/net/%s/statistics/%s", ifname, counter);
    g_autofree char *text = NULL;
    if (!g_file_get_contents(path, &text, NULL, NULL))
        return -1;
    return g_ascii_strtoll(text, NULL, 10);
}

static gboolean
qemu_stats_domain_interface_stats(VirtDriver *vdrv, const unsigned char *uuid,
                                  const char *device, DomainInterfaceStats *ret_stats,
                                  GError **error)
{
    g_auto(DomainView) v = {0};
    if (!running_view_get(qemu_driver_cast(vdrv), uuid, &v, error))
        return FALSE;
    const PtrVec *nets = &v.def->devices.nets;
    const DomainNetDef *net = NULL;
    for (guint i = 0; i < nets->len && !net; i++) {
        const DomainNetDef *n = ptr_vec_index(nets, i);
        g_autofree char *mac = format_mac(n->mac);
        if (g_ascii_strcasecmp(mac, device) == 0 ||
            (n->target_dev && strcmp(n->target_dev, device) == 0))
            net = n;
    }
    if (!net) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("domain '%s' has no interface '%s'"), v.name, device);
        return FALSE;
    }
    if (g_strcmp0(net->type, "user") == 0 || !net->target_dev) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_UNSUPPORTED,
                       _("interface '%s' of domain '%s' uses user-mode networking: it has no host device to count its traffic"),
                       device, v.name);
        return FALSE;
    }
    /* A tap seen from the host: what the guest sends arrives as the tap's rx. */
    const char *dev = net->target_dev;
    DomainInterfaceStats st = {
        .rx_bytes = read_net_counter(dev, "tx_bytes"),
        .rx_packets = read_net_counter(dev, "tx_packets"),
        .rx_errs = read_net_counter(dev, "tx_errors"),
        .rx_drop = read_net_counter(dev, "tx_dropped"),
        .tx_bytes = read_net_counter(dev, "rx_bytes"),
        .tx_packets = read_net_counter(dev, "rx_packets"),
        .tx_errs = read_net_counter(dev, "rx_errors"),
        .tx_drop = read_net_counter(dev, "rx_dropped"),
    };
    if (st.rx_bytes < 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("host device '%s' of interface '%s' is not there"), dev, device);
        return FALSE;
    }
    *ret_stats = st;
    return TRUE;
}

/* ---------------------------------------------------------------------------------- */
/* domstats                                                                            */

#define SUPPORTED_GROUPS                                                               \
    (VIR_DOMAIN_STATS_STATE | VIR_DOMAIN_STATS_CPU_TOTAL | VIR_DOMAIN_STATS_BALLOON |  \
     VIR_DOMAIN_STATS_VCPU | VIR_DOMAIN_STATS_INTERFACE | VIR_DOMAIN_STATS_BLOCK)

#define FILTER_FLAGS                                                                   \
    (VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE | VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE | \
     VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT |                                     \
     VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT | VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING | \
     VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED | VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF | \
     VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER)

static gboolean
stats_filter_match(const DomainView *v, unsigned int flags)
{
    unsigned int activity = flags & (VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE |
                                     VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE);
    if (activity && !(activity & (v->active ? VIR_CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE
                                            : VIR_CONNECT_GET_ALL_DOMAINS_STATS_INACTIVE)))
        return FALSE;
    unsigned int persistence = flags & (VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT |
                                        VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT);
    if (persistence &&
        !(persistence & (v->persistent ? VIR_CONNECT_GET_ALL_DOMAINS_STATS_PERSISTENT
                                       : VIR_CONNECT_GET_ALL_DOMAINS_STATS_TRANSIENT)))
        return FALSE;
    unsigned int states = flags & (VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING |
                                   VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED |
                                   VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF |
                                   VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER);
    if (states) {
        unsigned int mine = v->state == VIR_DOMAIN_RUNNING ? VIR_CONNECT_GET_ALL_DOMAINS_STATS_RUNNING
                            : v->state == VIR_DOMAIN_PAUSED ? VIR_CONNECT_GET_ALL_DOMAINS_STATS_PAUSED
                            : v->state == VIR_DOMAIN_SHUTOFF ? VIR_CONNECT_GET_ALL_DOMAINS_STATS_SHUTOFF
                                                             : VIR_CONNECT_GET_ALL_DOMAINS_STATS_OTHER;
        if (!(states & mine))
            return FALSE;
    }
    return TRUE;
}

static void
stats_cpu(const DomainView *v, DomainStatsRecord *rec)
{
    QemuProcStat st;
    if (!v->proc || !read_proc_stat(v->pid, 0, &st))
        return;
    qemu_stats_add_ullong(rec, ticks_to_ns(st.utime_ticks + st.stime_ticks), "cpu.time");
    qemu_stats_add_ullong(rec, ticks_to_ns(st.utime_ticks), "cpu.user");
    qemu_stats_add_ullong(rec, ticks_to_ns(st.stime_ticks), "cpu.system");
}

static void
stats_balloon(const DomainView *v, DomainStatsRecord *rec)
{
    qemu_stats_add_ullong(rec, v->proc ? balloon_actual(v) : current_memory_kib(v->def),
                          "balloon.current");
    qemu_stats_add_ullong(rec, v->def->memory_kib, "balloon.maximum");
    if (!v->proc)
        return;
    static const struct {
        int tag;
        const char *name;
    } names[] = {
        {VIR_DOMAIN_MEMORY_STAT_SWAP_IN, "swap_in"},
        {VIR_DOMAIN_MEMORY_STAT_SWAP_OUT, "swap_out"},
        {VIR_DOMAIN_MEMORY_STAT_MAJOR_FAULT, "major_fault"},
        {VIR_DOMAIN_MEMORY_STAT_MINOR_FAULT, "minor_fault"},
        {VIR_DOMAIN_MEMORY_STAT_UNUSED, "unused"},
        {VIR_DOMAIN_MEMORY_STAT_AVAILABLE, "available"},
        {VIR_DOMAIN_MEMORY_STAT_RSS, "rss"},
        {VIR_DOMAIN_MEMORY_STAT_LAST_UPDATE, "last-update"},
        {VIR_DOMAIN_MEMORY_STAT_USABLE, "usable"},
        {VIR_DOMAIN_MEMORY_STAT_DISK_CACHES, "disk_caches"},
        {VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGALLOC, "hugetlb_pgalloc"},
        {VIR_DOMAIN_MEMORY_STAT_HUGETLB_PGFAIL, "hugetlb_pgfail"},
    };
    g_autoptr(GArray) stats = g_array_new(FALSE, TRUE, sizeof(DomainMemoryStat));
    guest_memory_stats(v, stats);
    for (guint i = 0; i < stats->len; i++) {
        const DomainMemoryStat *s = &g_array_index(stats, DomainMemoryStat, i);
        for (gsize k = 0; k < G_N_ELEMENTS(names); k++) {
            if (names[k].tag == s->tag)
                qemu_stats_add_ullong(rec, s->value, "balloon.%s", names[k].name);
        }
    }
}

static void
stats_vcpu(const DomainView *v, DomainStatsRecord *rec)
{
    unsigned int max = v->def->vcpus_max;
    unsigned int current = v->def->vcpus_current ? v->def->vcpus_current : max;
    qemu_stats_add_uint(rec, current, "vcpu.current");
    qemu_stats_add_uint(rec, max, "vcpu.maximum");
    if (!v->proc)
        return;
    g_autoptr(GArray) threads = vcpu_threads(v, NULL);
    for (guint i = 0; threads && i < threads->len; i++) {
        QemuVcpuThread *t = &g_array_index(threads, QemuVcpuThread, i);
        QemuProcStat st;
        guint64 delay;
        qemu_stats_add_int(rec, VIR_VCPU_RUNNING, "vcpu.%u.state", t->index);
        if (read_proc_stat(v->pid, t->tid, &st))
            qemu_stats_add_ullong(rec, ticks_to_ns(st.utime_ticks + st.stime_ticks),
                                  "vcpu.%u.time", t->index);
        if (read_thread_delay(v->pid, t->tid, &delay))
            qemu_stats_add_ullong(rec, delay, "vcpu.%u.delay", t->index);
    }
}

static void
stats_interface(const DomainView *v, DomainStatsRecord *rec)
{
    if (!v->proc)
        return;
    const PtrVec *nets = &v->def->devices.nets;
    qemu_stats_add_uint(rec, nets->len, "net.count");
    /* User-mode interfaces have no host device: like libvirt, only the count. */
    for (guint i = 0; i < nets->len; i++) {
        const DomainNetDef *n = ptr_vec_index(nets, i);
        if (!n->target_dev || g_strcmp0(n->type, "user") == 0)
            continue;
        qemu_stats_add_string(rec, n->target_dev, "net.%u.name", i);
        static const char *const counters[][2] = {
            {"rx.bytes", "tx_bytes"}, {"rx.pkts", "tx_packets"}, {"rx.errs", "tx_errors"},
            {"rx.drop", "tx_dropped"}, {"tx.bytes", "rx_bytes"}, {"tx.pkts", "rx_packets"},
            {"tx.errs", "rx_errors"}, {"tx.drop", "rx_dropped"},
        };
        for (gsize k = 0; k < G_N_ELEMENTS(counters); k++) {
            gint64 value = read_net_counter(n->target_dev, counters[k][1]);
            if (value >= 0)
                qemu_stats_add_ullong(rec, value, "net.%u.%s", i, counters[k][0]);
        }
    }
}

static void
stats_block(const DomainView *v, DomainStatsRecord *rec)
{
    const PtrVec *disks = &v->def->devices.disks;
    json_object *blockstats = v->proc ? qmp(v, "query-blockstats", NULL, NULL) : NULL;
    json_object *block = v->proc ? qmp(v, "query-block", NULL, NULL) : NULL;
    qemu_stats_add_uint(rec, disks->len, "block.count");
    for (guint i = 0; i < disks->len; i++) {
        const DomainDiskDef *d = ptr_vec_index(disks, i);
        qemu_stats_add_string(rec, d->target_dev, "block.%u.name", i);
        if (!d->source)
            continue;
        qemu_stats_add_string(rec, d->source, "block.%u.path", i);
        if (!v->proc) {
            /* Shut off: what the image file says. */
            DiskFileSizes s;
            if (!disk_file_sizes(d, &s, NULL))
                continue;
            if (s.allocation)
                qemu_stats_add_ullong(rec, s.allocation, "block.%u.allocation", i);
            if (s.capacity)
                qemu_stats_add_ullong(rec, s.capacity, "block.%u.capacity", i);
            if (s.physical)
                qemu_stats_add_ullong(rec, s.physical, "block.%u.physical", i);
            continue;
        }
        g_autofree char *node = qemu_command_disk_node(v->def, i);
        QemuBlockCounters c;
        if (!qemu_stats_parse_blockstats(blockstats, node, &c))
            continue;
        const struct {
            const char *name;
            gint64 value;
        } counters[] = {
            {"rd.reqs", c.rd_operations}, {"rd.bytes", c.rd_bytes},
            {"rd.times", c.rd_total_time_ns}, {"wr.reqs", c.wr_operations},
            {"wr.bytes", c.wr_bytes}, {"wr.times", c.wr_total_time_ns},
            {"fl.reqs", c.flush_operations}, {"fl.times", c.flush_total_time_ns},
        };
        for (gsize k = 0; k < G_N_ELEMENTS(counters); k++) {
            if (counters[k].value >= 0)
                qemu_stats_add_ullong(rec, counters[k].value, "block.%u.%s", i,
                                      counters[k].name);
        }
        qemu_stats_add_ullong(rec, MAX(c.wr_highest_offset, 0), "block.%u.allocation", i);
        guint64 virt = 0, actual = 0;
        if (qemu_stats_parse_block_sizes(block, node, &virt, &actual)) {
            if (virt)
                qemu_stats_add_ullong(rec, virt, "block.%u.capacity", i);
            if (actual)
                qemu_stats_add_ullong(rec, actual, "block.%u.physical", i);
        }
    }
    json_object_put(blockstats);
    json_object_put(block);
}

static DomainStatsRecord *
collect_stats(const DomainView *v, unsigned int groups)
{
    DomainStatsRecord *rec = qemu_stats_record_new(&v->ref);
    if (groups & VIR_DOMAIN_STATS_STATE) {
        qemu_stats_add_int(rec, v->state, "state.state");
        qemu_stats_add_int(rec, v->reason, "state.reason");
    }
    if (groups & VIR_DOMAIN_STATS_CPU_TOTAL)
        stats_cpu(v, rec);
    if (groups & VIR_DOMAIN_STATS_BALLOON)
        stats_balloon(v, rec);
    if (groups & VIR_DOMAIN_STATS_VCPU)
        stats_vcpu(v, rec);
    if (groups & VIR_DOMAIN_STATS_INTERFACE)
        stats_interface(v, rec);
    if (groups & VIR_DOMAIN_STATS_BLOCK)
        stats_block(v, rec);
    return rec;
}

static gint
compare_by_name(gconstpointer a, gconstpointer b)
{
    const QemuDomain *x = *(QemuDomain *const *)a, *y = *(QemuDomain *const *)b;
    return g_strcmp0(qemu_domain_name(x), qemu_domain_name(y));
}

static GPtrArray *
qemu_stats_get_all_domain_stats(VirtDriver *vdrv, const unsigned char *uuids, guint n_uuids,
                                unsigned int stats, unsigned int flags, GError **error)
{
    QemuDriver *drv = qemu_driver_cast(vdrv);
    const unsigned int allowed = FILTER_FLAGS | VIR_CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT |
                                 VIR_CONNECT_GET_ALL_DOMAINS_STATS_BACKING |
                                 VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS;
    if (!qemu_driver_check_flags(flags, allowed, error))
        return NULL;
    if ((flags & VIR_CONNECT_GET_ALL_DOMAINS_STATS_ENFORCE_STATS) &&
        (stats & ~SUPPORTED_GROUPS)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("statistics groups 0x%x are not supported by this daemon"),
                       stats & ~SUPPORTED_GROUPS);
        return NULL;
    }
    unsigned int groups = stats ? stats & SUPPORTED_GROUPS : SUPPORTED_GROUPS;

    /* The domains asked for (those that still exist), else all of them by name. */
    g_autoptr(GPtrArray) doms = NULL;
    if (n_uuids) {
        doms = g_ptr_array_new_with_free_func((GDestroyNotify)qemu_domain_unref);
        for (guint i = 0; i < n_uuids; i++) {
            g_autoptr(QemuDomainLocked) dom =
                qemu_driver_acquire(drv, uuids + (gsize)i * VIRT_UUID_LEN, NULL);
            if (dom)
                g_ptr_array_add(doms, qemu_domain_ref(dom));
        }
    } else {
        doms = qemu_driver_snapshot(drv);
        g_ptr_array_sort(doms, compare_by_name);
    }

    GPtrArray *records = g_ptr_array_new_with_free_func((GDestroyNotify)qemu_stats_record_free);
    for (guint i = 0; i < doms->len; i++) {
        QemuDomain *dom = g_ptr_array_index(doms, i);
        g_auto(DomainView) v = {0};
        g_mutex_lock(&dom->lock);
        gboolean gone = dom->removed;
        if (!gone)
            domain_view_fill(dom, FALSE, &v);
        g_mutex_unlock(&dom->lock);
        if (gone || !stats_filter_match(&v, flags))
            continue;
        g_ptr_array_add(records, collect_stats(&v, groups));
    }
    return records;
}

/* ---------------------------------------------------------------------------------- */
/* send-key                                                                            */

static gboolean
qemu_stats_domain_send_key(VirtDriver *vdrv, const unsigned char *uuid, unsigned int codeset,
                           unsigned int holdtime_ms, const unsigned int *keycodes,
                           guint n_keycodes, unsigned int flags, GError **error)
{
    if (!qemu_driver_check_flags(flags, 0, error))
        return FALSE;
    if (n_keycodes == 0 || n_keycodes > VIR_DOMAIN_SEND_KEY_MAX_KEYS) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("%u keys given: send between 1 and %d keys at once"), n_keycodes,
                       VIR_DOMAIN_SEND_KEY_MAX_KEYS);
        return FALSE;
    }
    const char *set_name = qemu_stats_codeset_name(codeset);
    if (!qemu_stats_codeset_supported(codeset)) {
        g_autofree char *shown = set_name ? g_strdup(set_name) : g_strdup_printf("%u", codeset);
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_ARGUMENT_UNSUPPORTED,
                       _("keycode set '%s' is not supported: use 'linux', 'xt', 'atset1', 'usb' or 'qnum'"),
                       shown);
        return FALSE;
    }
    json_object *keys = json_object_new_array();
    for (guint i = 0; i < n_keycodes; i++) {
        int qnum = qemu_stats_keycode_to_qnum(codeset, keycodes[i]);
        if (qnum < 0) {
            json_object_put(keys);
            virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                           _("keycode %u of keycode set '%s' has no QEMU key"), keycodes[i],
                           set_name);
            return FALSE;
        }
        json_object *key = json_object_new_object();
        json_object_object_add(key, "type", json_object_new_string("number"));
        json_object_object_add(key, "data", json_object_new_int(qnum));
        json_object_array_add(keys, key);
    }
    json_object *args = json_object_new_object();
    json_object_object_add(args, "keys", keys);
    if (holdtime_ms > 0)
        json_object_object_add(args, "hold-time", json_object_new_int64(holdtime_ms));

    g_auto(DomainView) v = {0};
    gboolean ok = running_view_get(qemu_driver_cast(vdrv), uuid, &v, error);
    json_object *reply = ok ? qmp(&v, "send-key", args, error) : NULL;
    json_object_put(args);
    ok = reply != NULL;
    json_object_put(reply);
    return ok;
}

/* ---------------------------------------------------------------------------------- */
/* screenshot                                                                          */

static int
qemu_stats_domain_screenshot(VirtDriver *vdrv, const unsigned char *uuid, unsigned int screen,
                             unsigned int flags, char **ret_mime, GError **error)
{
    static gint counter;
    if (!qemu_driver_check_flags(flags, 0, error))
        return -1;
    g_auto(DomainView) v = {0};
    if (!running_view_get(qemu_driver_cast(vdrv), uuid, &v, error))
        return -1;
    const PtrVec *videos = &v.def->devices.videos;
    if (videos->len == 0) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_INVALID,
                       _("domain '%s' has no video device to take a screenshot of"), v.name);
        return -1;
    }
    const DomainVideoDef *video = ptr_vec_index(videos, 0);
    unsigned int heads = video->heads ? (unsigned int)g_ascii_strtoull(video->heads, NULL, 10) : 1;
    if (screen >= MAX(heads, 1)) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_INVALID_ARG,
                       _("domain '%s' has no screen %u"), v.name, screen);
        return -1;
    }
    if (!v.run_dir) {
        virt_error_set(error, VIR_FROM_QEMU, VIR_ERR_OPERATION_FAILED,
                       _("domain '%s' has no run-time directory for the screenshot"), v.name);
        return -1;
    }
    g_autofree char *file = g_strdup_printf("screenshot-%d.ppm", g_atomic_int_add(&counter, 1));
    g_autofree char *path = g_build_filename(v.run_dir, file, NULL);
    json_object *args = json_object_new_object();
    json_object_object_add(args, "filename", json_object_new_string(path));
    if (screen > 0) {
        json_object_object_add(args, "device", json_object_new_string("video0"));
        json_object_object_add(args, "head", json_object_new_int(screen));
    }
    json_object *reply = qmp(&v, "screendump", args, error);
    json_object_put(args);
    if (!reply) {
        unlink(path);
        return -1;
    }
    json_object_put(reply);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int saved = errno;
    unlink(path); /* the open fd keeps the image until the stream has sent it */
    if (fd < 0) {
        virt_error_set_errno(error, VIR_FROM_QEMU, saved,
                             _("cannot open the screenshot QEMU wrote to '%s'"), path);
        return -1;
    }
    *ret_mime = g_strdup(SCREENSHOT_MIME);
    return fd;
}

/* ---------------------------------------------------------------------------------- */

void
qemu_stats_fill_vtable(VirtDriver *vt)
{
    vt->domain_get_control_info = qemu_stats_domain_get_control_info;
    vt->domain_get_vcpus = qemu_stats_domain_get_vcpus;
    vt->domain_get_vcpu_pin_info = qemu_stats_domain_get_vcpu_pin_info;
    vt->domain_get_emulator_pin_info = qemu_stats_domain_get_emulator_pin_info;
    vt->domain_memory_stats = qemu_stats_domain_memory_stats;
    vt->domain_block_stats = qemu_stats_domain_block_stats;
    vt->domain_get_block_info = qemu_stats_domain_get_block_info;
    vt->domain_interface_stats = qemu_stats_domain_interface_stats;
    vt->get_all_domain_stats = qemu_stats_get_all_domain_stats;
    vt->domain_send_key = qemu_stats_domain_send_key;
    vt->domain_screenshot = qemu_stats_domain_screenshot;
}
