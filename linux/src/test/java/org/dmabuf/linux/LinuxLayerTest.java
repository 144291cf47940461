package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

/** The Linux layer on this host: owned fds, mappings, typed errors naming call, target and errno. */
class LinuxLayerTest {
    @Test
    void openOfAMissingPathNamesPathAndEnoent() {
        assertThatThrownBy(() -> Sys.open("/dev/dma_heap/nonexistent", LibC.O_RDWR))
                .isInstanceOf(LinuxException.class)
                .hasMessage("open: ENOENT: /dev/dma_heap/nonexistent: No such file or directory")
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOENT));
    }

    @Test
    void syncOnAMemfdIsEnotty() {
        try (Fd memfd = Sys.memfd("test-sync", 0)) {
            assertThatThrownBy(() -> DmaBufUapi.sync(memfd.get(), false, org.dmabuf.api.SyncDirection.READ))
                    .isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(DMA_BUF_IOCTL_SYNC): ENOTTY: fd " + memfd.get());
        }
    }

    @Test
    void fdClosesOnceAndRefusesUseAfterClose() {
        try (Fd memfd = Sys.memfd("test-once", 0)) {
            // a number far above the ones in use: once closed, no other thread is given it meanwhile, so a second
            // close() that reached the kernel could not hit another owner's fd unnoticed, and fstat proves it closed
            Fd fd = TestSupport.highDuplicate(memfd.get(), "a copy of test-once");
            int n = fd.get();
            assertThat(Sys.fstat(n).id()).as("open before the close").isEqualTo(Sys.fstat(memfd.get()).id());
            fd.close();
            fd.close();
            assertThat(fd.isOpen()).isFalse();
            assertThatThrownBy(fd::get).isInstanceOf(LinuxException.class).hasMessageContaining("EBADF");
            assertThatThrownBy(() -> Sys.fstat(n)).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("statx: EBADF: fd " + n);
            assertThat(memfd.isOpen()).isTrue();
            assertThat(Sys.fstat(memfd.get()).size()).isZero();
        }
    }

    @Test
    void anFdNumberThatCannotBeOpenIsEbadf() {
        int never = TestSupport.neverOpenFd();
        assertThatThrownBy(() -> Sys.fstat(never)).isInstanceOf(LinuxException.class)
                .hasMessage("statx: EBADF: fd " + never + ": Bad file descriptor")
                .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.EBADF));
        assertThatThrownBy(() -> Sys.dup(never, "nothing")).isInstanceOf(LinuxException.class)
                .hasMessageContaining("fcntl(F_DUPFD_CLOEXEC): EBADF: fd " + never);
    }

    @Test
    void mappingUnmapsOnceAndZeroSizeIsEinval() {
        try (Fd fd = Sys.memfd("test-map", 0)) {
            Sys.ftruncate(fd.get(), 4096);
            Mapping m = Mapping.map(fd.get(), 4096, "test");
            m.pointer().setInt(0, 99);
            assertThat(m.pointer().getInt(0)).isEqualTo(99);
            m.close();
            m.close();
            assertThat(m.isMapped()).isFalse();
            assertThatThrownBy(() -> Mapping.map(fd.get(), 0, "test")).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("mmap: EINVAL");
        }
    }

    @Test
    void fdinfoParsesWhatTheKernelPrintsForADmaBuf() {
        FdInfo i = FdInfo.parse("pos:\t0\nflags:\t02000002\nmnt_id:\t16\nino:\t1061\nsize:\t1048576\n"
                + "count:\t2\nexp_name:\tsystem\nname:\tqk-heap\n");
        assertThat(i).isEqualTo(new FdInfo(02000002, 1061, 1048576, 2, "system", "qk-heap"));
        assertThat(i.isDmaBuf()).isTrue();
        assertThat(FdInfo.parse("pos:\t0\nflags:\t02\n").isDmaBuf()).isFalse();
    }

    @Test
    void errnoNamesAndUnknownValues() {
        assertThat(Errno.name(Errno.ENOTTY)).isEqualTo("ENOTTY");
        assertThat(Errno.name(9999)).isEqualTo("errno 9999");
        assertThat(Errno.describe(Errno.EBUSY)).isEqualTo("Device or resource busy");
    }

    @Test
    void aMemfdIsNamedAsAskedAndItsFdDescribedLazilyAsBefore() throws Exception {
        // Sys.memfd passes the name as NUL-terminated bytes and keeps its description in two parts
        try (Fd fd = Sys.memfd("dmabuf:frame-\u00e9", 0)) {
            assertThat(java.nio.file.Files.readSymbolicLink(java.nio.file.Path.of("/proc/self/fd/" + fd.get()))
                    .toString()).as("the kernel's name").isEqualTo("/memfd:dmabuf:frame-\u00e9 (deleted)");
            assertThat(fd.what()).isEqualTo("memfd:dmabuf:frame-\u00e9");
            int n = fd.get();
            assertThat(fd).hasToString("fd " + n + " (memfd:dmabuf:frame-\u00e9)");
            fd.close();
            assertThatThrownBy(fd::get).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("memfd:dmabuf:frame-\u00e9").hasMessageContaining("EBADF");
        }
        try (Fd memfd = Sys.memfd("two-parts", 0); Fd dup = Sys.dup(memfd.get(), "adopted from fd ", 42)) {
            assertThat(dup.what()).isEqualTo("adopted from fd 42");
            assertThat(Sys.fstat(dup.get()).id()).isEqualTo(Sys.fstat(memfd.get()).id());
        }
    }

    @Test
    void oneStatxGivesIdentityAndTheSizeLseekGives() {
        // FdBuffer and the registry take a buffer's size from the statx that gave its identity
        try (Fd fd = Sys.memfd("sized", 0)) {
            Sys.ftruncate(fd.get(), 12288);
            FileStat st = Sys.fstat(fd.get());
            assertThat(Sys.sizeOf(fd.get(), org.dmabuf.api.BufferKind.MEMFD, st)).isEqualTo(12288)
                    .isEqualTo(LibC.lseek64(fd.get(), 0, LibC.SEEK_END));
            FdBuffer b = new FdBuffer(Sys.dup(fd.get(), "copy"), 10000, org.dmabuf.api.BufferKind.MEMFD);
            try {
                assertThat(b.kernelSize()).isEqualTo(12288);
                assertThat(b.id()).isEqualTo(st.id());
                assertThat(b.inode()).isEqualTo(st.inode());
            } finally {
                b.release();
            }
        }
    }

    @Test
    void theSharedSyncStructsHoldTheUapiFlagsOfEveryStartAndEnd() {
        // DMA_BUF_IOCTL_SYNC passes one of these shared structs; a wrong one would sync the wrong way
        for (org.dmabuf.api.SyncDirection d : org.dmabuf.api.SyncDirection.values()) {
            assertThat(DmaBufUapi.syncArgument(false, d).getLong(0)).as("START " + d)
                    .isEqualTo(DmaBufUapi.DMA_BUF_SYNC_START | d.flags());
            assertThat(DmaBufUapi.syncArgument(true, d).getLong(0)).as("END " + d)
                    .isEqualTo(DmaBufUapi.DMA_BUF_SYNC_END | d.flags());
        }
        assertThat(DmaBufUapi.syncArgument(true, org.dmabuf.api.SyncDirection.READ_WRITE).getLong(0)).isEqualTo(7);
    }
}
