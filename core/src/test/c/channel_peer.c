/* A buffer-channel peer written from docs/wire-format.md alone: it talks to the Java side in both directions.
 *   channel_peer recv SOCKET   connect, receive one BUFFER frame, map the fd, check the sender's pattern
 *                              (byte i == (i * 31 + tag) & 0xff), write the answer tag * 3 + 1 as a little-endian
 *                              u64 at offset size - 8, exit 0
 *   channel_peer send SOCKET SIZE TAG
 *                              connect, make a sealed memfd of SIZE bytes holding the pattern, send it as a BUFFER
 *                              frame named "from-c", exporter "memfd", then wait until the peer closes the
 *                              connection and check that it wrote tag * 5 as a u64 at offset 8; exit 0
 *   channel_peer flood SOCKET N  connect, send one well-formed frame of a 4096-byte memfd with the same fd N times
 *                              (a hostile peer: more fds than the receiver's control buffer holds), exit 0
 *   channel_peer truncate SOCKET ROUNDS
 *                              connect; ROUNDS times: make an unsealed memfd of 65536 bytes, start a thread that
 *                              resizes it in a loop (4096, 65536, 131072, 8192 bytes) until the receiver's seal
 *                              stops it (EPERM) or a bounded number of times, send it as a frame of size 65536, tag
 *                              ROUND, named "truncated", and join the thread; then wait until the peer closes and
 *                              say how many rounds the seal stopped; exit 0 (a hostile peer)
 * Any failure prints a line and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#define HEADER 52
static int die(const char *what) { printf("channel_peer: %s: %s\n", what, strerror(errno)); exit(1); }
static int fail(const char *what) { printf("channel_peer: %s\n", what); exit(1); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

static int connect_to(const char *path) {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) die("connect");
    return s;
}

static int do_recv(const char *path) {
    int s = connect_to(path);
    uint8_t buf[256];
    union { char space[CMSG_SPACE(16 * sizeof(int))]; struct cmsghdr align; } ctl;
    struct iovec iov = {buf, sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
    ssize_t n = recvmsg(s, &m, MSG_CMSG_CLOEXEC);
    if (n < 0) die("recvmsg");
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) fail("truncated message");
    int fd = -1, nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            nfds += (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            memcpy(&fd, CMSG_DATA(c), sizeof fd);
        }
    if (nfds != 1) fail("expected exactly one fd");
    if (n < HEADER || get32(buf) != 0x31424D44 || buf[4] != 1 || buf[5] != 0 || buf[6] != 1 || buf[7] != 0)
        fail("bad header");
    if (get32(buf + 8) != (uint32_t)n) fail("length field mismatch");
    uint64_t size = get64(buf + 16), tag = get64(buf + 24);
    unsigned name_len = buf[48], exp_len = buf[49];
    if (name_len > 31 || exp_len > 63 || HEADER + name_len + exp_len != (unsigned)n) fail("bad lengths");
    printf("channel_peer: received size=%llu tag=%llu name=%.*s exporter=%.*s\n", (unsigned long long)size,
           (unsigned long long)tag, name_len, (char *)buf + HEADER, exp_len, (char *)buf + HEADER + name_len);
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    for (uint64_t i = 0; i < size - 8; i++)
        if (p[i] != (uint8_t)(i * 31 + tag)) { printf("channel_peer: pattern wrong at %llu\n", (unsigned long long)i); exit(1); }
    put64(p + size - 8, tag * 3 + 1);
    munmap(p, size);
    close(fd);
    close(s);
    printf("channel_peer: pattern ok, answered\n");
    return 0;
}

static void send_frame(int s, int fd, uint64_t size, uint64_t tag, const char *name, const char *exporter) {
    uint8_t f[HEADER + 31 + 63] = {0};
    size_t nl = strlen(name), el = strlen(exporter), len = HEADER + nl + el;
    put32(f, 0x31424D44); put16(f + 4, 1); put16(f + 6, 1); put32(f + 8, len); put32(f + 12, 0);
    put64(f + 16, size); put64(f + 24, tag);
    f[48] = nl; f[49] = el;
    memcpy(f + HEADER, name, nl); memcpy(f + HEADER + nl, exporter, el);
    union { char space[CMSG_SPACE(sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {f, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(sizeof(int));
    memcpy(CMSG_DATA(c), &fd, sizeof fd);
    if (sendmsg(s, &m, MSG_NOSIGNAL) != (ssize_t)len) die("sendmsg");
}

static int do_send(const char *path, uint64_t size, uint64_t tag) {
    int s = connect_to(path);
    int fd = memfd_create("from-c", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, size)) die("ftruncate");
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) die("F_ADD_SEALS");
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    for (uint64_t i = 0; i < size; i++) p[i] = (uint8_t)(i * 31 + tag);
    memset(p + 8, 0, 8);
    send_frame(s, fd, size, tag, "from-c", "memfd");
    char b[1];
    while (recv(s, b, 1, 0) > 0) { }   /* the peer closes when it has answered */
    uint64_t answer = get64(p + 8);
    if (answer != tag * 5) { printf("channel_peer: answer %llu, expected %llu\n", (unsigned long long)answer, (unsigned long long)(tag * 5)); exit(1); }
    printf("channel_peer: sent, answer ok\n");
    return 0;
}

