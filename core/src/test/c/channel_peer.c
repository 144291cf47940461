/* A buffer-channel peer written from docs/wire-format.md alone: it talks to the Java side in both directions, in
 * version 2 (and reads version 1).
 *   channel_peer recv SOCKET   connect, receive one FRAME, check it against the rules of the document (buffer
 *                              sizes against the fds, planes within their buffers), print every field in one line
 *                              ("frame version=2 id=.. tag=.. name=.. exporter=.. buffers=N fences=0 fourcc=NV12
 *                              width=.. height=.. modifier=0x.. sizes=S0,S1 planes=B:OFFSET+LENGTH/STRIDE,..."),
 *                              map every buffer, check the sender's pattern (byte i of buffer b ==
 *                              (i * 31 + tag + b) & 0xff), write the answer tag * 3 + 1 + b as a little-endian u64
 *                              at offset size - 8 of buffer b, exit 0
 *   channel_peer send SOCKET SIZE TAG
 *                              connect, make a sealed memfd of SIZE bytes holding the pattern, send it as a FRAME
 *                              without format named "from-c", exporter "memfd", then wait until the peer closes the
 *                              connection and check that it wrote tag * 5 as a u64 at offset 8; exit 0
 *   channel_peer sendnv12m SOCKET WIDTH HEIGHT STRIDE TAG
 *                              connect, make two sealed memfds holding the pattern of buffers 0 and 1: the luma
 *                              plane (STRIDE x HEIGHT bytes) and the CbCr plane (STRIDE x HEIGHT/2 bytes), send
 *                              them as one FRAME of fourcc NV12, modifier LINEAR, frame id 1000 + TAG, named
 *                              "nv12m-from-c", then wait until the peer closes and check that it wrote
 *                              tag * 5 + b at offset 8 of buffer b; exit 0
 *   channel_peer flood SOCKET N  connect, send one well-formed frame of a 4096-byte memfd with the same fd N times
 *                              (a hostile peer: more fds than the receiver's control buffer holds), exit 0
 *   channel_peer truncate SOCKET ROUNDS
 *                              connect; ROUNDS times: make an unsealed memfd of 65536 bytes, start a thread that
 *                              resizes it in a loop (4096, 65536, 131072, 8192 bytes) until the receiver's seal
 *                              stops it (EPERM) or a bounded number of times, send it as a frame of size 65536, tag
 *                              ROUND, named "truncated", and join the thread; then wait until the peer closes and
 *                              say how many rounds the seal stopped; exit 0 (a hostile peer)
 *   channel_peer consume SOCKET
 *                              connect; until the end of stream: receive a FRAME, check it as recv does, map every
 *                              buffer read-only and check the release pattern of the document (byte i of buffer b
 *                              of the frame with tag t == (t * 131 + b * 17 + i) & 0xff), close its fds, and send
 *                              the RELEASE if the frame has RELEASE_WANTED; then print "channel_peer: frames=N
 *                              ok=N bad=N released=N" and exit 0 if no frame was bad
 *   channel_peer hold SOCKET N  connect, receive N frames and keep their fds, say "channel_peer: holding N frames",
 *                              then wait to be killed
 *   channel_peer sendrelease SOCKET N SIZE
 *                              connect, send N frames with RELEASE_WANTED (frame ids 1 to N, tag = id, one sealed
 *                              memfd of SIZE bytes each holding the release pattern), then read N RELEASEs, each
 *                              well formed and naming a frame still out; say "channel_peer: N frames released",
 *                              close and exit 0
 * Frames with RELEASE_WANTED are answered with their RELEASE in every receiving mode but hold.
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

#define MAGIC 0x31424D44u
#define HEADER_V1 52
#define HEADER_V2 64
#define MAX_BUFFERS 4
#define MAX_PLANES 4
#define MAX_FRAME (HEADER_V2 + 8 * MAX_BUFFERS + 24 * MAX_PLANES + 31 + 63)
#define TYPE_FRAME 1
#define TYPE_RELEASE 2
#define RELEASE_WANTED 1u
#define RELEASE_LENGTH 24
#define FOURCC(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)

static int die(const char *what) { printf("channel_peer: %s: %s\n", what, strerror(errno)); exit(1); }
static int fail(const char *what) { printf("channel_peer: %s\n", what); exit(1); }
static void put16(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = v >> (8 * i); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = v >> (8 * i); }
static uint16_t get16(const uint8_t *p) { return p[0] | p[1] << 8; }
static uint32_t get32(const uint8_t *p) { return p[0] | p[1] << 8 | p[2] << 16 | (uint32_t)p[3] << 24; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 7; i >= 0; i--) v = v << 8 | p[i]; return v; }

struct plane { uint32_t buffer, stride; uint64_t offset, length; };
struct frame {
    unsigned version, flags;
    uint64_t id, tag, sizes[MAX_BUFFERS], modifier;
    unsigned buffers, fences, nplanes;
    uint32_t fourcc, width, height;
    struct plane planes[MAX_PLANES];
    char name[32], exporter[64];
};

static int connect_to(const char *path) {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) die("connect");
    return s;
}

/* Writes a version 2 FRAME: header, buffer entries, plane entries, name, exporter. Returns its length. */
static size_t encode(uint8_t *f, const struct frame *fr) {
    size_t nl = strlen(fr->name), el = strlen(fr->exporter);
    size_t len = HEADER_V2 + 8 * fr->buffers + 24 * fr->nplanes + nl + el;
    memset(f, 0, len);
    put32(f, MAGIC); put16(f + 4, 2); put16(f + 6, 1); put32(f + 8, len); put32(f + 12, 0);
    put64(f + 16, fr->id); put64(f + 24, fr->tag);
    f[32] = fr->buffers; f[33] = 0; f[34] = fr->nplanes; f[36] = nl; f[37] = el;
    put32(f + 40, fr->fourcc); put32(f + 44, fr->width); put32(f + 48, fr->height); put64(f + 56, fr->modifier);
    uint8_t *p = f + HEADER_V2;
    for (unsigned b = 0; b < fr->buffers; b++, p += 8) put64(p, fr->sizes[b]);
    for (unsigned i = 0; i < fr->nplanes; i++, p += 24) {
        put32(p, fr->planes[i].buffer); put32(p + 4, fr->planes[i].stride);
        put64(p + 8, fr->planes[i].offset); put64(p + 16, fr->planes[i].length);
    }
    memcpy(p, fr->name, nl); memcpy(p + nl, fr->exporter, el);
    return len;
}

