/* The C baseline of the benchmarks: the same operations as the Java benchmarks, with the system calls the Java
 * side makes (see the table's footnotes), timed with clock_gettime(CLOCK_MONOTONIC).
 *
 *   baseline [--smoke] OP [ARGS]     prints "RESULT OP median_ns_per_op batches ops_per_batch"
 *
 * The median is over batches (per-op time of each batch = its time / its ops), after warm-up batches; ops whose
 * set-up must not be timed (a fresh memfd for get-unknown) are timed one at a time.
 *
 *   alloc SIZE        memfd_create(MFD_CLOEXEC|MFD_ALLOW_SEALING), ftruncate, F_ADD_SEALS(SEAL|SHRINK|GROW),
 *                     statx, mmap, one write per 4 KiB page, munmap, close
 *   heap-alloc SIZE   the system dma-heap: DMA_HEAP_IOCTL_ALLOC, statx, mmap, touch, munmap, close
 *   get-known         dup, fstat, close of a live memfd
 *   get-unknown       what get(fd) does to a memfd it has not seen (known as one by its st_dev): statx,
 *                     F_DUPFD_CLOEXEC, F_GET_SEALS, F_ADD_SEALS, statx, close (the memfd itself made and closed
 *                     outside the timed call)
 *   fcntl             fcntl(F_GETFD) of a memfd: one cheap system call
 *   sync              DMA_BUF_IOCTL_SYNC START then END (READ|WRITE) on a 4 KiB system-heap buffer
 *   read | write      64 MiB between a mapped memfd and a 1 MiB buffer, memcpy in 1 MiB chunks
 *   sum               a loop summing the uint64_t of a mapped 64 MiB memfd
 *   hop SIZE NBUF     C to C over a socketpair (fork): FRAME (wire v2, RELEASE_WANTED) carrying one of NBUF
 *                     sealed memfds of SIZE bytes; the peer (as "peer") closes it and sends RELEASE
 *   copy SIZE         SIZE bytes written through a SOCK_STREAM socketpair to a child that reads them all and
 *                     answers one byte
 *   peer SOCKET       the peer of the Java sender: connect, then per FRAME: for a buffer larger than 4 KiB keep
 *                     one mapping per (st_dev, st_ino) and read its first and last 8 bytes; close the fds; send
 *                     RELEASE when asked; exit at the end of stream
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAGIC 0x31424D44u
#define HEADER_V2 64
#define RELEASE_WANTED 1u
#define RELEASE_LENGTH 24

static int smoke;
static volatile uint64_t sink;

static void die(const char *what) { fprintf(stderr, "baseline: %s: %s\n", what, strerror(errno)); exit(1); }
static uint64_t now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + t.tv_nsec;
}
static int cmp(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

typedef void (*op_fn)(void *);
typedef uint64_t (*timed_fn)(void *); /* one op timed by itself, returns its ns */

/* Runs warm-up batches, then BATCHES batches of PER ops; prints the median ns per op. */
static void measure(const char *name, op_fn op, timed_fn timed, void *arg, int batches, int per) {
    if (smoke) { batches = 3; per = 1; }
    int warm = smoke ? 1 : batches / 5 + 1;
    double *v = malloc(sizeof(double) * batches);
    for (int b = -warm; b < batches; b++) {
        uint64_t ns = 0;
        if (timed) {
            for (int i = 0; i < per; i++) ns += timed(arg);
        } else {
            uint64_t t0 = now();
            for (int i = 0; i < per; i++) op(arg);
            ns = now() - t0;
        }
        if (b >= 0) v[b] = (double)ns / per;
    }
    qsort(v, batches, sizeof *v, cmp);
    double med = batches % 2 ? v[batches / 2] : (v[batches / 2 - 1] + v[batches / 2]) / 2;
    printf("RESULT %s %.1f %d %d\n", name, med, batches, per);
    fflush(stdout);
    free(v);
}

static int sealed_memfd(const char *name, uint64_t size) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, size)) die("ftruncate");
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SEAL | F_SEAL_SHRINK | F_SEAL_GROW)) die("F_ADD_SEALS");
    return fd;
}

/* ---- allocation cycle ---- */
/* What follows the allocation in both cycles: statx, mmap, one write per page, munmap, close. */
static void measure_map_touch_release(int fd, uint64_t size) {
    struct statx sx;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE, &sx))
        die("statx");
    volatile uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    for (uint64_t o = 0; o < size; o += 4096) p[o] = 1;
    munmap((void *)p, size);
    close(fd);
}

