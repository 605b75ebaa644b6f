// nook's default seccomp profile, written to have the effect Docker documents
// for its own (docs.docker.com/engine/security/seccomp): an allowlist, with
// every other syscall failing with EPERM; namespaces, mounts, kernel modules,
// clocks, tracing and the like allowed only with the capability that governs
// them; keyrings (keyctl, add_key, request_key), bpf, perf events,
// userfaultfd, io_uring and the obsolete syscalls not at all without it.
// Syscalls newer than nook's table fail with ENOSYS (see bpf.ts), so a libc
// that probes for them falls back, as runc arranges.
//
// The list was drawn up from the syscall tables (syscall-tables.ts), grouped
// by what the calls touch; a name that an architecture does not have is
// skipped there.
import type { Profile, Syscall } from "./profile.js";

/** Syscalls every container may make. */
const ALWAYS: readonly string[] = [
  // files and directories
  ...["access", "faccessat", "faccessat2", "chdir", "fchdir", "getcwd", "umask"],
  ...["chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "chown32", "fchown", "fchown32", "fchownat"],
  ...["lchown", "lchown32", "creat", "open", "openat", "openat2", "close", "close_range"],
  ...["dup", "dup2", "dup3", "fcntl", "fcntl64", "flock", "ioctl"],
  ...["link", "linkat", "symlink", "symlinkat", "unlink", "unlinkat", "rename", "renameat", "renameat2"],
  ...["mkdir", "mkdirat", "mknod", "mknodat", "rmdir", "readlink", "readlinkat"],
  ...["truncate", "truncate64", "ftruncate", "ftruncate64", "fallocate"],
  ...["utime", "utimes", "utimensat", "utimensat_time64", "futimesat"],
  ...["stat", "stat64", "lstat", "lstat64", "fstat", "fstat64", "fstatat64", "newfstatat", "statx"],
  ...["statfs", "statfs64", "fstatfs", "fstatfs64", "getdents", "getdents64"],
  ...["read", "readv", "pread64", "preadv", "preadv2", "write", "writev", "pwrite64", "pwritev", "pwritev2"],
  ...["lseek", "_llseek", "sendfile", "sendfile64", "splice", "tee", "vmsplice", "copy_file_range"],
  ...["sync", "syncfs", "fsync", "fdatasync", "sync_file_range", "readahead", "fadvise64", "fadvise64_64"],
  ...["cachestat", "file_getattr", "file_setattr"],
  ...["getxattr", "lgetxattr", "fgetxattr", "getxattrat", "setxattr", "lsetxattr", "fsetxattr", "setxattrat"],
  ...["listxattr", "llistxattr", "flistxattr", "listxattrat"],
  ...["removexattr", "lremovexattr", "fremovexattr", "removexattrat"],
  ...["inotify_init", "inotify_init1", "inotify_add_watch", "inotify_rm_watch", "fanotify_mark"],
  // memory
  ...["brk", "mmap", "mmap2", "munmap", "mremap", "mprotect", "madvise", "mincore", "msync", "mseal"],
  ...["mlock", "mlock2", "mlockall", "munlock", "munlockall", "remap_file_pages", "map_shadow_stack"],
  ...["membarrier", "memfd_create", "memfd_secret", "pkey_alloc", "pkey_free", "pkey_mprotect"],
  // processes and threads
  ...["fork", "vfork", "execve", "execveat", "exit", "exit_group", "wait4", "waitid", "waitpid"],
  ...["kill", "tkill", "tgkill", "pidfd_open", "pidfd_send_signal", "process_mrelease"],
  ...["getpid", "getppid", "gettid", "getpgid", "setpgid", "getpgrp", "getsid", "setsid"],
  ...["set_tid_address", "set_robust_list", "get_robust_list", "rseq", "prctl", "seccomp"],
  ...["set_thread_area", "get_thread_area", "landlock_create_ruleset", "landlock_add_rule"],
  ...["landlock_restrict_self", "getrlimit", "ugetrlimit", "setrlimit", "prlimit64", "getrusage", "times"],
  ...["getpriority", "setpriority", "getcpu", "ioprio_get", "ioprio_set"],
  ...["sched_yield", "sched_getaffinity", "sched_setaffinity", "sched_getattr", "sched_setattr"],
  ...["sched_getparam", "sched_setparam", "sched_getscheduler", "sched_setscheduler"],
  ...["sched_get_priority_max", "sched_get_priority_min", "sched_rr_get_interval"],
  ...["sched_rr_get_interval_time64"],
  // identities (what a process may become is the capabilities' business)
  ...["getuid", "getuid32", "geteuid", "geteuid32", "getgid", "getgid32", "getegid", "getegid32"],
  ...["getresuid", "getresuid32", "getresgid", "getresgid32", "getgroups", "getgroups32"],
  ...["setuid", "setuid32", "setgid", "setgid32", "setreuid", "setreuid32", "setregid", "setregid32"],
  ...["setresuid", "setresuid32", "setresgid", "setresgid32", "setfsuid", "setfsuid32", "setfsgid"],
  ...["setfsgid32", "setgroups", "setgroups32", "capget", "capset"],
  // signals and timers
  ...["rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending"],
  ...["rt_sigtimedwait", "rt_sigtimedwait_time64", "rt_sigqueueinfo", "rt_tgsigqueueinfo"],
  ...["sigreturn", "sigprocmask", "sigaltstack", "signalfd", "signalfd4", "pause", "restart_syscall"],
  ...["alarm", "getitimer", "setitimer", "nanosleep", "clock_nanosleep", "clock_nanosleep_time64"],
  ...["clock_gettime", "clock_gettime64", "clock_getres", "clock_getres_time64", "gettimeofday", "time"],
  // reading the clock's adjustment needs no capability; changing it does (the kernel checks CAP_SYS_TIME)
  ...["adjtimex", "clock_adjtime", "clock_adjtime64"],
  ...["timer_create", "timer_delete", "timer_getoverrun", "timer_gettime", "timer_gettime64"],
  ...["timer_settime", "timer_settime64", "timerfd_create", "timerfd_gettime", "timerfd_gettime64"],
  ...["timerfd_settime", "timerfd_settime64"],
  // waiting on descriptors
  ...["poll", "ppoll", "ppoll_time64", "select", "_newselect", "pselect6", "pselect6_time64"],
  ...["epoll_create", "epoll_create1", "epoll_ctl", "epoll_ctl_old", "epoll_wait", "epoll_wait_old"],
  ...["epoll_pwait", "epoll_pwait2", "eventfd", "eventfd2", "pipe", "pipe2"],
  ...["futex", "futex_time64", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue"],
  // asynchronous I/O (io_uring is left out, as Docker has done since 25.0: a large kernel surface)
  ...["io_setup", "io_destroy", "io_submit", "io_cancel", "io_getevents", "io_pgetevents"],
  ...["io_pgetevents_time64"],
  // System V and POSIX IPC (namespaced)
  ...["ipc", "msgctl", "msgget", "msgrcv", "msgsnd", "semctl", "semget", "semop", "semtimedop"],
  ...["semtimedop_time64", "shmat", "shmctl", "shmdt", "shmget"],
  ...["mq_open", "mq_unlink", "mq_timedsend", "mq_timedsend_time64", "mq_timedreceive"],
  ...["mq_timedreceive_time64", "mq_notify", "mq_getsetattr"],
  // sockets
  ...["socket", "socketpair", "socketcall", "bind", "connect", "listen", "accept", "accept4"],
  ...["getsockname", "getpeername", "getsockopt", "setsockopt", "shutdown"],
  ...["send", "sendto", "sendmsg", "sendmmsg", "recv", "recvfrom", "recvmsg", "recvmmsg", "recvmmsg_time64"],
  // about the system and the process itself
  ...["uname", "sysinfo", "getrandom", "lsm_get_self_attr", "lsm_list_modules", "statmount", "listmount"],
];

/** Syscalls allowed only with a capability: what the capability governs, which a seccomp filter should not add to. */
const WITH_CAPABILITY: Readonly<Record<string, readonly string[]>> = {
  CAP_SYS_ADMIN: [
    ...["mount", "umount", "umount2", "mount_setattr", "move_mount", "open_tree", "open_tree_attr"],
    ...["fsopen", "fsconfig", "fsmount", "fspick", "unshare", "setns", "clone", "clone3", "listns"],
    ...["sethostname", "setdomainname", "name_to_handle_at", "fanotify_init", "lookup_dcookie"],
    ...["quotactl", "quotactl_fd", "bpf", "perf_event_open", "syslog"],
  ],
  CAP_BPF: ["bpf"],
  CAP_PERFMON: ["perf_event_open"],
  CAP_SYSLOG: ["syslog"],
  CAP_DAC_READ_SEARCH: ["open_by_handle_at"],
  CAP_SYS_BOOT: ["reboot"],
  CAP_SYS_CHROOT: ["chroot"],
  CAP_SYS_MODULE: ["init_module", "finit_module", "delete_module"],
  CAP_SYS_PACCT: ["acct"],
  CAP_SYS_PTRACE: [
    "kcmp",
    "pidfd_getfd",
    "process_madvise",
    "process_vm_readv",
    "process_vm_writev",
    "ptrace",
  ],
  CAP_SYS_RAWIO: ["iopl", "ioperm"],
  CAP_SYS_TIME: ["settimeofday", "stime", "clock_settime", "clock_settime64"],
  CAP_SYS_TTY_CONFIG: ["vhangup"],
  CAP_SYS_NICE: ["get_mempolicy", "set_mempolicy", "mbind", "set_mempolicy_home_node"],
};

/** clone(2)'s flags that make namespaces: CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET. */
const CLONE_NAMESPACES =
  0x00020000 + 0x02000000 + 0x04000000 + 0x08000000 + 0x10000000 + 0x20000000 + 0x40000000;

/** personality(2) values glibc and programs use: PER_LINUX, PER_LINUX32, UNAME26 of each, and the query. */
const PERSONALITIES = [0x0, 0x8, 0x20000, 0x20008, 0xffffffff];

const ENOSYS = 38;

export const DEFAULT_PROFILE: Profile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: 1,
  archMap: [
    { architecture: "SCMP_ARCH_X86_64", subArchitectures: ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
    { architecture: "SCMP_ARCH_AARCH64", subArchitectures: ["SCMP_ARCH_ARM"] },
  ],
  syscalls: [
    { names: ALWAYS, action: "SCMP_ACT_ALLOW" },
    // ptrace and reading another process's memory: the kernel's own checks
    // are enough since 4.8, which stopped ptrace from getting around seccomp.
    {
      names: ["ptrace", "process_vm_readv", "process_vm_writev"],
      action: "SCMP_ACT_ALLOW",
      includes: { minKernel: "4.8" },
    },
    ...PERSONALITIES.map((p): Syscall => ({
      names: ["personality"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: BigInt(p), op: "SCMP_CMP_EQ" }],
    })),
    { names: ["arch_prctl"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32"] } },
    { names: ["modify_ldt"], action: "SCMP_ACT_ALLOW", includes: { arches: ["amd64", "x32", "x86"] } },
    ...Object.entries(WITH_CAPABILITY).map(([cap, names]): Syscall => ({
      names,
      action: "SCMP_ACT_ALLOW",
      includes: { caps: [cap] },
    })),
    // Without CAP_SYS_ADMIN: threads and processes, never new namespaces.
    {
      names: ["clone"],
      action: "SCMP_ACT_ALLOW",
      args: [{ index: 0, value: BigInt(CLONE_NAMESPACES), valueTwo: 0n, op: "SCMP_CMP_MASKED_EQ" }],
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    },
    // clone3 passes its flags in memory, which a filter cannot read: ENOSYS
    // makes the C library fall back to clone, checked above.
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: ENOSYS, excludes: { caps: ["CAP_SYS_ADMIN"] } },
  ],
};