static void send_with_fds(int s, const uint8_t *f, size_t len, const int *fds, int nfds) {
    union { char space[CMSG_SPACE(MAX_BUFFERS * sizeof(int))]; struct cmsghdr align; } ctl;
    memset(&ctl, 0, sizeof ctl);
    struct iovec iov = {(void *)f, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space,
                       .msg_controllen = CMSG_SPACE(nfds * sizeof(int))};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(nfds * sizeof(int));
    memcpy(CMSG_DATA(c), fds, nfds * sizeof(int));
    if (sendmsg(s, &m, MSG_NOSIGNAL) != (ssize_t)len) die("sendmsg");
}

/* One buffer, no format. */
static void send_frame(int s, int fd, uint64_t size, uint64_t tag, const char *name, const char *exporter) {
    struct frame fr = {.version = 2, .id = tag, .tag = tag, .buffers = 1, .sizes = {size}};
    snprintf(fr.name, sizeof fr.name, "%s", name);
    snprintf(fr.exporter, sizeof fr.exporter, "%s", exporter);
    uint8_t f[MAX_FRAME];
    size_t len = encode(f, &fr);
    send_with_fds(s, f, len, &fd, 1);
}

static void text(char *dst, const uint8_t *src, unsigned len) {
    for (unsigned i = 0; i < len; i++)
        if (src[i] < 0x20 || src[i] == 0x7f) fail("control character in a name");
    memcpy(dst, src, len);
    dst[len] = 0;
}

