/* cgroups: what cgroup.c shares with its two backends (cgroup-v1.c, cgroup-v2.c).
 * Nothing outside drivers/host/cgroup*.c includes this file. */
#pragma once

#include "drivers/host/cgroup.h"

/* The controllers virtd uses, by their v1 names ("io" on v2 is BLKIO). */
typedef enum {
    CGROUP_CONTROLLER_CPU,
    CGROUP_CONTROLLER_CPUACCT,
    CGROUP_CONTROLLER_CPUSET,
    CGROUP_CONTROLLER_MEMORY,
    CGROUP_CONTROLLER_DEVICES,
    CGROUP_CONTROLLER_BLKIO,
    CGROUP_CONTROLLER_LAST
} CgroupController;

#define CGROUP_BIT(c) (1u << (c))

#define CGROUP_SHARES_MIN 2        /* v1 cpu.shares */
#define CGROUP_SHARES_MAX 262144
#define CGROUP_WEIGHT_MIN 1        /* v2 cpu.weight, io.weight */
#define CGROUP_WEIGHT_MAX 10000
#define CGROUP_BLKIO_WEIGHT_MIN 100 /* v1 blkio.weight */
#define CGROUP_BLKIO_WEIGHT_MAX 1000

typedef enum {
    CGROUP_MEMORY_HARD,  /* v1 memory.limit_in_bytes, v2 memory.max */
    CGROUP_MEMORY_SOFT,  /* v1 memory.soft_limit_in_bytes, v2 memory.high */
    CGROUP_MEMORY_SWAP,  /* v1 memory.memsw.limit_in_bytes, v2 memory.swap.max */
    CGROUP_MEMORY_LAST
} CgroupMemoryLimit;

typedef enum {
    CGROUP_BLKIO_READ_BPS,
    CGROUP_BLKIO_WRITE_BPS,
    CGROUP_BLKIO_READ_IOPS,
    CGROUP_BLKIO_WRITE_IOPS,
    CGROUP_BLKIO_LAST
} CgroupBlkioLimit;

/* v1 name of @c ("cpu", "blkio", ...). */
const char *cgroup_controller_to_string(CgroupController c);
/* @name as a controller ("io" is accepted for blkio), -1 when unknown. */
int cgroup_controller_from_string(const char *name);

/* One backend: every operation of cgroup.h that differs between v1 and v2. Arguments are
 * validated by cgroup.c before a backend sees them; each function reports its own errors. */
typedef struct {
    const char *name;
    /* Fill @group->controllers: create (or with @existing_only find) @group->path. */
    gboolean (*make_machine)(Cgroup *group, gboolean existing_only, GError **error);
    /* Create the thread sub-group @child (path and host set) below @parent. */
    gboolean (*make_child)(Cgroup *parent, Cgroup *child, GError **error);
    gboolean (*add_task)(Cgroup *group, pid_t id, gboolean thread, GError **error);
    gboolean (*move_tasks)(Cgroup *from, Cgroup *to, GError **error);
    gboolean (*remove)(Cgroup *group, GError **error);

    gboolean (*set_cpu_shares)(Cgroup *group, guint64 shares, GError **error);
    gboolean (*get_cpu_shares)(Cgroup *group, guint64 *ret_shares, GError **error);
    gboolean (*set_cpu_bandwidth)(Cgroup *group, guint64 period, gint64 quota, GError **error);
    gboolean (*get_cpu_bandwidth)(Cgroup *group, guint64 *ret_period, gint64 *ret_quota,
                                  GError **error);
    gboolean (*get_cpu_usage)(Cgroup *group, guint64 *ret_ns, GError **error);
    /* @kib is G_MAXUINT64 for unlimited. */
    gboolean (*set_memory)(Cgroup *group, CgroupMemoryLimit which, guint64 kib, GError **error);
    gboolean (*get_memory)(Cgroup *group, CgroupMemoryLimit which, guint64 *ret_kib,
                           GError **error);
    gboolean (*set_blkio_weight)(Cgroup *group, unsigned int weight, GError **error);
    gboolean (*get_blkio_weight)(Cgroup *group, unsigned int *ret_weight, GError **error);
    /* @majmin is "8:0". */
    gboolean (*set_blkio_device_weight)(Cgroup *group, const char *majmin, unsigned int weight,
                                        GError **error);
    gboolean (*get_blkio_device_weight)(Cgroup *group, const char *majmin,
                                        unsigned int *ret_weight, GError **error);
    gboolean (*set_blkio_device_limit)(Cgroup *group, const char *majmin, CgroupBlkioLimit what,
                                       guint64 value, GError **error);
    gboolean (*get_blkio_device_limit)(Cgroup *group, const char *majmin, CgroupBlkioLimit what,
                                       guint64 *ret_value, GError **error);
    /* @file is "cpuset.cpus" or "cpuset.mems". */
    gboolean (*set_cpuset)(Cgroup *group, const char *file, const char *value, GError **error);
    gboolean (*get_cpuset)(Cgroup *group, const char *file, char **ret_value, GError **error);
} CgroupBackend;