static int do_flood(const char *path, int count) {
    int s = connect_to(path);
    int fd = memfd_create("flood", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 4096)) die("memfd");
    uint8_t f[HEADER] = {0};
    put32(f, 0x31424D44); put16(f + 4, 1); put16(f + 6, 1); put32(f + 8, HEADER); put64(f + 16, 4096);
    size_t space = CMSG_SPACE(count * sizeof(int));
    char *ctl = calloc(1, space);
    struct iovec iov = {f, HEADER};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(count * sizeof(int));
    for (int i = 0; i < count; i++) memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
    if (sendmsg(s, &m, MSG_NOSIGNAL) != HEADER) die("sendmsg");
    char b[1];
    while (recv(s, b, 1, 0) > 0) { }
    printf("channel_peer: flooded %d fds\n", count);
    return 0;
}


#define TRUNCATIONS 2000000L
static void *truncator(void *arg) {
    int fd = *(int *)arg;
    static const off_t sizes[] = {4096, 65536, 131072, 8192};
    for (long i = 0; i < TRUNCATIONS; i++)
        if (ftruncate(fd, sizes[i & 3])) {
            if (errno == EPERM) return (void *)1;   /* sealed by the receiver */
            die("ftruncate");
        }
    return (void *)0;
}

static int do_truncate(const char *path, int rounds) {
    int s = connect_to(path), stopped = 0;
    for (int r = 0; r < rounds; r++) {
        int fd = memfd_create("truncated", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0 || ftruncate(fd, 65536)) die("memfd");
        pthread_t t;
        void *sealed;
        if (pthread_create(&t, NULL, truncator, &fd)) fail("pthread_create");
        send_frame(s, fd, 65536, r, "truncated", "memfd");
        pthread_join(t, &sealed);
        stopped += sealed != 0;
        close(fd);
    }
    char b[1];
    while (recv(s, b, 1, 0) > 0) { }
    printf("channel_peer: %d rounds, %d stopped by the seal\n", rounds, stopped);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "truncate")) return do_truncate(argv[2], atoi(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "flood")) return do_flood(argv[2], atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "recv")) return do_recv(argv[2]);
    if (argc == 5 && !strcmp(argv[1], "send")) return do_send(argv[2], strtoull(argv[3], 0, 0), strtoull(argv[4], 0, 0));
    fprintf(stderr, "usage: channel_peer recv SOCKET | send SOCKET SIZE TAG | flood SOCKET N | truncate SOCKET ROUNDS\n");
    return 2;
}