/* Reads a FRAME of version 1 or 2 with the receiver's rules of the document that need no pixel format table. */
static void decode(const uint8_t *buf, size_t n, struct frame *fr) {
    memset(fr, 0, sizeof *fr);
    if (n < 16 || get32(buf) != MAGIC) fail("bad magic or too short");
    fr->version = get16(buf + 4);
    if (get16(buf + 6) != TYPE_FRAME) fail("not a FRAME");
    fr->flags = get32(buf + 12);
    if (get32(buf + 8) != n || (fr->flags & ~(fr->version == 2 ? RELEASE_WANTED : 0u))) fail("length field or flags");
    const uint8_t *p;
    unsigned nl, el;
    if (fr->version == 1) {
        if (n < HEADER_V1) fail("short v1 header");
        fr->buffers = 1; fr->sizes[0] = get64(buf + 16); fr->tag = get64(buf + 24);
        fr->fourcc = get32(buf + 32); fr->width = get32(buf + 36); fr->height = get32(buf + 40);
        uint32_t stride = get32(buf + 44);
        nl = buf[48]; el = buf[49];
        if (nl > 31 || el > 63 || get16(buf + 50) || HEADER_V1 + nl + el != n) fail("bad v1 lengths");
        if (fr->fourcc) { /* one plane: enough for what this peer reads (the whole buffer) */
            fr->nplanes = 1; fr->planes[0] = (struct plane){0, stride, 0, (uint64_t)stride * fr->height};
        }
        p = buf + HEADER_V1;
    } else if (fr->version == 2) {
        if (n < HEADER_V2) fail("short v2 header");
        fr->id = get64(buf + 16); fr->tag = get64(buf + 24);
        fr->buffers = buf[32]; fr->fences = buf[33]; fr->nplanes = buf[34]; nl = buf[36]; el = buf[37];
        fr->fourcc = get32(buf + 40); fr->width = get32(buf + 44); fr->height = get32(buf + 48);
        fr->modifier = get64(buf + 56);
        if (buf[35] || get16(buf + 38) || get32(buf + 52)) fail("reserved bytes set");
        if (fr->fences) fail("fences are not understood");
        if (fr->buffers < 1 || fr->buffers > MAX_BUFFERS || fr->nplanes > MAX_PLANES || nl > 31 || el > 63)
            fail("counts out of range");
        if (HEADER_V2 + 8 * fr->buffers + 24 * fr->nplanes + nl + el != n) fail("bad v2 lengths");
        p = buf + HEADER_V2;
        for (unsigned b = 0; b < fr->buffers; b++, p += 8) {
            fr->sizes[b] = get64(p);
            if (fr->sizes[b] == 0 || fr->sizes[b] > INT64_MAX) fail("buffer size");
        }
        unsigned named = 0;
        for (unsigned i = 0; i < fr->nplanes; i++, p += 24) {
            struct plane *q = &fr->planes[i];
            *q = (struct plane){get32(p), get32(p + 4), get64(p + 8), get64(p + 16)};
            if (q->buffer >= fr->buffers || q->stride > INT32_MAX) fail("plane's buffer or stride");
            if (q->offset > INT64_MAX || q->length > fr->sizes[q->buffer] ||
                q->offset > fr->sizes[q->buffer] - q->length) fail("plane beyond its buffer");
            named |= 1u << q->buffer;
        }
        if (fr->fourcc == 0 && (fr->width || fr->height || fr->modifier || fr->nplanes || fr->buffers != 1))
            fail("geometry without a format");
        if (fr->fourcc && (!fr->nplanes || named != (1u << fr->buffers) - 1)) fail("a buffer without a plane");
    } else {
        fail("unsupported version");
    }
    if (fr->fourcc && (fr->width == 0 || fr->height == 0 || fr->width > INT32_MAX || fr->height > INT32_MAX))
        fail("not a size in pixels");
    text(fr->name, p, nl);
    text(fr->exporter, p + nl, el);
}

/* Receives one message of at most 512 bytes and its fds; returns its length, or -1 at the end of stream (the Java
 * side never sends a message of 0 bytes, so this peer needs no SO_PASSCRED to tell them apart). */
static ssize_t receive(int s, uint8_t *buf, int *fds, int *nfds) {
    union { char space[CMSG_SPACE(16 * sizeof(int))]; struct cmsghdr align; } ctl;
    struct iovec iov = {buf, 512};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl.space, .msg_controllen = sizeof ctl.space};
    ssize_t n;
    do n = recvmsg(s, &m, MSG_CMSG_CLOEXEC); while (n < 0 && (errno == EINTR || errno == ECONNRESET));
    if (n < 0) die("recvmsg");
    if (m.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) fail("truncated message");
    *nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) {
            int k = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            if (*nfds + k > 16) fail("too many fds");
            memcpy(fds + *nfds, CMSG_DATA(c), k * sizeof(int));
            *nfds += k;
        }
    return n == 0 && *nfds == 0 ? -1 : n;
}