extern const CgroupBackend cgroup_backend_v1;
extern const CgroupBackend cgroup_backend_v2;

struct _CgroupHost {
    CgroupMode mode;
    char *root;                              /* prefix of every mount point ("/" on a host) */
    char *mounts[CGROUP_CONTROLLER_LAST];    /* v1: the controller's mount, root-prefixed */
    char *unified;                           /* the cgroup2 mount, root-prefixed, or NULL */
    guint v2_controllers;                    /* v2: controllers of the root's cgroup.controllers */
    const CgroupBackend *backend;
    CgroupDeviceResolver resolve_device;
    CgroupTestHook test_hook;
    gpointer test_hook_data;
};

struct _Cgroup {
    CgroupHost *host;  /* borrowed: the host outlives its groups */
    char *path;        /* relative to the hierarchy root: "/machine/qemu-1-web.libvirt-qemu" */
    guint controllers; /* CGROUP_BIT()s of the controllers the group is in */
    gboolean thread;   /* a thread sub-group (emulator, vcpuN, iothreadN) */
};

/* The directory of @group in controller @c's hierarchy (v2: the one unified directory). */
char *cgroup_dir(const Cgroup *group, CgroupController c);
/* TRUE when @group is in controller @c; otherwise a VIR_ERR_OPERATION_UNSUPPORTED naming
 * @what (the setting) and the controller. */
gboolean cgroup_require(const Cgroup *group, CgroupController c, const char *what,
                        GError **error);

/* mkdir @dir (an existing directory is fine).
 * @ret_created (may be NULL) tells whether it was created now. */
gboolean cgroup_make_dir(CgroupHost *host, const char *dir, gboolean *ret_created,
                         GError **error);
/* Remove @dir and every sub-directory, deepest first, retrying briefly while busy.
 * A missing @dir is fine. */
gboolean cgroup_remove_dir(CgroupHost *host, const char *dir, GError **error);

gboolean cgroup_file_exists(const char *dir, const char *file);
/* Write @value to @dir/@file in one write(2) (a cgroup file takes one value per write).
 * Errors: VIR_ERR_SYSTEM_ERROR "cannot write 'VALUE' to 'PATH': strerror". */
gboolean cgroup_write(CgroupHost *host, const char *dir, const char *file, const char *value, GError **error);
gboolean cgroup_write_u64(CgroupHost *host, const char *dir, const char *file, guint64 value, GError **error);
/* Contents of @dir/@file with surrounding white space removed. */
gboolean cgroup_read(const char *dir, const char *file, char **ret_value, GError **error);
gboolean cgroup_read_u64(const char *dir, const char *file, guint64 *ret_value, GError **error);
gboolean cgroup_read_i64(const char *dir, const char *file, gint64 *ret_value, GError **error);
/* VIR_ERR_OPERATION_FAILED: "cannot parse 'TEXT' in 'DIR/FILE'". Returns FALSE. */
gboolean cgroup_parse_failed(const char *dir, const char *file, const char *text,
                             GError **error);

/* The ids listed one per line in @dir/@file (cgroup.procs, tasks, cgroup.threads). */
GArray *cgroup_read_ids(const char *dir, const char *file, GError **error);
/* Write every id of @ids to @dir/@file; ids that exited meanwhile (ESRCH) are skipped. */
gboolean cgroup_write_ids(CgroupHost *host, const char *dir, const char *file, GArray *ids, GError **error);
/* Move every id listed in @from_dir/@from_file to @to_dir/@to_file until none is left
 * (threads created meanwhile are caught by the next pass). */
gboolean cgroup_move_ids(CgroupHost *host, const char *from_dir, const char *from_file, const char *to_dir,
                         const char *to_file, GError **error);
/* The thread ids of process @pid (from /proc/PID/task). */
GArray *cgroup_process_threads(pid_t pid, GError **error);

/* "MAJ:MIN VALUE" lines (v1 blkio.*_device, v2 io.weight): the value for @majmin, or
 * NULL when the device has no line. */
char *cgroup_device_line_value(const char *text, const char *majmin);

/* Name of a per-device limit for errors: "read_bps" ... */
const char *cgroup_blkio_limit_to_string(CgroupBlkioLimit what);
const char *cgroup_memory_limit_to_string(CgroupMemoryLimit which);
