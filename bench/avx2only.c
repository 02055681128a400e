/*
 * avx2only.so: run a process at native speed as if its CPU had AVX2 but no AVX-512,
 * no VNNI and no AMX (an AVX2-only AMD EPYC, as far as CPUID can tell).
 *
 * What it does: loaded with LD_PRELOAD, it asks the kernel to make the CPUID
 * instruction fault in this process (arch_prctl ARCH_SET_CPUID, 0; the CPU must
 * report the `cpuid_fault` flag), answers each faulting CPUID itself with the real
 * values minus the AVX-512 / VNNI / BF16 / AMX bits, and serves /proc/cpuinfo with
 * those flags removed. ONNX Runtime (MLAS), oneDNN, MKL and PyTorch pick their
 * kernels from CPUID, so they run their AVX2 kernels on this CPU's cores at full
 * speed (unlike QEMU, whose timings mean nothing).
 *
 * What it does not do: it does not make this CPU an EPYC (caches, clocks and the
 * width of the vector units stay those of this CPU), it does not hide the extra
 * state from XGETBV, and glibc's own string functions are chosen before it loads
 * (bench.run sets GLIBC_TUNABLES for those). A process whose CPU lacks `cpuid_fault`
 * aborts at start with a message rather than run unmasked.
 *
 * Build: gcc -O2 -shared -fPIC -o avx2only.so bench/avx2only.c -ldl
 */
#define _GNU_SOURCE
#include <asm/prctl.h>
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#define BIT(n) (1u << (n))

typedef int (*sigaction_fn)(int, const struct sigaction *, struct sigaction *);

static struct sigaction next_handler; /* what the program asked for SIGSEGV */
static int installed;
static volatile unsigned long trapped; /* CPUID instructions answered */

static sigaction_fn real_sigaction(void) {
    static sigaction_fn fn;
    if (!fn) fn = (sigaction_fn)dlsym(RTLD_NEXT, "sigaction");
    return fn;
}

static void cpuid_faulting(int on) { syscall(SYS_arch_prctl, ARCH_SET_CPUID, on ? 0 : 1); }

/* Clear what an AVX2-only CPU does not have; leave everything else as it is. */
static void mask(uint32_t leaf, uint32_t sub, uint32_t r[4]) {
    if (leaf == 7 && sub == 0) {
        /* EBX: AVX512F DQ IFMA PF ER CD BW VL */
        r[1] &= ~(BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27) | BIT(28) | BIT(30) | BIT(31));
        /* ECX: AVX512 VBMI, VBMI2, VNNI, BITALG, VPOPCNTDQ */
        r[2] &= ~(BIT(1) | BIT(6) | BIT(11) | BIT(12) | BIT(14));
        /* EDX: 4VNNIW 4FMAPS VP2INTERSECT AMX-BF16 AVX512-FP16 AMX-TILE AMX-INT8 */
        r[3] &= ~(BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24) | BIT(25));
    } else if (leaf == 7 && sub == 1) {
        /* EAX: AVX-VNNI AVX512-BF16 AMX-FP16 AVX-IFMA; EDX: VNNI-INT8 NE-CONVERT AMX-COMPLEX
         * VNNI-INT16 AVX10 */
        r[0] &= ~(BIT(4) | BIT(5) | BIT(21) | BIT(23));
        r[3] &= ~(BIT(4) | BIT(5) | BIT(8) | BIT(10) | BIT(19));
    } else if (leaf == 0xD && sub == 0) {
        /* state components the CPU offers: opmask, ZMM halves, AMX tiles */
        r[0] &= ~(BIT(5) | BIT(6) | BIT(7) | BIT(17) | BIT(18));
    } else if (leaf == 0x1D || leaf == 0x1E || leaf == 0x24) {
        r[0] = r[1] = r[2] = r[3] = 0; /* AMX tile and AVX10 descriptions */
    }
}

static void answer_cpuid(ucontext_t *uc) {
    greg_t *g = uc->uc_mcontext.gregs;
    uint32_t leaf = (uint32_t)g[REG_RAX], sub = (uint32_t)g[REG_RCX], r[4];
    cpuid_faulting(0);
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3]) : "a"(leaf), "c"(sub));
    cpuid_faulting(1);
    mask(leaf, sub, r);
    g[REG_RAX] = r[0];
    g[REG_RBX] = r[1];
    g[REG_RCX] = r[2];
    g[REG_RDX] = r[3];
    g[REG_RIP] += 2;
    trapped++;
}

static void on_segv(int sig, siginfo_t *info, void *ctx) {
    ucontext_t *uc = ctx;
    const uint8_t *ip = (const uint8_t *)uc->uc_mcontext.gregs[REG_RIP];
    if (info->si_code == SI_KERNEL && ip[0] == 0x0F && ip[1] == 0xA2) {
        answer_cpuid(uc);
        return;
    }
    /* A real fault: hand it to whatever the program installed, else die as usual. */
    if (next_handler.sa_flags & SA_SIGINFO) {
        next_handler.sa_sigaction(sig, info, ctx);
    } else if (next_handler.sa_handler != SIG_DFL && next_handler.sa_handler != SIG_IGN) {
        next_handler.sa_handler(sig);
    } else {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        real_sigaction()(SIGSEGV, &dfl, NULL); /* the fault repeats and ends the process */
    }
}