/* Receives a FRAME and checks it and its fds; false at the end of stream. */
static int receive_frame(int s, struct frame *fr, int *fds) {
    uint8_t buf[512];
    int nfds;
    ssize_t n = receive(s, buf, fds, &nfds);
    if (n < 0) return 0;
    decode(buf, n, fr);
    if ((unsigned)nfds != fr->buffers + fr->fences) fail("fd count is not buffer_count + fence_count");
    for (unsigned b = 0; b < fr->buffers; b++) {
        off_t end = lseek(fds[b], 0, SEEK_END);   /* dma-buf and memfd alike */
        if (end < 0) die("lseek");
        if ((uint64_t)end != fr->sizes[b]) fail("a buffer size is not its fd's");
    }
    return 1;
}

/* A RELEASE: the 16 common bytes (version 2, type 2, length 24, flags 0) and the frame id; no fds. */
static void send_release(int s, uint64_t id) {
    uint8_t r[RELEASE_LENGTH];
    put32(r, MAGIC); put16(r + 4, 2); put16(r + 6, TYPE_RELEASE); put32(r + 8, RELEASE_LENGTH); put32(r + 12, 0);
    put64(r + 16, id);
    if (send(s, r, sizeof r, MSG_NOSIGNAL) != sizeof r) die("send RELEASE");
}

static uint8_t release_pattern(uint64_t tag, unsigned b, uint64_t i) { return (uint8_t)(tag * 131 + b * 17 + i); }

static int do_recv(const char *path) {
    int s = connect_to(path);
    int fds[16];
    struct frame fr;
    if (!receive_frame(s, &fr, fds)) fail("end of stream before a frame");
    char f[5] = {0};
    memcpy(f, &fr.fourcc, 4);
    printf("frame version=%u id=%llu tag=%llu name=%s exporter=%s buffers=%u fences=%u fourcc=%s width=%u "
           "height=%u modifier=0x%016llx sizes=", fr.version, (unsigned long long)fr.id,
           (unsigned long long)fr.tag, fr.name, fr.exporter, fr.buffers, fr.fences, fr.fourcc ? f : "0",
           fr.width, fr.height, (unsigned long long)fr.modifier);
    for (unsigned b = 0; b < fr.buffers; b++) printf("%s%llu", b ? "," : "", (unsigned long long)fr.sizes[b]);
    printf(" planes=");
    for (unsigned i = 0; i < fr.nplanes; i++)
        printf("%s%u:%llu+%llu/%u", i ? "," : "", fr.planes[i].buffer, (unsigned long long)fr.planes[i].offset,
               (unsigned long long)fr.planes[i].length, fr.planes[i].stride);
    printf("\n");
    for (unsigned b = 0; b < fr.buffers; b++) {
        uint64_t size = fr.sizes[b];
        uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fds[b], 0);
        if (p == MAP_FAILED) die("mmap");
        for (uint64_t i = 0; i < size - 8; i++)
            if (p[i] != (uint8_t)(i * 31 + fr.tag + b)) {
                printf("channel_peer: pattern wrong at %llu of buffer %u\n", (unsigned long long)i, b);
                exit(1);
            }
        put64(p + size - 8, fr.tag * 3 + 1 + b);
        munmap(p, size);
        close(fds[b]);
    }
    if (fr.flags & RELEASE_WANTED) send_release(s, fr.id);
    close(s);
    printf("channel_peer: pattern ok, answered\n");
    return 0;
}

