/* A hostile peer of a buffer channel, for the security tests (SecurityChannelTest).
 *
 *   security_peer truncate SOCKET
 *       connect to SOCKET (SOCK_SEQPACKET), receive one message with one fd (a memfd the channel sent), then try to
 *       change the file's size through the RECEIVED fd, as a peer that wants the sender's readers to fault (SIGBUS):
 *       ftruncate to 0, ftruncate to twice the size, fallocate past the end; print one line
 *       "security_peer: size=N ftruncate0=ERR ftruncate2x=ERR fallocate=ERR size_after=N" where ERR is the errno's
 *       name or "ok"; then write 0x5a into the last byte through a shared mapping (what a peer may do), send one
 *       byte back ("done"), and exit 0.
 *   security_peer serve SOCKET N
 *       bind and listen on SOCKET (a server of whatever uid this runs as), print "security_peer: listening",
 *       then N times: accept a connection and read from it until the client hangs up; exit 0.
 * Any other failure prints a line and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

static void die(const char *what) {
    printf("security_peer: %s: %s\n", what, strerror(errno));
    exit(1);
}

static const char *err(int rc) {
    if (rc == 0) return "ok";
    switch (errno) {
    case EPERM: return "EPERM";
    case EINVAL: return "EINVAL";
    case EBUSY: return "EBUSY";
    case EBADF: return "EBADF";
    case EACCES: return "EACCES";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    default: return strerror(errno);
    }
}

static int serve(const char *path, int n) {
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    if (bind(s, (struct sockaddr *)&a, sizeof a)) die("bind");
    if (listen(s, 4)) die("listen");
    printf("security_peer: listening\n");
    fflush(stdout);
    for (int i = 0; i < n; i++) {
        int c = accept(s, NULL, NULL);
        if (c < 0) die("accept");
        char b[512];
        while (recv(c, b, sizeof b, 0) > 0) {
        }
        close(c);
    }
    close(s);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 4 && !strcmp(argv[1], "serve")) return serve(argv[2], atoi(argv[3]));
    if (argc != 3 || strcmp(argv[1], "truncate")) {
        printf("usage: security_peer truncate SOCKET | serve SOCKET N\n");
        return 2;
    }
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, argv[2], sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a)) die("connect");
    unsigned char buf[512];
    union { struct cmsghdr h; char space[CMSG_SPACE(16 * sizeof(int))]; } control;
    struct iovec iov = {.iov_base = buf, .iov_len = sizeof buf};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = control.space,
                       .msg_controllen = sizeof control.space};
    ssize_t n;
    do n = recvmsg(s, &m, MSG_CMSG_CLOEXEC); while (n < 0 && errno == EINTR);
    if (n <= 0) die("recvmsg");
    int fd = -1;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&m); c; c = CMSG_NXTHDR(&m, c))
        if (c->cmsg_level == SOL_SOCKET && c->cmsg_type == SCM_RIGHTS) memcpy(&fd, CMSG_DATA(c), sizeof fd);
    if (fd < 0) die("no fd in the message");
    struct stat st;
    if (fstat(fd, &st)) die("fstat");
    off_t size = st.st_size;
    const char *t0 = err(ftruncate(fd, 0));
    const char *t2 = err(ftruncate(fd, size * 2));
    const char *fa = err(fallocate(fd, 0, size, 4096));
    if (fstat(fd, &st)) die("fstat");
    printf("security_peer: size=%lld ftruncate0=%s ftruncate2x=%s fallocate=%s size_after=%lld\n",
           (long long)size, t0, t2, fa, (long long)st.st_size);
    unsigned char *p = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (p == MAP_FAILED) die("mmap");
    p[st.st_size - 1] = 0x5a;
    munmap(p, st.st_size);
    close(fd);
    fflush(stdout);
    if (send(s, "d", 1, MSG_NOSIGNAL) != 1) die("send");
    close(s);
    return 0;
}
