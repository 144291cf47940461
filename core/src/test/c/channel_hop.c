/* The C side of ChannelHopBench (a measurement, not a test): one channel hop in C, in the wire format of
 * docs/wire-format.md. A hop: the sender sends a one-buffer frame of a sealed memfd with RELEASE_WANTED, the receiver
 * closes the fd and sends the RELEASE, the sender reads it.
 *   channel_hop pair SIZE          socketpair + fork, C to C; each line "N" on stdin: N hops, prints the median ns
 *   channel_hop recv SOCKET        connect; receive frames, close their fds, send each RELEASE; until the end
 *   channel_hop send SOCKET SIZE   connect; each line "N" on stdin: N hops, prints the median ns */
#define _GNU_SOURCE
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
static void die(const char *w) { fprintf(stderr, "channel_hop: %s: %s\n", w, strerror(errno)); exit(1); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }
static long long now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec * 1000000000LL + t.tv_nsec; }
static int cmp(const void *a, const void *b) { long long x = *(long long *)a, y = *(long long *)b; return x < y ? -1 : x > y; }

static size_t frame(uint8_t *f, uint64_t id, uint64_t size) {
    const char *name = "hop", *exp = "memfd";
    size_t nl = 3, el = 5, len = 64 + 8 + nl + el;
    memset(f, 0, len);
    put32(f, 0x31424D44u); put16(f + 4, 2); put16(f + 6, 1); put32(f + 8, len); put32(f + 12, 1);
    put64(f + 16, id); put64(f + 24, id); f[32] = 1; f[36] = nl; f[37] = el;
    put64(f + 64, size); memcpy(f + 72, name, nl); memcpy(f + 72 + nl, exp, el);
    return len;
}
static void sendfd(int s, uint8_t *f, size_t len, int fd) {
    union { char b[CMSG_SPACE(sizeof(int))]; struct cmsghdr a; } c;
    struct iovec iov = {f, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
    struct cmsghdr *h = CMSG_FIRSTHDR(&m);
    h->cmsg_level = SOL_SOCKET; h->cmsg_type = SCM_RIGHTS; h->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(h), &fd, sizeof fd);
    if (sendmsg(s, &m, MSG_NOSIGNAL) != (ssize_t)len) die("sendmsg");
}
static void receiver(int s) {
    uint8_t buf[4096];
    union { char b[CMSG_SPACE(16 * sizeof(int)) + CMSG_SPACE(12)]; struct cmsghdr a; } c;
    for (;;) {
        struct iovec iov = {buf, sizeof buf};
        struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = c.b, .msg_controllen = sizeof c.b};
        ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
        if (n <= 0) break;
        for (struct cmsghdr *h = CMSG_FIRSTHDR(&m); h; h = CMSG_NXTHDR(&m, h))
            if (h->cmsg_type == SCM_RIGHTS) { int fd; memcpy(&fd, CMSG_DATA(h), 4); close(fd); }
        if (n >= 24 && buf[6] == 1 && (buf[12] & 1)) {
            uint8_t r[24];
            put32(r, 0x31424D44u); put16(r + 4, 2); put16(r + 6, 2); put32(r + 8, 24); put32(r + 12, 0);
            memcpy(r + 16, buf + 16, 8);
            if (send(s, r, 24, MSG_NOSIGNAL) != 24) die("send release");
        }
    }
}
static void sender(int s, uint64_t size) {
    int fd = memfd_create("hop", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, size)) die("memfd");
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) die("F_ADD_SEALS");
    uint8_t f[256], r[64];
    uint64_t id = 0;
    static long long t[1000000];
    char line[64];
    while (fgets(line, sizeof line, stdin)) {
        int n = atoi(line);
        for (int i = 0; i < n; i++) {
            long long a = now();
            size_t len = frame(f, ++id, size);
            sendfd(s, f, len, fd);
            ssize_t k = recv(s, r, sizeof r, 0);
            if (k != 24 || get64(r + 16) != id) die("release");
            t[i] = now() - a;
        }
        qsort(t, n, sizeof t[0], cmp);
        printf("%lld\n", t[n / 2]);
        fflush(stdout);
    }
}
static int connect_to(const char *p) {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, p, sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) die("connect");
    int one = 1;
    if (setsockopt(s, SOL_SOCKET, SO_PASSCRED, &one, 4)) die("SO_PASSCRED");
    return s;
}
int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: channel_hop pair SIZE | recv SOCKET | send SOCKET SIZE\n"); return 2; }
    if (!strcmp(argv[1], "pair")) {
        int sv[2];
        if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv)) die("socketpair");
        pid_t p = fork();
        if (p == 0) { close(sv[0]); receiver(sv[1]); _exit(0); }
        close(sv[1]);
        sender(sv[0], strtoull(argv[2], 0, 0));
        close(sv[0]); waitpid(p, 0, 0);
    } else if (!strcmp(argv[1], "recv")) {
        receiver(connect_to(argv[2]));
    } else if (!strcmp(argv[1], "send") && argc == 4) {
        int s = connect_to(argv[2]);
        sender(s, strtoull(argv[3], 0, 0));
    }
    return 0;
}