static int do_consume(const char *path) {
    int s = connect_to(path), fds[16];
    unsigned long frames = 0, ok = 0, bad = 0, released = 0;
    struct frame fr;
    while (receive_frame(s, &fr, fds)) {
        int good = 1;
        for (unsigned b = 0; b < fr.buffers; b++) {
            uint8_t *p = mmap(NULL, fr.sizes[b], PROT_READ, MAP_SHARED, fds[b], 0);
            if (p == MAP_FAILED) die("mmap");
            for (uint64_t i = 0; i < fr.sizes[b] && good; i++) good = p[i] == release_pattern(fr.tag, b, i);
            munmap(p, fr.sizes[b]);
        }
        for (unsigned b = 0; b < fr.buffers + fr.fences; b++) close(fds[b]);
        frames++;
        if (good) ok++; else bad++;
        if (fr.flags & RELEASE_WANTED) { send_release(s, fr.id); released++; }
    }
    close(s);
    printf("channel_peer: frames=%lu ok=%lu bad=%lu released=%lu\n", frames, ok, bad, released);
    return bad ? 1 : 0;
}

static int do_hold(const char *path, int count) {
    int s = connect_to(path), fds[16];
    struct frame fr;
    for (int i = 0; i < count; i++)
        if (!receive_frame(s, &fr, fds)) fail("end of stream before every frame");
    printf("channel_peer: holding %d frames\n", count);
    fflush(stdout);
    for (;;) pause();
    return 0;
}

static int do_send_release(const char *path, int count, uint64_t size) {
    int s = connect_to(path);
    char *out = calloc(count + 1, 1);
    for (int id = 1; id <= count; id++) {
        int fd = memfd_create("release-from-c", MFD_CLOEXEC | MFD_ALLOW_SEALING);
        if (fd < 0 || ftruncate(fd, size)) die("memfd");
        if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) die("F_ADD_SEALS");
        uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        if (p == MAP_FAILED) die("mmap");
        for (uint64_t i = 0; i < size; i++) p[i] = release_pattern(id, 0, i);
        munmap(p, size);
        struct frame fr = {.version = 2, .id = id, .tag = id, .buffers = 1, .sizes = {size}};
        snprintf(fr.name, sizeof fr.name, "release-from-c");
        snprintf(fr.exporter, sizeof fr.exporter, "memfd");
        uint8_t f[MAX_FRAME];
        size_t len = encode(f, &fr);
        put32(f + 12, RELEASE_WANTED);
        send_with_fds(s, f, len, &fd, 1);
        close(fd);
        out[id] = 1;
    }
    for (int left = count; left > 0; left--) {
        uint8_t buf[512];
        int fds[16], nfds;
        ssize_t n = receive(s, buf, fds, &nfds);
        if (n < 0) fail("end of stream before every RELEASE");
        if (nfds) fail("a RELEASE with fds");
        if (n != RELEASE_LENGTH || get32(buf) != MAGIC || get16(buf + 4) != 2 || get16(buf + 6) != TYPE_RELEASE ||
            get32(buf + 8) != RELEASE_LENGTH || get32(buf + 12) != 0) fail("a malformed RELEASE");
        uint64_t id = get64(buf + 16);
        if (id < 1 || id > (uint64_t)count || !out[id]) fail("a RELEASE of a frame not out");
        out[id] = 0;
    }
    printf("channel_peer: %d frames released\n", count);
    close(s);
    return 0;
}

/* A sealed memfd of SIZE bytes holding the pattern of buffer B, with 8 zero bytes at offset 8 for the answer. */
static int pattern_memfd(const char *name, uint64_t size, uint64_t tag, unsigned b, uint8_t **map) {
    int fd = memfd_create(name, MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0) die("memfd_create");
    if (ftruncate(fd, size)) die("ftruncate");
    if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW)) die("F_ADD_SEALS");
    uint8_t *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    for (uint64_t i = 0; i < size; i++) p[i] = (uint8_t)(i * 31 + tag + b);
    memset(p + 8, 0, 8);
    *map = p;
    return fd;
}

static void await_close(int s) {
    char b[1];
    while (recv(s, b, 1, 0) > 0) { }   /* the peer closes when it has answered */
}

static int do_send(const char *path, uint64_t size, uint64_t tag) {
    int s = connect_to(path);
    uint8_t *p;
    int fd = pattern_memfd("from-c", size, tag, 0, &p);
    send_frame(s, fd, size, tag, "from-c", "memfd");
    await_close(s);
    uint64_t answer = get64(p + 8);
    if (answer != tag * 5) { printf("channel_peer: answer %llu, expected %llu\n", (unsigned long long)answer, (unsigned long long)(tag * 5)); exit(1); }
    printf("channel_peer: sent, answer ok\n");
    return 0;
}

