package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Every struct size, offset and ioctl number the Linux layer computes equals what the kernel headers give, as a C
 * probe compiled now prints them.
 */
class UapiProbeTest {
    private static Map<String, Long> c;

    @BeforeAll
    static void runProbe() throws Exception {
        c = CProbe.run(Path.of("src/test/c/uapi_probe.c"), Path.of("target/probe"));
    }

    @Test
    void javaValuesEqualTheHeaders() {
        Map<String, Long> java = new LinkedHashMap<>();
        java.put("sizeof(struct dma_buf_sync)", (long) Ioc.sizeOf(DmaBufUapi.DmaBufSync.class));
        java.put("DMA_BUF_IOCTL_SYNC", DmaBufUapi.DMA_BUF_IOCTL_SYNC);
        java.put("DMA_BUF_SET_NAME_B", DmaBufUapi.DMA_BUF_SET_NAME_B);
        java.put("DMA_BUF_SYNC_START", DmaBufUapi.DMA_BUF_SYNC_START);
        java.put("DMA_BUF_SYNC_END", DmaBufUapi.DMA_BUF_SYNC_END);
        java.put("DMA_BUF_NAME_LEN", (long) DmaBufUapi.DMA_BUF_NAME_LEN);
        java.put("sizeof(struct dma_buf_export_sync_file)", (long) Ioc.sizeOf(DmaBufUapi.ExportSyncFile.class));
        java.put("sizeof(struct dma_buf_import_sync_file)", (long) Ioc.sizeOf(DmaBufUapi.ImportSyncFile.class));
        java.put("DMA_BUF_IOCTL_EXPORT_SYNC_FILE", DmaBufUapi.DMA_BUF_IOCTL_EXPORT_SYNC_FILE);
        java.put("DMA_BUF_IOCTL_IMPORT_SYNC_FILE", DmaBufUapi.DMA_BUF_IOCTL_IMPORT_SYNC_FILE);
        java.put("sizeof(struct sync_merge_data)", (long) Ioc.sizeOf(SyncFile.MergeData.class));
        java.put("sizeof(struct sync_file_info)", (long) Ioc.sizeOf(SyncFile.FileInfo.class));
        java.put("SYNC_IOC_MERGE", SyncFile.SYNC_IOC_MERGE);
        java.put("SYNC_IOC_FILE_INFO", SyncFile.SYNC_IOC_FILE_INFO);
        java.put("sizeof(struct dma_heap_allocation_data)", (long) Ioc.sizeOf(DmaHeapUapi.AllocationData.class));
        java.put("DMA_HEAP_IOCTL_ALLOC", DmaHeapUapi.DMA_HEAP_IOCTL_ALLOC);
        java.put("DMA_HEAP_VALID_FD_FLAGS", (long) DmaHeapUapi.DMA_HEAP_VALID_FD_FLAGS);
        java.put("sizeof(struct udmabuf_create)", (long) Ioc.sizeOf(UdmabufUapi.Create.class));
        java.put("UDMABUF_CREATE", UdmabufUapi.UDMABUF_CREATE);
        java.put("UDMABUF_FLAGS_CLOEXEC", (long) UdmabufUapi.UDMABUF_FLAGS_CLOEXEC);
        java.put("sizeof(struct statx)", (long) Statx.SIZE);
        java.put("offsetof(struct statx, stx_ino)", (long) Statx.OFFSET_INO);
        java.put("offsetof(struct statx, stx_size)", (long) Statx.OFFSET_SIZE);
        java.put("offsetof(struct statx, stx_mode)", (long) Statx.OFFSET_MODE);
        java.put("O_CLOEXEC", (long) LibC.O_CLOEXEC);
        java.put("O_NONBLOCK", (long) LibC.O_NONBLOCK);
        java.put("F_DUPFD_CLOEXEC", (long) LibC.F_DUPFD_CLOEXEC);
        java.put("F_ADD_SEALS", (long) LibC.F_ADD_SEALS);
        java.put("F_GET_SEALS", (long) LibC.F_GET_SEALS);
        java.put("F_SEAL_SEAL", (long) LibC.F_SEAL_SEAL);
        java.put("F_SEAL_SHRINK", (long) LibC.F_SEAL_SHRINK);
        java.put("F_SEAL_GROW", (long) LibC.F_SEAL_GROW);
        java.put("F_SEAL_WRITE", (long) LibC.F_SEAL_WRITE);
        java.put("MFD_CLOEXEC", (long) LibC.MFD_CLOEXEC);
        java.put("MFD_ALLOW_SEALING", (long) LibC.MFD_ALLOW_SEALING);
        java.put("AT_EMPTY_PATH", (long) LibC.AT_EMPTY_PATH);
        java.put("MAP_SHARED", (long) LibC.MAP_SHARED);
        java.put("sizeof(struct sockaddr_un)", (long) new SocketLibC.SockaddrUn().size());
        java.put("sizeof(struct ucred)", (long) new SocketLibC.Ucred().size());
        java.put("sizeof(struct iovec)", (long) new SocketLibC.Iovec().size());
        java.put("sizeof(struct msghdr)", (long) new SocketLibC.Msghdr().size());
        java.put("sizeof(struct pollfd)", (long) new SocketLibC.Pollfd().size());
        java.put("CMSG_LEN(4)", (long) SocketLibC.cmsgLen(4));
        java.put("CMSG_SPACE(4)", (long) SocketLibC.cmsgSpace(4));
        java.put("CMSG_SPACE(64)", (long) SocketLibC.cmsgSpace(64));
        java.put("AF_UNIX", (long) SocketLibC.AF_UNIX);
        java.put("SOCK_SEQPACKET", (long) SocketLibC.SOCK_SEQPACKET);
        java.put("SOCK_CLOEXEC", (long) SocketLibC.SOCK_CLOEXEC);
        java.put("SOL_SOCKET", (long) SocketLibC.SOL_SOCKET);
        java.put("SO_PEERCRED", (long) SocketLibC.SO_PEERCRED);
        java.put("SCM_RIGHTS", (long) SocketLibC.SCM_RIGHTS);
        java.put("MSG_TRUNC", (long) SocketLibC.MSG_TRUNC);
        java.put("MSG_CTRUNC", (long) SocketLibC.MSG_CTRUNC);
        java.put("MSG_NOSIGNAL", (long) SocketLibC.MSG_NOSIGNAL);
        java.put("MSG_CMSG_CLOEXEC", (long) SocketLibC.MSG_CMSG_CLOEXEC);
        java.put("POLLIN", (long) SocketLibC.POLLIN);
        java.put("POLLOUT", (long) SocketLibC.POLLOUT);
        java.put("POLLNVAL", (long) Sys.POLLNVAL);
        java.put("SHUT_RDWR", (long) SocketLibC.SHUT_RDWR);
        assertThat(java).containsExactlyEntriesOf(c);
    }

    @Test
    void iocEncodesDirectionTypeNumberAndSize() {
        assertThat(Ioc.io('b', 3)).isEqualTo(0x6203L);
        assertThat(Ioc.ioc(Ioc.READ | Ioc.WRITE, 'H', 0, 24)).isEqualTo(0xc0184800L);
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> Ioc.ioc(Ioc.READ, 'H', 0, 1 << 14))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
