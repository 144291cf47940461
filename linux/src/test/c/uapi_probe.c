/* Prints the struct sizes and ioctl numbers of the UAPI the project binds, as the kernel headers define them.
 * IoctlNumbersTest compiles and runs this and compares every line with what the Java side computes. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <linux/dma-buf.h>
#include <linux/dma-heap.h>
#include <linux/stat.h>
#include <linux/sync_file.h>
#include <linux/udmabuf.h>
#include <stdio.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#define P(name, value) printf("%s %llu\n", name, (unsigned long long)(value))

int main(void) {
    P("sizeof(struct dma_buf_sync)", sizeof(struct dma_buf_sync));
    P("DMA_BUF_IOCTL_SYNC", DMA_BUF_IOCTL_SYNC);
    P("DMA_BUF_SET_NAME_B", DMA_BUF_SET_NAME_B);
    P("DMA_BUF_SYNC_START", DMA_BUF_SYNC_START);
    P("DMA_BUF_SYNC_END", DMA_BUF_SYNC_END);
    P("DMA_BUF_NAME_LEN", DMA_BUF_NAME_LEN);
    P("sizeof(struct dma_buf_export_sync_file)", sizeof(struct dma_buf_export_sync_file));
    P("sizeof(struct dma_buf_import_sync_file)", sizeof(struct dma_buf_import_sync_file));
    P("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", DMA_BUF_IOCTL_EXPORT_SYNC_FILE);
    P("DMA_BUF_IOCTL_IMPORT_SYNC_FILE", DMA_BUF_IOCTL_IMPORT_SYNC_FILE);
    P("sizeof(struct sync_merge_data)", sizeof(struct sync_merge_data));
    P("sizeof(struct sync_file_info)", sizeof(struct sync_file_info));
    P("SYNC_IOC_MERGE", SYNC_IOC_MERGE);
    P("SYNC_IOC_FILE_INFO", SYNC_IOC_FILE_INFO);
    P("sizeof(struct dma_heap_allocation_data)", sizeof(struct dma_heap_allocation_data));
    P("DMA_HEAP_IOCTL_ALLOC", DMA_HEAP_IOCTL_ALLOC);
    P("DMA_HEAP_VALID_FD_FLAGS", DMA_HEAP_VALID_FD_FLAGS);
    P("sizeof(struct udmabuf_create)", sizeof(struct udmabuf_create));
    P("UDMABUF_CREATE", UDMABUF_CREATE);
    P("UDMABUF_FLAGS_CLOEXEC", UDMABUF_FLAGS_CLOEXEC);
    P("sizeof(struct statx)", sizeof(struct statx));
    P("offsetof(struct statx, stx_ino)", __builtin_offsetof(struct statx, stx_ino));
    P("offsetof(struct statx, stx_size)", __builtin_offsetof(struct statx, stx_size));
    P("offsetof(struct statx, stx_mode)", __builtin_offsetof(struct statx, stx_mode));
    P("O_CLOEXEC", O_CLOEXEC);
    P("O_NONBLOCK", O_NONBLOCK);
    P("F_DUPFD_CLOEXEC", F_DUPFD_CLOEXEC);
    P("F_ADD_SEALS", F_ADD_SEALS);
    P("F_GET_SEALS", F_GET_SEALS);
    P("F_SEAL_SEAL", F_SEAL_SEAL);
    P("F_SEAL_SHRINK", F_SEAL_SHRINK);
    P("F_SEAL_GROW", F_SEAL_GROW);
    P("F_SEAL_WRITE", F_SEAL_WRITE);
    P("MFD_CLOEXEC", MFD_CLOEXEC);
    P("MFD_ALLOW_SEALING", MFD_ALLOW_SEALING);
    P("AT_EMPTY_PATH", AT_EMPTY_PATH);
    P("MAP_SHARED", MAP_SHARED);
    P("sizeof(struct sockaddr_un)", sizeof(struct sockaddr_un));
    P("sizeof(struct ucred)", sizeof(struct ucred));
    P("sizeof(struct iovec)", sizeof(struct iovec));
    P("sizeof(struct msghdr)", sizeof(struct msghdr));
    P("sizeof(struct pollfd)", sizeof(struct pollfd));
    P("CMSG_LEN(4)", CMSG_LEN(4));
    P("CMSG_SPACE(4)", CMSG_SPACE(4));
    P("CMSG_SPACE(64)", CMSG_SPACE(64));
    P("AF_UNIX", AF_UNIX);
    P("SOCK_SEQPACKET", SOCK_SEQPACKET);
    P("SOCK_CLOEXEC", SOCK_CLOEXEC);
    P("SOL_SOCKET", SOL_SOCKET);
    P("SO_PEERCRED", SO_PEERCRED);
    P("SCM_RIGHTS", SCM_RIGHTS);
    P("MSG_TRUNC", MSG_TRUNC);
    P("MSG_CTRUNC", MSG_CTRUNC);
    P("MSG_NOSIGNAL", MSG_NOSIGNAL);
    P("MSG_CMSG_CLOEXEC", MSG_CMSG_CLOEXEC);
    P("POLLIN", POLLIN);
    P("POLLOUT", POLLOUT);
    P("POLLNVAL", POLLNVAL);
    P("SHUT_RDWR", SHUT_RDWR);
    return 0;
}
