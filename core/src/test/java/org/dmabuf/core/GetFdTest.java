package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.junit.jupiter.api.Test;

/** registry.get(fd): the way back from an fd to a buffer. */
class GetFdTest extends RegistryFixture {
    @Test
    void knownInodeGivesTheSameBuffer() {
        try (DmaBuf buf = scope.allocate(BufferRequest.ofSize(4096).name("known"))) {
            try (Fd dup = Sys.dup(buf.fd(), "a received copy"); DmaBuf again = scope.get(dup.get())) {
                assertThat(again.inode()).isEqualTo(buf.inode());
                assertThat(again.name()).isEqualTo("known");
                assertThat(buf.refCount()).isEqualTo(2);
                assertThat(again.mmap()).isSameAs(buf.mmap());
            }
            assertThat(buf.refCount()).isEqualTo(1);
            assertThat(system.allocated).hasValue(1);
        }
    }

    @Test
    void anUnknownMemfdIsAdoptedAndTheCallerKeepsItsFd() {
        try (Fd memfd = Sys.memfd("test-foreign", LibC.MFD_ALLOW_SEALING)) {
            Sys.ftruncate(memfd.get(), 8192);
            try (DmaBuf adopted = scope.get(memfd.get())) {
                assertThat(adopted.kind()).contains(BufferKind.MEMFD);
                assertThat(adopted.size()).isEqualTo(8192);
                assertThat(adopted.inode()).isEqualTo(Sys.fstat(memfd.get()).inode());
                assertThat(adopted.fd()).as("the registry holds its own duplicate").isNotEqualTo(memfd.get());
                try (CpuAccess w = adopted.beginCpuAccess(SyncDirection.WRITE)) {
                    w.putInt(4096, 7);
                }
                try (DmaBuf second = scope.get(memfd.get())) {
                    assertThat(second.refCount()).as("the second get finds the adopted buffer by inode")
                            .isEqualTo(2);
                }
            }
            assertThat(registry.bufinfo()).isEmpty();
            assertThat(memfd.isOpen()).isTrue();
            assertThat(Sys.fstat(memfd.get()).size()).isEqualTo(8192);
        }
    }

    @Test
    void aPipeIsRefusedNamingTheFdAndWhatItIs() throws IOException {
        try (Fd r = pipeReadEnd()) {
            assertThatThrownBy(() -> scope.get(r.get())).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("get: EINVAL")
                    .hasMessageContaining("fd " + r.get() + " (pipe:")
                    .hasMessageContaining("neither a dma-buf nor a memfd");
        }
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void aClosedFdIsEbadf() {
        int number;
        try (Fd memfd = Sys.memfd("test-closed", 0)) {
            // a number far above the ones in use: once closed, no other thread is given it meanwhile
            Fd high = TestSupport.highDuplicate(memfd.get(), "a copy of test-closed");
            number = high.get();
            assertThat(Sys.fstat(number).id()).as("open before the close").isEqualTo(Sys.fstat(memfd.get()).id());
            high.close();
        }
        assertThatThrownBy(() -> scope.get(number)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("statx: EBADF").hasMessageContaining("fd " + number);
        int never = TestSupport.neverOpenFd();
        assertThatThrownBy(() -> scope.get(never)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("statx: EBADF").hasMessageContaining("fd " + never);
        assertThatThrownBy(() -> scope.get(-1)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("get: EBADF");
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void aRegularFileIsRefused() throws IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile("dmabuf", ".bin");
        try (Fd fd = Sys.open(f.toString(), LibC.O_RDWR)) {
            assertThatThrownBy(() -> scope.get(fd.get())).isInstanceOf(LinuxException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("neither a dma-buf nor a memfd");
        } finally {
            java.nio.file.Files.delete(f);
        }
    }

    @Test
    void aFileOnAnotherTmpfsIsNoMemfdAndIsRefusedNamingItsPath() throws IOException {
        java.nio.file.Path f = java.nio.file.Files.createTempFile(java.nio.file.Path.of("/dev/shm"), "dmabuf", ".bin");
        try (Fd fd = Sys.open(f.toString(), LibC.O_RDWR)) {
            Sys.ftruncate(fd.get(), 4096);
            assertThat(Sys.fstat(fd.get()).dev()).as("shmem, but not the memfds' mount")
                    .isNotEqualTo(Sys.memfdDevice());
            assertThatThrownBy(() -> scope.get(fd.get())).isInstanceOf(LinuxException.class)
                    .hasMessageContaining(f.toString()).hasMessageContaining("neither a dma-buf nor a memfd");
        } finally {
            java.nio.file.Files.delete(f);
        }
        assertThat(registry.liveCount()).isZero();
    }

    @Test
    void everyMemfdIsOnTheMountThatTheRegistryKnowsMemfdsBy() {
        try (Fd a = Sys.memfd("a", 0); Fd b = Sys.memfd("b", LibC.MFD_ALLOW_SEALING)) {
            assertThat(Sys.memfdDevice()).isNotEqualTo(-1L)
                    .isEqualTo(Sys.fstat(a.get()).dev()).isEqualTo(Sys.fstat(b.get()).dev());
        }
    }

    private static Fd pipeReadEnd() {
        // a pipe made by the kernel, not by Java, so the test owns a plain fd number
        int[] fds = new int[2];
        if (PipeLib.INSTANCE.pipe2(fds, LibC.O_CLOEXEC) != 0) {
            throw new AssertionError("pipe2 failed");
        }
        new Fd(fds[1], "pipe write end").close();
        return new Fd(fds[0], "pipe read end");
    }

    interface PipeLib extends com.sun.jna.Library {
        PipeLib INSTANCE = com.sun.jna.Native.load("c", PipeLib.class);

        int pipe2(int[] fds, int flags);
    }
}
