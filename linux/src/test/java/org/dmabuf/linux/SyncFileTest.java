package org.dmabuf.linux;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.channels.Pipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.dmabuf.api.FenceTimeoutException;
import org.dmabuf.api.FenceUnsupportedException;
import org.dmabuf.api.SyncDirection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * On the host: a fence fd that is no sync_file is refused with the call, the fd and errno, and nothing stays open;
 * the dma-buf fence calls on a memfd say that fences are unsupported; poll's checks.
 */
class SyncFileTest {
    private long fdsBefore;

    @BeforeEach
    void count() {
        fdsBefore = TestSupport.openFds();
    }

    @AfterEach
    void nothingLeft() {
        assertThat(TestSupport.openFds()).as("fds left open: %s", TestSupport.openFdTargets()).isEqualTo(fdsBefore);
        assertThat(TestSupport.syncFiles()).isZero();
    }

    @Test
    void aMemfdIsNoSyncFile() {
        try (Fd memfd = Sys.memfd("not-a-fence", 0)) {
            long open = TestSupport.openFds();
            assertThatThrownBy(() -> SyncFile.dup(memfd.get())).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(SYNC_IOC_FILE_INFO): ENOTTY")
                    .hasMessageContaining("fd " + memfd.get() + " (/memfd:not-a-fence")
                    .hasMessageContaining("is not a sync_file")
                    .satisfies(e -> assertThat(((LinuxException) e).errnoValue()).isEqualTo(Errno.ENOTTY));
            assertThat(TestSupport.openFds()).as("the duplicate was closed again").isEqualTo(open);
        }
    }

    @Test
    void aPipeAndASocketAreNoSyncFiles() throws IOException {
        List<String> before = pipes();
        Pipe pipe = Pipe.open();
        try {
            List<String> made = pipes();
            made.removeAll(before);
            assertThat(made).hasSize(2);
            for (String p : made) {
                int fd = Integer.parseInt(p);
                assertThatThrownBy(() -> SyncFile.dup(fd)).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("ioctl(SYNC_IOC_FILE_INFO): ENOTTY")
                        .hasMessageContaining("fd ").hasMessageContaining("pipe:[");
            }
        } finally {
            pipe.sink().close();
            pipe.source().close();
        }
        UnixSocket[] pair = UnixSocket.pair();
        try {
            assertThatThrownBy(() -> SyncFile.dup(pair[0].fd())).isInstanceOf(LinuxException.class)
                    .hasMessageContaining("ioctl(SYNC_IOC_FILE_INFO): ENOTTY").hasMessageContaining("socket:[");
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    @Test
    void anFdThatIsNotOpenIsRefusedWithEbadf() {
        int closed = TestSupport.neverOpenFd();
        assertThatThrownBy(() -> SyncFile.dup(closed)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("fcntl(F_DUPFD_CLOEXEC): EBADF").hasMessageContaining("fd " + closed);
    }

    @Test
    void adoptClosesWhatItRefuses() {
        Fd memfd = Sys.memfd("adopted", 0);
        assertThatThrownBy(() -> SyncFile.adopt(memfd)).isInstanceOf(LinuxException.class)
                .hasMessageContaining("ENOTTY");
        assertThat(memfd.isOpen()).isFalse();
    }

    @Test
    void fenceCallsOnAMemfdAreUnsupportedAndSaidOnceInTheLog() {
        List<String> logged = new java.util.concurrent.CopyOnWriteArrayList<>();
        java.util.logging.Logger jul = java.util.logging.Logger.getLogger("org.dmabuf.linux");
        java.util.logging.Handler h = new java.util.logging.Handler() {
            @Override
            public void publish(java.util.logging.LogRecord r) {
                logged.add(r.getMessage());
            }

            @Override
            public void flush() {
            }

            @Override
            public void close() {
            }
        };
        jul.addHandler(h);
        SyncFile.UNSUPPORTED_LOGGED.set(false);
        try (Fd memfd = Sys.memfd("cpu-only", 0)) {
            for (SyncDirection d : SyncDirection.values()) {
                assertThatThrownBy(() -> SyncFile.export(memfd.get(), d, "memfd:cpu-only"))
                        .isInstanceOf(FenceUnsupportedException.class)
                        .hasMessageContaining("ioctl(DMA_BUF_IOCTL_EXPORT_SYNC_FILE): ENOTTY")
                        .hasMessageContaining("memfd:cpu-only (fd " + memfd.get() + ")")
                        .satisfies(e -> assertThat(((FenceUnsupportedException) e).errno()).isEqualTo("ENOTTY"));
            }
            assertThat(logged).as("one message per process").hasSize(1);
            assertThat(logged.get(0)).contains("fences are not available").contains("CPU sync");
            // a memfd has no device fences: it is idle at once, for reading and for writing
            SyncFile.awaitIdle(memfd.get(), SyncDirection.READ, Duration.ZERO, "memfd:cpu-only");
            SyncFile.awaitIdle(memfd.get(), SyncDirection.WRITE, Duration.ZERO, "memfd:cpu-only");
        } finally {
            jul.removeHandler(h);
        }
        assertThat(logged).hasSize(1);
    }

    @Test
    void pollOnAnFdThatIsNotOpenIsEbadfAndATimeoutIsFalse() {
        int closed = TestSupport.neverOpenFd();
        assertThatThrownBy(() -> Sys.poll(closed, SocketLibC.POLLIN, Duration.ofMillis(10), "poll(POLLIN)", "fence"))
                .isInstanceOf(LinuxException.class).hasMessageContaining("poll(POLLIN): EBADF")
                .hasMessageContaining("fence (fd " + closed + ")");
        UnixSocket[] pair = UnixSocket.pair();
        try {
            // nothing to read on a fresh socket: the wait runs out
            assertThat(Sys.poll(pair[0].fd(), SocketLibC.POLLIN, Duration.ofMillis(20), "poll", "socket")).isFalse();
            pair[1].send(new byte[] {1});
            assertThat(Sys.poll(pair[0].fd(), SocketLibC.POLLIN, Duration.ofSeconds(5), "poll", "socket")).isTrue();
            assertThatThrownBy(() -> SyncFile.awaitIdle(pair[1].fd(), SyncDirection.READ, Duration.ofMillis(20),
                    "a quiet socket")).isInstanceOf(FenceTimeoutException.class)
                    .hasMessageContaining("awaitIdle: ETIME: a quiet socket (fd " + pair[1].fd() + ")");
        } finally {
            pair[0].close();
            pair[1].close();
        }
    }

    private static List<String> pipes() throws IOException {
        try (Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("pipe:");
                } catch (IOException e) {
                    return false;
                }
            }).map(p -> p.getFileName().toString()).collect(Collectors.toList());
        }
    }
}