static int do_send_nv12m(const char *path, uint32_t width, uint32_t height, uint32_t stride, uint64_t tag) {
    int s = connect_to(path);
    struct frame fr = {.version = 2, .id = 1000 + tag, .tag = tag, .buffers = 2, .nplanes = 2,
                       .fourcc = FOURCC('N', 'V', '1', '2'), .width = width, .height = height, .modifier = 0};
    snprintf(fr.name, sizeof fr.name, "nv12m-from-c");
    snprintf(fr.exporter, sizeof fr.exporter, "memfd");
    fr.sizes[0] = (uint64_t)stride * height;
    fr.sizes[1] = (uint64_t)stride * ((height + 1) / 2);
    fr.planes[0] = (struct plane){0, stride, 0, fr.sizes[0]};
    fr.planes[1] = (struct plane){1, stride, 0, fr.sizes[1]};
    uint8_t *maps[2];
    int fds[2];
    for (unsigned b = 0; b < 2; b++) fds[b] = pattern_memfd(b ? "nv12m-cbcr" : "nv12m-y", fr.sizes[b], tag, b, &maps[b]);
    uint8_t f[MAX_FRAME];
    size_t len = encode(f, &fr);
    send_with_fds(s, f, len, fds, 2);
    await_close(s);
    for (unsigned b = 0; b < 2; b++) {
        uint64_t answer = get64(maps[b] + 8);
        if (answer != tag * 5 + b) {
            printf("channel_peer: answer %llu in buffer %u, expected %llu\n", (unsigned long long)answer, b,
                   (unsigned long long)(tag * 5 + b));
            exit(1);
        }
    }
    printf("channel_peer: sent NV12M, answers ok\n");
    return 0;
}

static int do_flood(const char *path, int count) {
    int s = connect_to(path);
    int fd = memfd_create("flood", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0 || ftruncate(fd, 4096)) die("memfd");
    struct frame fr = {.version = 2, .id = 1, .tag = 1, .buffers = 1, .sizes = {4096}};
    uint8_t f[MAX_FRAME];
    size_t len = encode(f, &fr);
    size_t space = CMSG_SPACE(count * sizeof(int));
    char *ctl = calloc(1, space);
    struct iovec iov = {f, len};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = ctl, .msg_controllen = space};
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    c->cmsg_level = SOL_SOCKET; c->cmsg_type = SCM_RIGHTS; c->cmsg_len = CMSG_LEN(count * sizeof(int));
    for (int i = 0; i < count; i++) memcpy(CMSG_DATA(c) + i * sizeof(int), &fd, sizeof fd);
    if (sendmsg(s, &m, MSG_NOSIGNAL) != (ssize_t)len) die("sendmsg");
    await_close(s);
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
    await_close(s);
    printf("channel_peer: %d rounds, %d stopped by the seal\n", rounds, stopped);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "truncate")) return do_truncate(argv[2], atoi(argv[3]));
    if (argc == 4 && !strcmp(argv[1], "flood")) return do_flood(argv[2], atoi(argv[3]));
    if (argc == 3 && !strcmp(argv[1], "recv")) return do_recv(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "consume")) return do_consume(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "hold")) return do_hold(argv[2], atoi(argv[3]));
    if (argc == 5 && !strcmp(argv[1], "sendrelease"))
        return do_send_release(argv[2], atoi(argv[3]), strtoull(argv[4], 0, 0));
    if (argc == 5 && !strcmp(argv[1], "send")) return do_send(argv[2], strtoull(argv[3], 0, 0), strtoull(argv[4], 0, 0));
    if (argc == 7 && !strcmp(argv[1], "sendnv12m"))
        return do_send_nv12m(argv[2], strtoul(argv[3], 0, 0), strtoul(argv[4], 0, 0), strtoul(argv[5], 0, 0),
                             strtoull(argv[6], 0, 0));
    fprintf(stderr, "usage: channel_peer recv SOCKET | send SOCKET SIZE TAG | sendnv12m SOCKET WIDTH HEIGHT STRIDE TAG"
                    " | flood SOCKET N | truncate SOCKET ROUNDS | consume SOCKET | hold SOCKET N"
                    " | sendrelease SOCKET N SIZE\n");
    return 2;
}