static void op_alloc(void *arg) {
    uint64_t size = *(uint64_t *)arg;
    measure_map_touch_release(sealed_memfd("dmabuf:bench", size), size);
}

static int heap_fd = -1;
static int heap_alloc(uint64_t size) {
    if (heap_fd < 0 && (heap_fd = open("/dev/dma_heap/system", O_RDONLY | O_CLOEXEC)) < 0) die("open system heap");
    struct dma_heap_allocation_data d = {.len = size, .fd_flags = O_RDWR | O_CLOEXEC};
    while (ioctl(heap_fd, DMA_HEAP_IOCTL_ALLOC, &d)) if (errno != EINTR) die("DMA_HEAP_IOCTL_ALLOC");
    return d.fd;
}
static void op_heap_alloc(void *arg) {
    uint64_t size = *(uint64_t *)arg;
    measure_map_touch_release(heap_alloc(size), size);
}

/* ---- get ---- */
static void op_get_known(void *arg) {
    int fd = dup(*(int *)arg);
    struct stat st;
    if (fd < 0 || fstat(fd, &st)) die("dup/fstat");
    sink += st.st_ino;
    close(fd);
}

static uint64_t timed_get_unknown(void *arg) {
    (void)arg;
    int fd = memfd_create("peer-made", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 4096)) die("memfd");
    uint64_t t0 = now();
    struct statx sx;
    unsigned mask = STATX_TYPE | STATX_MODE | STATX_INO | STATX_SIZE;
    if (statx(fd, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, mask, &sx)) die("statx");
    int own = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    if (own < 0) die("F_DUPFD_CLOEXEC");
    int seals = fcntl(own, F_GET_SEALS);
    if (seals < 0 || fcntl(own, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) die("seals");
    if (statx(own, "", AT_EMPTY_PATH | AT_STATX_SYNC_AS_STAT, mask, &sx)) die("statx");
    close(own);
    uint64_t ns = now() - t0;
    close(fd);
    return ns;
}

/* ---- one cheap system call ---- */
static void op_fcntl(void *arg) {
    int r = fcntl(*(int *)arg, F_GETFD);
    if (r < 0) die("F_GETFD");
    sink += r;
}

/* ---- sync ---- */
static void op_sync(void *arg) {
    int fd = *(int *)arg;
    struct dma_buf_sync s = {.flags = DMA_BUF_SYNC_START | DMA_BUF_SYNC_RW};
    while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s)) if (errno != EINTR) die("SYNC start");
    s.flags = DMA_BUF_SYNC_END | DMA_BUF_SYNC_RW;
    while (ioctl(fd, DMA_BUF_IOCTL_SYNC, &s)) if (errno != EINTR) die("SYNC end");
}