/* Programs (Python's faulthandler, say) may install their own SIGSEGV handler: keep ours
 * in front and chain to theirs, or the next CPUID would end the process. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (sig != SIGSEGV || !installed) return real_sigaction()(sig, act, old);
    if (old) *old = next_handler;
    if (act) next_handler = *act;
    return 0;
}

/* ----- /proc/cpuinfo without the hidden flags --------------------------------------- */
static const char *const HIDDEN[] = {
    "avx512f", "avx512dq", "avx512ifma", "avx512pf", "avx512er", "avx512cd", "avx512bw",
    "avx512vl", "avx512vbmi", "avx512_vbmi2", "avx512_vnni", "avx512_bitalg",
    "avx512_vpopcntdq", "avx512_4vnniw", "avx512_4fmaps", "avx512_vp2intersect",
    "avx512_bf16", "avx512_fp16", "avx_vnni", "amx_bf16", "amx_tile", "amx_int8",
    "amx_fp16", "amx_complex", "avx_ifma", "avx_vnni_int8", "avx_ne_convert",
    "avx_vnni_int16", NULL};

static int hidden(const char *word, size_t len) {
    for (const char *const *h = HIDDEN; *h; h++)
        if (strlen(*h) == len && strncmp(*h, word, len) == 0) return 1;
    return 0;
}

/* Copy one line, dropping hidden words (flags lines only). */
static void filter_line(const char *line, size_t len, FILE *out) {
    int flags = strncmp(line, "flags", 5) == 0;
    size_t i = 0;
    while (i < len) {
        size_t j = i;
        while (j < len && line[j] != ' ' && line[j] != '\n') j++;
        if (!(flags && j > i && hidden(line + i, j - i))) fwrite(line + i, 1, j - i, out);
        if (j < len) fputc(line[j], out);
        i = j + 1;
    }
}

static int filtered_cpuinfo(void) {
    int fd = (int)syscall(SYS_memfd_create, "cpuinfo-avx2only", 0);
    FILE *in = fdopen((int)syscall(SYS_openat, AT_FDCWD, "/proc/cpuinfo", O_RDONLY), "r");
    if (fd < 0 || !in) return -1;
    FILE *out = fdopen(dup(fd), "w");
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, in)) > 0) filter_line(line, (size_t)n, out);
    free(line);
    fclose(in);
    fclose(out);
    lseek(fd, 0, SEEK_SET);
    return fd;
}

static int is_cpuinfo(const char *path) { return path && strcmp(path, "/proc/cpuinfo") == 0; }

#define OPEN_WRAPPER(name, ...)                                                      \
    int name(__VA_ARGS__, int flags, ...) {                                          \
        static int (*real)(int, const char *, int, ...);                             \
        mode_t mode = 0;                                                             \
        if (flags & (O_CREAT | O_TMPFILE)) {                                         \
            va_list ap;                                                              \
            va_start(ap, flags);                                                     \
            mode = va_arg(ap, mode_t);                                               \
            va_end(ap);                                                              \
        }                                                                            \
        if (is_cpuinfo(path)) return filtered_cpuinfo();                             \
        if (!real) real = (int (*)(int, const char *, int, ...))dlsym(RTLD_NEXT, "openat"); \
        return real(DIRFD, path, flags, mode);                                       \
    }

#define DIRFD AT_FDCWD
OPEN_WRAPPER(open, const char *path)
OPEN_WRAPPER(open64, const char *path)
#undef DIRFD
#define DIRFD dirfd
OPEN_WRAPPER(openat, int dirfd, const char *path)
OPEN_WRAPPER(openat64, int dirfd, const char *path)
#undef DIRFD

FILE *fopen(const char *path, const char *mode) {
    static FILE *(*real)(const char *, const char *);
    if (is_cpuinfo(path)) return fdopen(filtered_cpuinfo(), "r");
    if (!real) real = (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, "fopen");
    return real(path, mode);
}

FILE *fopen64(const char *path, const char *mode) { return fopen(path, mode); }

/* ----- start and end ------------------------------------------------------------------ */
__attribute__((constructor)) static void start(void) {
    struct sigaction sa = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_RESTART};
    sigemptyset(&sa.sa_mask);
    if (real_sigaction()(SIGSEGV, &sa, &next_handler) != 0 ||
        syscall(SYS_arch_prctl, ARCH_SET_CPUID, 0) != 0) {
        fputs("avx2only.so: this CPU or kernel cannot make CPUID fault (no cpuid_fault "
              "flag); refusing to run unmasked\n", stderr);
        _exit(97);
    }
    installed = 1;
}

__attribute__((destructor)) static void stop(void) {
    const char *report = getenv("AVX2ONLY_REPORT");
    if (report && *report) fprintf(stderr, "avx2only.so: answered %lu CPUID\n", trapped);
}
