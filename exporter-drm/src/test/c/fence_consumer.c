/* A consumer in another process that waits on a fence it received before it reads the buffer.
 *   fence_consumer SOCKET SIZE
 * connects to SOCKET (AF_UNIX, SOCK_SEQPACKET), receives one message with two fds (SCM_RIGHTS): a dma-buf of SIZE
 * bytes and a sync_file; prints "before STATUS" (SYNC_IOC_FILE_INFO: 0 active, 1 signalled); sends "W" (it is now
 * waiting); polls the sync_file with POLLIN for at most 30 s; prints "after STATUS"; maps the dma-buf and prints
 * "read N 0xBB" where BB is the value of byte 0 and N how many of the SIZE bytes equal it; exits 0.
 * It reads through the mapping WITHOUT DMA_BUF_IOCTL_SYNC on purpose: SYNC_START would itself wait for the buffer's
 * implicit fences, and here only the received fence is to order the read.
 * Any failure prints a line and exits 1. */
#define _GNU_SOURCE
#include <errno.h>
#include <linux/sync_file.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

static int die(const char *what) { printf("fence_consumer: %s: %s\n", what, strerror(errno)); exit(1); }

static int status_of(int fence) {
    struct sync_file_info info;
    memset(&info, 0, sizeof info);
    if (ioctl(fence, SYNC_IOC_FILE_INFO, &info) < 0) die("ioctl(SYNC_IOC_FILE_INFO)");
    return info.status;
}

int main(int argc, char **argv) {
    if (argc != 3) { printf("usage: fence_consumer SOCKET SIZE\n"); return 1; }
    size_t size = strtoull(argv[2], NULL, 10);
    int s = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (s < 0) die("socket");
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    strncpy(a.sun_path, argv[1], sizeof a.sun_path - 1);
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) die("connect");

    char data[64];
    union { struct cmsghdr h; char space[CMSG_SPACE(2 * sizeof(int))]; } control;
    struct iovec iov = {.iov_base = data, .iov_len = sizeof data};
    struct msghdr m = {.msg_iov = &iov, .msg_iovlen = 1, .msg_control = &control, .msg_controllen = sizeof control};
    if (recvmsg(s, &m, MSG_CMSG_CLOEXEC) < 0) die("recvmsg");
    struct cmsghdr *c = CMSG_FIRSTHDR(&m);
    if (c == NULL || c->cmsg_type != SCM_RIGHTS || c->cmsg_len != CMSG_LEN(2 * sizeof(int))) {
        printf("fence_consumer: expected two fds\n");
        return 1;
    }
    int fds[2];
    memcpy(fds, CMSG_DATA(c), sizeof fds);
    int buf = fds[0], fence = fds[1];

    printf("before %d\n", status_of(fence));
    fflush(stdout);
    if (send(s, "W", 1, MSG_NOSIGNAL) != 1) die("send");

    struct pollfd p = {.fd = fence, .events = POLLIN};
    int n;
    do {
        n = poll(&p, 1, 30000);
    } while (n < 0 && errno == EINTR);
    if (n < 0) die("poll");
    if (n == 0) { printf("fence_consumer: the fence did not signal within 30 s\n"); return 1; }
    printf("after %d\n", status_of(fence));

    unsigned char *v = mmap(NULL, size, PROT_READ, MAP_SHARED, buf, 0);
    if (v == MAP_FAILED) die("mmap");
    size_t same = 0;
    for (size_t i = 0; i < size; i++) same += v[i] == v[0];
    printf("read %zu 0x%02x\n", same, v[0]);
    munmap(v, size);
    close(buf);
    close(fence);
    close(s);
    return 0;
}