/* ---- 64 MiB ---- */
#define BIG (64u << 20)
#define CHUNK (1u << 20)
struct big { uint8_t *map, *chunk; };
static void op_read(void *arg) {
    struct big *b = arg;
    for (uint64_t o = 0; o < BIG; o += CHUNK) memcpy(b->chunk, b->map + o, CHUNK);
    __asm__ volatile("" : : "r"(b->chunk) : "memory");
}
static void op_write(void *arg) {
    struct big *b = arg;
    for (uint64_t o = 0; o < BIG; o += CHUNK) memcpy(b->map + o, b->chunk, CHUNK);
    __asm__ volatile("" : : "r"(b->map) : "memory");
}
static void op_sum(void *arg) {
    struct big *b = arg;
    const uint64_t *p = (const uint64_t *)b->map;
    uint64_t s = 0;
    for (uint64_t i = 0; i < BIG / 8; i++) s += p[i];
    sink += s;
    __asm__ volatile("" : : "r"(b->map) : "memory");
}
static struct big *big_mapping(void) {
    static struct big b;
    int fd = sealed_memfd("big", BIG);
    b.map = mmap(NULL, BIG, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (b.map == MAP_FAILED) die("mmap");
    b.chunk = malloc(CHUNK);
    for (uint32_t i = 0; i < CHUNK; i++) b.chunk[i] = (uint8_t)(i * 31);
    for (uint64_t o = 0; o < BIG; o += CHUNK) memcpy(b.map + o, b.chunk, CHUNK);
    return &b;
}

/* ---- the wire ---- */
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

/* A version 2 FRAME of one buffer, no format, RELEASE_WANTED, named "hop", exporter "memfd". */
static size_t frame(uint8_t *f, uint64_t id, uint64_t size) {
    static const char name[] = "hop", exporter[] = "memfd";
    size_t nl = sizeof name - 1, el = sizeof exporter - 1, len = HEADER_V2 + 8 + nl + el;
    memset(f, 0, len);
    put32(f, MAGIC); put16(f + 4, 2); put16(f + 6, 1); put32(f + 8, len); put32(f + 12, RELEASE_WANTED);
    put64(f + 16, id); put64(f + 24, id);
    f[32] = 1; f[36] = nl; f[37] = el;
    put64(f + HEADER_V2, size);
    memcpy(f + HEADER_V2 + 8, name, nl); memcpy(f + HEADER_V2 + 8 + nl, exporter, el);
    return len;
}

static void send_fd(int s, const uint8_t *f, size_t len, int fd) {
    union { char space[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)f, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    ssize_t n;
    do n = sendmsg(s, &m, MSG_NOSIGNAL); while (n < 0 && errno == EINTR);
    if (n != (ssize_t)len) die("sendmsg");
}

struct kept { dev_t dev; ino_t ino; uint8_t *map; uint64_t size; };

/* The receiving side: FRAMEs until the end of stream, each answered with its RELEASE. */
static int peer_loop(int s) {
    struct kept kept[16];
    int nkept = 0;
    uint64_t frames = 0, sum = 0;
    for (;;) {
        uint8_t buf[512];
        union { char space[CMSG_SPACE(16 * sizeof(int))]; struct cmsghdr align; } ctl;
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
        ssize_t n;
        do n = recvmsg(s, &m, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
        if (n < 0 && errno == ECONNRESET) break;
        if (n < 0) die("recvmsg");
        int fds[16], nfds = 0;
        for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
            if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
                int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
                memcpy(fds + nfds, CMSG_DATA(c), k * sizeof(int));
                nfds += k;
            }
        if (n == 0 && nfds == 0) break;
        if (n < HEADER_V2 + 8 || get32(buf) != MAGIC) { fprintf(stderr, "baseline peer: not a FRAME\n"); exit(1); }
        uint64_t id = get64(buf + 16), size = get64(buf + HEADER_V2);
        if (size > 4096 && nfds > 0) {
            struct stat st;
            if (fstat(fds[0], &st)) die("fstat");
            int k = 0;
            while (k < nkept && !(kept[k].dev == st.st_dev && kept[k].ino == st.st_ino)) k++;
            if (k == nkept) {
                if (nkept == 16) { fprintf(stderr, "baseline peer: more than 16 buffers\n"); exit(1); }
                kept[k] = (struct kept){st.st_dev, st.st_ino, mmap(NULL, size, PROT_READ, MAP_SHARED, fds[0], 0), size};
                if (kept[k].map == MAP_FAILED) die("mmap");
                nkept++;
            }
            sum += *(volatile uint64_t *)kept[k].map + *(volatile uint64_t *)(kept[k].map + size - 8);
        }
        for (int i = 0; i < nfds; i++) close(fds[i]);
        frames++;
        if (get32(buf + 12) & RELEASE_WANTED) {
            uint8_t r[RELEASE_LENGTH];
            put32(r, MAGIC); put16(r + 4, 2); put16(r + 6, 2); put32(r + 8, RELEASE_LENGTH); put32(r + 12, 0);
            put64(r + 16, id);
            if (send(s, r, sizeof r, MSG_NOSIGNAL) != sizeof r) die("send RELEASE");
        }
    }
    fprintf(stderr, "baseline peer: %llu frames, %d buffers kept (%llu)\n", (unsigned long long)frames, nkept,
            (unsigned long long)sum);
    return 0;
}

static int do_peer(const char *path) {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) die("connect");
    return peer_loop(s);
}

struct hop { int s, fds[2], nbuf; uint64_t size, id; };
static void op_hop(void *arg) {
    struct hop *h = arg;
    uint8_t f[128], r[64];
    h->id++;
    size_t len = frame(f, h->id, h->size);
    send_fd(h->s, f, len, h->fds[h->id % h->nbuf]);
    ssize_t n;
    do n = recv(h->s, r, sizeof r, 0); while (n < 0 && errno == EINTR);
    if (n != RELEASE_LENGTH || get64(r + 16) != h->id) { fprintf(stderr, "baseline: bad RELEASE\n"); exit(1); }
}

struct copy { int s; uint8_t *src; uint64_t size; };
static void op_copy(void *arg) {
    struct copy *c = arg;
    for (uint64_t o = 0; o < c->size;) {
        ssize_t n = write(c->s, c->src + o, c->size - o);
        if (n < 0) { if (errno == EINTR) continue; die("write"); }
        o += n;
    }
    char ack;
    if (read(c->s, &ack, 1) != 1) die("read ack");
}

/* The other thread of --threaded: it sleeps and wakes, so this process's memory is in use on more than one CPU
 * (then munmap must shoot the TLB down there too). */
static void *napper(void *arg) {
    (void)arg;
    for (;;) usleep(200);
    return NULL;
}

int main(int argc, char **argv) {
    signal(SIGPIPE, SIG_IGN);
    if (argc > 1 && !strcmp(argv[1], "--smoke")) { smoke = 1; argv++; argc--; }
    if (argc > 1 && !strcmp(argv[1], "--threaded")) { /* one more thread, waking every 200 µs, as a JVM has */
        pthread_t t;
        if (pthread_create(&t, NULL, napper, NULL)) die("pthread_create");
        argv++;
        argc--;
    }
    if (argc < 2) { fprintf(stderr, "usage: baseline [--smoke] OP [ARGS] (see the source)\n"); return 2; }
    const char *op = argv[1];
    if (!strcmp(op, "peer") && argc == 3) return do_peer(argv[2]);
    if (!strcmp(op, "alloc") && argc == 3) {
        uint64_t size = strtoull(argv[2], 0, 0);
        measure("alloc", op_alloc, NULL, &size, 201, size >= (8u << 20) ? 2 : 50);
    } else if (!strcmp(op, "heap-alloc") && argc == 3) {
        uint64_t size = strtoull(argv[2], 0, 0);
        measure("heap-alloc", op_heap_alloc, NULL, &size, 101, size >= (8u << 20) ? 1 : 10);
    } else if (!strcmp(op, "get-known")) {
        int fd = sealed_memfd("known", 4096);
        measure("get-known", op_get_known, NULL, &fd, 201, 1000);
    } else if (!strcmp(op, "get-unknown")) {
        measure("get-unknown", NULL, timed_get_unknown, NULL, 201, 100);
    } else if (!strcmp(op, "fcntl")) {
        int fd = sealed_memfd("fcntl", 4096);
        measure("fcntl", op_fcntl, NULL, &fd, 201, 1000);
    } else if (!strcmp(op, "sync")) {
        int fd = heap_alloc(4096);
        measure("sync", op_sync, NULL, &fd, 201, 100);
    } else if (!strcmp(op, "read") || !strcmp(op, "write") || !strcmp(op, "sum")) {
        struct big *b = big_mapping();
        measure(op, !strcmp(op, "read") ? op_read : !strcmp(op, "write") ? op_write : op_sum, NULL, b, 51, 1);
    } else if (!strcmp(op, "hop") && argc == 4) {
        struct hop h = {.size = strtoull(argv[2], 0, 0), .nbuf = atoi(argv[3])};
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) die("socketpair");
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) { close(sv[0]); exit(peer_loop(sv[1])); }
        close(sv[1]);
        h.s = sv[0];
        for (int i = 0; i < h.nbuf; i++) h.fds[i] = sealed_memfd("hop", h.size);
        measure("hop", op_hop, NULL, &h, 201, h.size > 4096 ? 10 : 200);
        close(h.s);
        waitpid(pid, NULL, 0);
    } else if (!strcmp(op, "copy") && argc == 3) {
        struct copy c = {.size = strtoull(argv[2], 0, 0)};
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)) die("socketpair");
        pid_t pid = fork();
        if (pid < 0) die("fork");
        if (pid == 0) {
            close(sv[0]);
            uint8_t *dst = malloc(CHUNK);
            for (;;) {
                uint64_t got = 0;
                while (got < c.size) {
                    ssize_t n = read(sv[1], dst, c.size - got < CHUNK ? c.size - got : CHUNK);
                    if (n == 0) exit(0);
                    if (n < 0) { if (errno == EINTR) continue; die("read"); }
                    got += n;
                }
                if (write(sv[1], "k", 1) != 1) die("write ack");
            }
        }
        close(sv[1]);
        c.s = sv[0];
        c.src = big_mapping()->map;
        measure("copy", op_copy, NULL, &c, 31, 1);
        close(c.s);
        waitpid(pid, NULL, 0);
    } else {
        fprintf(stderr, "baseline: unknown op or arguments: %s\n", op);
        return 2;
    }
    return 0;
}
