package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.dmabuf.api.Attachment;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.Device;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaDirection;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.Segment;
import org.dmabuf.api.SgTable;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.SyncFile;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.UnixSocket;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.dmabuf.spi.ExporterProvider;
import org.dmabuf.spi.ExporterSite;
import org.dmabuf.spi.MappedMemory;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * The core's rows of the bad-input table ({@link BadInputTable}): the API, exporters that break the SPI, every kind
 * of fd given to {@code get(fd)}, ioctls on the wrong fd, and malformed wire messages from a hostile peer over a real
 * socket; the plain-Java entry point's configurations and a provider failing after another opened, and the
 * {@code --dump} and {@code --doctor} tools' bad arguments. Each case runs against a registry of its own and counts fds
 * by kind and mappings before and after.
 */
class BadInputTest {
    private static final String MODULE = "core";
    private static final Device DEV = Device.of("dev0", DeviceConstraints.NONE);
    private static final String[] MAPS = {"/memfd:"};

    /** A registry with the fixture's two exporters ({@link RegistryFixture}), or one broken exporter. */
    private static final class Env implements AutoCloseable {
        final BufferRegistry registry = new BufferRegistry();
        final OwnerScope scope;
        final TestExporter system = new TestExporter("system", 100).with(DmaBufExporter.MAX_SIZE, 64L << 20);
        final TestExporter cma = new TestExporter("cma", 50).with(DmaBufExporter.CONTIGUOUS, true)
                .with(DmaBufExporter.MAX_SIZE, 16L << 20);

        Env() {
            registry.bindExporter(system, system.props);
            registry.bindExporter(cma, cma.props);
            scope = registry.open("bad-input");
        }

        /** Puts one more exporter first in line. */
        Env with(DmaBufExporter e, String name) {
            Map<String, Object> p = new HashMap<>();
            p.put(DmaBufExporter.NAME, name);
            p.put(DmaBufExporter.EXP_NAME, name);
            p.put(DmaBufExporter.KIND, DmaBufExporter.KIND_MEMFD);
            p.put(org.osgi.framework.Constants.SERVICE_RANKING, 1000);
            p.put(org.osgi.framework.Constants.SERVICE_ID, 1L);
            registry.bindExporter(e, p);
            return this;
        }

        @Override
        public void close() {
            scope.close();
            assertThat(registry.liveCount()).as("live buffers").isZero();
            assertThat(system.released).as("system releases").hasValue(system.allocated.get());
            assertThat(cma.released).as("cma releases").hasValue(cma.allocated.get());
            assertThat(system.detached).as("system detaches").hasValue(system.attached.get());
            assertThat(system.unmapped).as("system unmaps").hasValue(system.mapped.get());
        }
    }

    /** A listening registry and a hostile peer connected to it, each a real socket. */
    private static final class Wire implements AutoCloseable {
        final Path dir;
        final StandaloneRegistry bob;
        final ChannelListener listener;
        final UnixSocket hostile;
        final BufferChannel in;

        Wire() throws Exception {
            dir = Files.createTempDirectory("badinput");
            bob = ChannelFixture.registry("bob");
            listener = bob.channels().listen(dir.resolve("run/c.sock"), ChannelOptions.sameUser());
            hostile = UnixSocket.connect(dir.resolve("run/c.sock"));
            in = listener.accept(Duration.ofSeconds(5));
        }

        /** Sends a message with the fds and has the receiver refuse it: the case's error. */
        Throwable refused(BadInputCase.Check c, byte[] data, int... fds) {
            return refusedNaming(c, new String[] {"on fd ", socketPath()}, data, fds);
        }

        /** {@link #refused}, the message naming {@code names}. */
        Throwable refusedNaming(BadInputCase.Check c, String[] names, byte[] data, int... fds) {
            hostile.send(data, fds);
            Throwable t = c.fails(() -> in.receive(Duration.ofSeconds(5)), names);
            assertThat(bob.bufinfo()).as("the refused frame's buffers are put").isEmpty();
            return t;
        }

        /** The path the refusal names: the listening socket's. */
        String socketPath() {
            return dir.resolve("run/c.sock").toString();
        }

        @Override
        public void close() throws Exception {
            in.close();
            hostile.close();
            listener.close();
            bob.close();
            try (Stream<Path> s = Files.walk(dir)) {
                s.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** System calls that make the other kinds of fd. */
    interface Calls extends Library {
        Calls C = Native.load("c", Calls.class);

        int eventfd(int initval, int flags);

        int timerfd_create(int clockid, int flags);

        int signalfd(int fd, byte[] mask, int flags);

        int epoll_create1(int flags);

        int pipe2(int[] fds, int flags);

        int socket(int domain, int type, int protocol);

        int socketpair(int domain, int type, int protocol, int[] fds);
    }

    private static final int O_PATH = 010000000;
    private static final int O_DIRECTORY = 0200000;
    private static final int F_SEAL_FUTURE_WRITE = 0x10;

    private final Map<String, BadInputCase.Body> bodies = new HashMap<>();
    private final Map<String, Boolean> wire = new HashMap<>();

    BadInputTest() {
        api();
        spi();
        config();
        fds();
        ioctls();
        wireMessages();
        plainJava();
        tools();
    }

    @TestFactory
    Stream<DynamicTest> badInput() {
        return BadInputTable.rows(MODULE).stream().map(r -> DynamicTest.dynamicTest(r.id() + ": " + r.input(), () -> {
            if (wire.containsKey(r.id())) {
                try (Wire w = new Wire()) {
                    current = w;
                    r.run(bodies.get(r.id()), MAPS);
                } finally {
                    current = null;
                }
            } else {
                try (Env e = new Env()) {
                    env = e;
                    r.run(bodies.get(r.id()), MAPS);
                } finally {
                    env = null;
                }
            }
        }));
    }

    @Test
    void everyRowOfTheModuleHasABodyAndEveryBodyARow() {
        BadInputTable.checkBodies(MODULE, bodies.keySet());
    }

    private Env env;
    private Wire current;

    private void body(String id, BadInputCase.Body b) {
        if (bodies.put(id, b) != null) {
            throw new IllegalStateException("two bodies for " + id);
        }
    }

    private void wireBody(String id, BadInputCase.Body b) {
        body(id, b);
        wire.put(id, true);
    }

    // ---- the API ----

    private void api() {
        body("api-01", c -> c.fails(() -> BufferRequest.ofSize(0)));
        body("api-02", c -> c.fails(() -> BufferRequest.ofSize(-1)));
        body("api-03", c -> c.fails(() -> BufferRequest.ofSize(Long.MIN_VALUE)));
        body("api-04", c -> c.fails(() -> env.scope.allocate(BufferRequest.ofSize((1L << 31) - 1))));
        body("api-05", c -> c.fails(() -> env.scope.allocate(BufferRequest.ofSize((1L << 31) + 1))));
        body("api-06", c -> c.fails(() -> env.scope.allocate(BufferRequest.ofSize(Long.MAX_VALUE))));
        body("api-07", c -> c.accepted(() -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(1))) {
                assertThat(b.requestedSize()).isEqualTo(1);
                assertThat(b.size()).as("a memfd's size is its file's").isEqualTo(1);
                try (CpuAccess a = b.beginCpuAccess(SyncDirection.WRITE)) {
                    a.putByte(0, (byte) 7);
                }
            }
        }));
        body("api-08", c -> c.fails(() -> BufferRequest.ofSize(4096).name("a".repeat(32))));
        body("api-09", c -> c.fails(() -> BufferRequest.ofSize(4096).name("€".repeat(11))));
        body("api-10", c -> c.fails(() -> BufferRequest.ofSize(4096).name("a\0b")));
        body("api-11", c -> c.fails(() -> BufferRequest.ofSize(4096).name("a\nexp_name:x")));
        body("api-12", c -> c.fails(() -> BufferRequest.ofSize(4096).name("a\u007f")));
        body("api-13", c -> c.fails(() -> BufferRequest.ofSize(4096).name("a\ud800b")));
        body("api-14", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096).name("kept"))) {
                c.fails(() -> {
                    b.setName("a".repeat(32));
                    return null;
                });
                assertThat(b.name()).isEqualTo("kept");
            }
        });
        body("api-15", c -> c.fails(() -> BufferRequest.ofFormat(PixelFormat.NV12, 0, 480)));
        body("api-16", c -> c.fails(() -> env.scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 64))));
        body("api-17", c -> c.fails(() -> DeviceConstraints.builder().strideAlignment(3)));
        body("api-18", c -> afterPut(c, DmaBuf::fd));
        body("api-19", c -> afterPut(c, DmaBuf::mmap));
        body("api-20", c -> afterPut(c, b -> b.attach(DEV)));
        body("api-21", c -> afterPut(c, b -> b.beginCpuAccess(SyncDirection.READ)));
        body("api-22", c -> afterPut(c, DmaBuf::get));
        body("api-23", c -> afterPut(c, b -> {
            b.put();
            return null;
        }));
        body("api-24", c -> {
            try (DmaBuf a = env.scope.allocate(BufferRequest.ofSize(4096));
                 DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                Attachment other = b.attach(DEV);
                c.fails(() -> a.map(other, DmaDirection.TO_DEVICE), "buffer #");
                other.close();
            }
        });
        body("api-25", c -> {
            try (DmaBuf a = env.scope.allocate(BufferRequest.ofSize(4096))) {
                Attachment at = a.attach(DEV);
                SgTable t = at.map(DmaDirection.TO_DEVICE);
                c.fails(() -> {
                    at.close();
                    return null;
                }, "dev0");
                t.close();
                at.close();
            }
        });
        body("api-26", c -> access(c, SyncDirection.WRITE, a -> a.getByte(0)));
        body("api-27", c -> access(c, SyncDirection.READ, a -> {
            a.putByte(0, (byte) 1);
            return null;
        }));
        body("api-28", c -> access(c, SyncDirection.WRITE, a -> {
            a.putLong(4092, 1);
            return null;
        }));
        body("api-29", c -> access(c, SyncDirection.READ, a -> a.getByte(-1)));
        body("api-30", c -> access(c, SyncDirection.READ, a -> {
            a.read(0, new byte[4097], 0, 4097);
            return null;
        }));
        body("api-31", c -> access(c, SyncDirection.READ, a -> a.byteBuffer(4000, 200)));
        body("api-32", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                CpuAccess a = b.beginCpuAccess(SyncDirection.READ);
                a.close();
                c.fails(() -> a.getByte(0));
            }
        });
        body("api-33", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                CpuAccess a = b.beginCpuAccess(SyncDirection.READ);
                a.close();
                c.fails(a::byteBuffer);
            }
        });
        body("api-34", c -> {
            DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096));
            MemoryView v = b.mmap();
            b.put();
            c.fails(() -> v.getByte(0));
        });
        body("api-35", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                c.fails(() -> b.beginCpuAccess(null));
            }
        });
        body("api-36", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                org.dmabuf.api.Attachment at = b.attach(org.dmabuf.api.Device.of("dev0",
                        org.dmabuf.api.DeviceConstraints.NONE));
                c.fails(() -> b.map(at, null));
                at.close();
            }
        });
        body("api-37", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                c.fails(() -> b.attach(null));
            }
        });
        body("api-38", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096))) {
                c.fails(() -> {
                    b.awaitIdle(SyncDirection.READ, null);
                    return null;
                });
            }
        });
    }

    private void afterPut(BadInputCase.Check c, java.util.function.Function<DmaBuf, Object> call) {
        DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096).name("gone"));
        b.put();
        c.fails(() -> call.apply(b), "buffer #");
    }

    private void access(BadInputCase.Check c, SyncDirection d, java.util.function.Function<CpuAccess, Object> call) {
        try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096)); CpuAccess a = b.beginCpuAccess(d)) {
            c.fails(() -> call.apply(a));
        }
    }

    // ---- the SPI ----

    /** An exporter whose allocate and adopt are the case's. */
    private record Bad(java.util.function.Function<AllocationRequest, ExportedBuffer> allocation,
            java.util.function.BiFunction<Integer, Long, ExportedBuffer> adoption) implements DmaBufExporter {
        @Override
        public ExportedBuffer allocate(AllocationRequest request) {
            return allocation.apply(request);
        }

        @Override
        public ExportedBuffer adopt(int fd, long size) {
            return adoption.apply(fd, size);
        }
    }

    /** Counts the releases of what a broken exporter made. */
    private static final class Counted extends FdBuffer {
        static final java.util.concurrent.atomic.AtomicInteger MADE = new java.util.concurrent.atomic.AtomicInteger();
        static final java.util.concurrent.atomic.AtomicInteger RELEASED =
                new java.util.concurrent.atomic.AtomicInteger();
        private final long claimed;
        private final BufferFormat format;

        Counted(Fd fd, long claimed, BufferFormat format) {
            super(fd, 0, BufferKind.MEMFD);
            this.claimed = claimed;
            this.format = format;
            MADE.incrementAndGet();
        }

        @Override
        public long size() {
            return claimed < 0 ? super.size() : claimed;
        }

        @Override
        public java.util.Optional<BufferFormat> format() {
            return java.util.Optional.ofNullable(format);
        }

        @Override
        public void release() {
            RELEASED.incrementAndGet();
            super.release();
        }
    }

    private static Fd memfd(String name, long size) {
        Fd fd = Sys.memfd("test-" + name, LibC.MFD_ALLOW_SEALING);
        Sys.ftruncate(fd.get(), size);
        return fd;
    }

    /** Allocates with a broken exporter first in line; every buffer it made is released. */
    private void spiAllocate(BadInputCase.Check c, java.util.function.Function<AllocationRequest, ExportedBuffer> a,
            long size, String... names) {
        int made = Counted.MADE.get();
        int released = Counted.RELEASED.get();
        env.with(new Bad(a, (fd, s) -> {
            throw new UnsupportedOperationException();
        }), "bad");
        c.fails(() -> env.scope.allocate(BufferRequest.ofSize(size).exporter("bad")), names);
        assertThat(Counted.RELEASED.get() - released).as("what the broken exporter made is released")
                .isEqualTo(Counted.MADE.get() - made);
    }

    private void spi() {
        body("spi-01", c -> spiAllocate(c, r -> null, 4096));
        body("spi-02", c -> spiAllocate(c, r -> {
            throw new IllegalStateException("driver bug");
        }, 4096));
        body("spi-03", c -> spiAllocate(c, r -> new Counted(memfd("short", 4096), -1, null), 8192));
        body("spi-04", c -> spiAllocate(c, r -> new Counted(memfd("claims", 4096), 8192, null), 4096));
        body("spi-05", c -> {
            int[] p = new int[2];
            assertThat(Calls.C.pipe2(p, LibC.O_CLOEXEC)).isZero();
            Fd write = new Fd(p[1], "pipe write end");
            Fd read = new Fd(p[0], "pipe read end");
            java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
            try (write) {
                spiAllocate(c, r -> new ForeignFd(read, released), 4096, "fd " + read.get());
            }
            assertThat(released).as("the core released the pipe's storage").isTrue();
            assertThat(read.isOpen()).isFalse();
        });
        body("spi-06", c -> {
            java.util.concurrent.atomic.AtomicBoolean released = new java.util.concurrent.atomic.AtomicBoolean();
            spiAllocate(c, r -> new ForeignFd(null, released), 4096);
            assertThat(released).as("the core released it").isTrue();
        });
        BufferFormat xr24 = BufferFormat.linear(PixelFormat.XBGR32, 64, 64);
        body("spi-07", c -> spiAllocate(c, r -> new Counted(memfd("fmt", 4096), -1, xr24), 4096));
        BufferFormat twoBuffers = new BufferFormat(BufferFormat.fourcc("NV12"), 64, 64,
                List.of(new Plane(0, 0, 4096, 64), new Plane(1, 0, 2048, 64)));
        body("spi-08", c -> spiAllocate(c, r -> new Counted(memfd("two", 8192), -1, twoBuffers), 8192));
        body("spi-09", c -> {
            try (Fd given = memfd("given", 4096)) {
                int released = Counted.RELEASED.get();
                env.with(new Bad(r -> null, (fd, s) -> new Counted(memfd("other", 4096), -1, null)), "bad");
                c.fails(() -> env.scope.get(given.get()), "fd " + given.get());
                assertThat(Counted.RELEASED.get()).as("the other file's storage is released").isEqualTo(released + 1);
            }
        });
        body("spi-10", c -> {
            try (Fd given = memfd("given", 4096)) {
                env.with(new Bad(r -> null, (fd, s) -> {
                    throw new IllegalStateException("adopt bug");
                }), "bad");
                c.fails(() -> env.scope.get(given.get()), "fd " + given.get());
            }
        });
    }

    /** Storage whose fd is not a buffer's (null: -1), released into a flag. */
    private static final class ForeignFd implements ExportedBuffer {
        private final Fd fd;
        private final java.util.concurrent.atomic.AtomicBoolean released;

        ForeignFd(Fd fd, java.util.concurrent.atomic.AtomicBoolean released) {
            this.fd = fd;
            this.released = released;
        }

        @Override
        public int fd() {
            return fd == null ? -1 : fd.get();
        }

        @Override
        public long inode() {
            return 0;
        }

        @Override
        public long size() {
            return 4096;
        }

        @Override
        public List<Segment> mapDmaBuf(Attachment attachment, DmaDirection direction) {
            return List.of();
        }

        @Override
        public MappedMemory mmap() {
            throw new UnsupportedOperationException();
        }

        @Override
        public void release() {
            released.set(true);
            if (fd != null) {
                fd.close();
            }
        }
    }

    // ---- an exporter's service properties ----

    private void config() {
        Object[][] bad = {{"cfg-01", DmaBufExporter.MAX_SIZE, -1L}, {"cfg-02", DmaBufExporter.MAX_SIZE, "64M"},
            {"cfg-03", DmaBufExporter.ALIGNMENT, 3L}, {"cfg-04", DmaBufExporter.SEGMENT_SIZE, 0L},
            {"cfg-05", DmaBufExporter.KIND, "dmabuf"}};
        for (Object[] b : bad) {
            body((String) b[0], c -> {
                TestExporter e = new TestExporter("bad", 1000).with((String) b[1], b[2]);
                c.fails(() -> {
                    env.registry.bindExporter(e, e.props);
                    return null;
                }, (String) b[1]);
                assertThat(env.registry.exporters()).as("the exporter is not used")
                        .extracting(org.dmabuf.api.ExporterInfo::name).containsExactly("system", "cma");
            });
        }
    }

    // ---- fd import ----

    /** get(fd) of an fd the body made, closed after; the error names the fd. */
    private void get(BadInputCase.Check c, Fd fd) {
        try (fd) {
            c.fails(() -> env.scope.get(fd.get()), "fd " + fd.get());
        }
    }

    private static Fd checked(int fd, String what) {
        if (fd < 0) {
            throw new AssertionError(what + ": " + Native.getLastError());
        }
        return new Fd(fd, what);
    }

    private static Fd[] pipe() {
        int[] p = new int[2];
        assertThat(Calls.C.pipe2(p, LibC.O_CLOEXEC)).isZero();
        return new Fd[] {new Fd(p[0], "pipe read end"), new Fd(p[1], "pipe write end")};
    }

    private void fds() {
        body("fd-01", c -> c.fails(() -> env.scope.get(-1)));
        body("fd-02", c -> {
            int never = TestSupport.neverOpenFd();
            c.fails(() -> env.scope.get(never), "fd " + never);
        });
        body("fd-03", c -> {
            int number;
            try (Fd m = memfd("closed", 4096); Fd high = TestSupport.highDuplicate(m.get(), "a copy")) {
                number = high.get();
            }
            c.fails(() -> env.scope.get(number), "fd " + number);
        });
        body("fd-04", c -> {
            DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096));
            Fd copy = TestSupport.highDuplicate(b.fd(), "a received copy");
            int number = copy.get();
            copy.close();
            b.close();
            Fd[] p = pipe();
            try (Fd w = p[1]; Fd r = p[0]; Fd reused = new Fd(Sys.fcntl(r.get(), LibC.F_DUPFD_CLOEXEC,
                    "F_DUPFD_CLOEXEC", number), "the pipe, at the old number")) {
                assertThat(reused.get()).as("the number is reused").isEqualTo(number);
                c.fails(() -> env.scope.get(number), "fd " + number);
            }
        });
        body("fd-05", c -> {
            DmaBuf old = env.scope.allocate(BufferRequest.ofSize(4096));
            Fd copy = TestSupport.highDuplicate(old.fd(), "a received copy");
            int number = copy.get();
            org.dmabuf.api.BufferId oldId = old.id();
            copy.close();
            old.close();
            try (Fd other = memfd("reused", 8192); Fd reused = new Fd(Sys.fcntl(other.get(),
                    LibC.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC", number), "another memfd, at the old number")) {
                assertThat(reused.get()).isEqualTo(number);
                c.accepted(() -> {
                    try (DmaBuf b = env.scope.get(number)) {
                        assertThat(b.id()).as("the file the number names now, by (st_dev, st_ino)")
                                .isEqualTo(Sys.fstat(other.get()).id()).isNotEqualTo(oldId);
                        assertThat(b.size()).isEqualTo(8192);
                    }
                });
            }
        });
        body("fd-06", c -> {
            Path f = Files.createTempFile("badinput", ".bin");
            try {
                get(c, checked(LibC.open(f.toString(), O_PATH | LibC.O_CLOEXEC, 0), "O_PATH"));
            } finally {
                Files.delete(f);
            }
        });
        body("fd-07", c -> {
            try (Fd m = memfd("opath", 4096)) {
                get(c, checked(LibC.open("/proc/self/fd/" + m.get(), O_PATH | LibC.O_CLOEXEC, 0), "O_PATH memfd"));
            }
        });
        body("fd-08", c -> get(c, checked(Calls.C.eventfd(0, LibC.O_CLOEXEC), "eventfd")));
        body("fd-09", c -> {
            Fd[] p = pipe();
            try (Fd w = p[1]) {
                get(c, p[0]);
            }
        });
        body("fd-10", c -> {
            Fd[] p = pipe();
            try (Fd r = p[0]) {
                get(c, p[1]);
            }
        });
        body("fd-11", c -> get(c, checked(Calls.C.socket(2, 1 | LibC.O_CLOEXEC, 0), "TCP socket")));
        body("fd-12", c -> {
            int[] sv = new int[2];
            assertThat(Calls.C.socketpair(1, 5 | LibC.O_CLOEXEC, 0, sv)).isZero();
            try (Fd other = new Fd(sv[1], "socketpair")) {
                get(c, new Fd(sv[0], "socketpair"));
            }
        });
        body("fd-13", c -> {
            Path d = Files.createTempDirectory("badinput");
            try {
                Fd fd = Sys.open(d.toString(), O_DIRECTORY);
                try (fd) {
                    c.fails(() -> env.scope.get(fd.get()), "fd " + fd.get(), d.toString());
                }
            } finally {
                Files.delete(d);
            }
        });
        body("fd-14", c -> get(c, Sys.open("/dev/null", LibC.O_RDWR)));
        body("fd-15", c -> get(c, Sys.open("/dev/zero", LibC.O_RDWR)));
        body("fd-16", c -> {
            Path f = Files.createTempFile("badinput", ".bin");
            try {
                Files.write(f, new byte[4096]);
                Fd fd = Sys.open(f.toString(), LibC.O_RDWR);
                try (fd) {
                    c.fails(() -> env.scope.get(fd.get()), "fd " + fd.get(), f.toString());
                }
            } finally {
                Files.delete(f);
            }
        });
        body("fd-18", c -> get(c, checked(Calls.C.timerfd_create(1, LibC.O_CLOEXEC), "timerfd")));
        body("fd-19", c -> {
            byte[] mask = new byte[128];
            mask[1] = 1 << (10 - 1 - 8); // SIGUSR1, blocked by nobody: the fd is only made, never read
            get(c, checked(Calls.C.signalfd(-1, mask, LibC.O_CLOEXEC), "signalfd"));
        });
        body("fd-20", c -> get(c, checked(Calls.C.epoll_create1(LibC.O_CLOEXEC), "epoll")));
        body("fd-21", c -> {
            try (Fd m = memfd("unsealed", 4096)) {
                c.accepted(() -> {
                    try (DmaBuf b = env.scope.get(m.get())) {
                        assertThat(b.kind()).contains(BufferKind.MEMFD);
                        assertThat(Sys.fcntl(m.get(), LibC.F_GET_SEALS, "F_GET_SEALS", 0)
                                & (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW)).as("sealed on adoption")
                                .isEqualTo(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
                    }
                });
            }
        });
        body("fd-22", c -> {
            Fd m = Sys.memfd("test-unsealable", 0);
            Sys.ftruncate(m.get(), 4096);
            get(c, m);
        });
        body("fd-23", c -> sealedThenMapped(c, LibC.F_SEAL_WRITE));
        body("fd-24", c -> sealedThenMapped(c, F_SEAL_FUTURE_WRITE));
        body("fd-25", c -> {
            try (Fd m = memfd("readonly", 4096)) {
                Sys.fcntl(m.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
                try (Fd ro = Sys.open("/proc/self/fd/" + m.get(), LibC.O_RDONLY); DmaBuf b = env.scope.get(ro.get())) {
                    c.fails(b::mmap, "fd ", "memfd adopted from fd " + ro.get());
                }
            }
        });
        body("fd-26", c -> {
            try (Fd m = memfd("readonly", 4096); Fd ro = Sys.open("/proc/self/fd/" + m.get(), LibC.O_RDONLY)) {
                c.fails(() -> env.scope.get(ro.get()), "fd ");
            }
        });
        body("fd-27", c -> get(c, memfd("empty", 0)));
    }

    private void sealedThenMapped(BadInputCase.Check c, int seal) {
        try (Fd m = memfd("sealed", 4096)) {
            Sys.fcntl(m.get(), LibC.F_ADD_SEALS, "F_ADD_SEALS", seal);
            try (DmaBuf b = env.scope.get(m.get())) {
                c.fails(b::mmap, "memfd adopted from fd " + m.get());
            }
        }
    }

    // ---- ioctls ----

    private void ioctls() {
        body("io-01", c -> {
            try (Fd m = memfd("sync", 4096)) {
                c.fails(() -> {
                    DmaBufUapi.sync(m.get(), false, SyncDirection.READ);
                    return null;
                }, "fd " + m.get());
            }
        });
        body("io-02", c -> {
            try (DmaBuf b = env.scope.allocate(BufferRequest.ofSize(4096).name("nofence"))) {
                c.fails(() -> b.exportFence(SyncDirection.READ), "nofence");
            }
        });
        body("io-03", c -> {
            Fd[] p = pipe();
            try (Fd r = p[0]; Fd w = p[1]) {
                c.fails(() -> SyncFile.dup(r.get()), "fd " + r.get());
            }
        });
    }

    // ---- wire messages ----

    private static final byte[] X = {'x'};

    /** A version 2 frame of one buffer without a format, as the encoder writes it. */
    private static ByteBuffer v2(long size) {
        return ByteBuffer.wrap(WireFormat.encode(1, 1, "x", "memfd", new long[] {size}, null))
                .order(ByteOrder.LITTLE_ENDIAN);
    }

    /** A version 2 frame with a format: header, buffer sizes, planes, "x", "x". */
    private static byte[] v2Frame(int buffers, int fences, int fourcc, int width, int height, long[] sizes,
            long[][] planes, byte[] name) {
        ByteBuffer b = ByteBuffer.allocate(WireFormat.HEADER_V2 + sizes.length * 8 + planes.length * 24
                + name.length + 1).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(WireFormat.MAGIC).putShort((short) 2).putShort((short) 1).putInt(b.capacity()).putInt(0);
        b.putLong(1).putLong(1).put((byte) buffers).put((byte) fences).put((byte) planes.length).put((byte) 0)
                .put((byte) name.length).put((byte) 1).putShort((short) 0).putInt(fourcc).putInt(width)
                .putInt(height).putInt(0).putLong(0);
        for (long s : sizes) {
            b.putLong(s);
        }
        for (long[] p : planes) {
            b.putInt((int) p[0]).putInt((int) p[1]).putLong(p[2]).putLong(p[3]);
        }
        b.put(name).put(X);
        return b.array();
    }

    /** Sends {@code data} with one memfd of {@code size} bytes and has it refused. */
    private void refusedWith(BadInputCase.Check c, byte[] data, long size) {
        try (Fd m = memfd("wire", size)) {
            current.refused(c, data, m.get());
        }
    }

    private void wireMessages() {
        int nv12 = BufferFormat.fourcc("NV12");
        wireBody("w-01", c -> {
            current.hostile.send(new byte[0]);
            c.fails(() -> current.in.receive(Duration.ofSeconds(5)), "on fd ", current.socketPath());
        });
        wireBody("w-02", c -> refusedWith(c, new byte[10], 4096));
        wireBody("w-03", c -> {
            byte[] m = WireFormat.encode(4096, 1, "x", "memfd", null);
            m[0] = m[1] = m[2] = m[3] = 0;
            refusedWith(c, m, 4096);
        });
        wireBody("w-04", c -> refusedWith(c, v2(4096).putShort(4, (short) 3).array(), 4096));
        wireBody("w-05", c -> refusedWith(c, v2(4096).putShort(4, (short) 0).array(), 4096));
        wireBody("w-06", c -> refusedWith(c, v2(4096).putShort(6, (short) 7).array(), 4096));
        wireBody("w-07", c -> {
            ByteBuffer b = v2(4096);
            refusedWith(c, b.putInt(8, b.capacity() + 1).array(), 4096);
        });
        wireBody("w-08", c -> {
            byte[] m = v2(4096).array();
            refusedWith(c, java.util.Arrays.copyOf(m, m.length - 1), 4096);
        });
        wireBody("w-09", c -> {
            byte[] m = WireFormat.encodeV1(4096, 1, "x", "memfd", null);
            byte[] cut = java.util.Arrays.copyOf(m, 40);
            ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 40);
            refusedWith(c, cut, 4096);
        });
        wireBody("w-10", c -> {
            byte[] cut = java.util.Arrays.copyOf(v2(4096).array(), 60);
            ByteBuffer.wrap(cut).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 60);
            refusedWith(c, cut, 4096);
        });
        wireBody("w-11", c -> {
            byte[] m = WireFormat.encodeV1(4096, 1, "x", "memfd", null);
            m[12] = WireFormat.RELEASE_WANTED;
            refusedWith(c, m, 4096);
        });
        wireBody("w-12", c -> refusedWith(c, v2(4096).putInt(12, 2).array(), 4096));
        wireBody("w-13", c -> refusedWith(c, v2Frame(0, 0, 0, 0, 0, new long[0], new long[0][], X), 4096));
        wireBody("w-14", c -> refusedWith(c, v2Frame(5, 0, 0, 0, 0, new long[] {4096, 4096, 4096, 4096, 4096},
                new long[0][], X), 4096));
        wireBody("w-15", c -> refusedWith(c, v2(4096).put(33, (byte) 2).array(), 4096));
        wireBody("w-16", c -> refusedWith(c, v2Frame(1, 0, nv12, 64, 64, new long[] {8192},
                new long[][] {{0, 64, 0, 4096}, {1, 64, 4096, 2048}}, X), 8192));
        wireBody("w-17", c -> refusedWith(c, v2Frame(1, 0, nv12, 64, 64, new long[] {4096},
                new long[][] {{0, 64, 0, 4096}, {0, 64, 4096, 2048}}, X), 4096));
        wireBody("w-18", c -> refusedWith(c, v2(4096).array(), 8192));
        wireBody("w-19", c -> refusedWith(c, v2(4096).putLong(64, 0).array(), 4096));
        wireBody("w-20", c -> refusedWith(c, v2Frame(1, 0, 0, 0, 0, new long[] {4096}, new long[0][],
                new byte[] {'a', (byte) 0xff}), 4096));
        wireBody("w-21", c -> refusedWith(c, v2Frame(1, 0, 0, 0, 0, new long[] {4096}, new long[0][],
                new byte[] {'a', 0, 'b'}), 4096));
        wireBody("w-22", c -> refusedWith(c, ChannelTest.rawFrame(4096, 1, "a\nb".getBytes(StandardCharsets.UTF_8),
                X, 0, 0, 0, 0), 4096));
        wireBody("w-23", c -> current.refused(c, v2(4096).array()));
        wireBody("w-24", c -> {
            try (Fd a = memfd("wire", 4096); Fd b = memfd("wire", 4096)) {
                current.refused(c, v2(4096).array(), a.get(), b.get());
            }
        });
        wireBody("w-25", c -> {
            Fd[] p = pipe();
            try (Fd r = p[0]; Fd w = p[1]) {
                current.refusedNaming(c, new String[] {"fd "}, v2(4096).array(), r.get());
            }
        });
        wireBody("w-26", c -> {
            try (Fd m = memfd("wire", 4096)) {
                current.refusedNaming(c, new String[] {current.socketPath()}, new byte[600], m.get());
            }
        });
        wireBody("w-27", c -> refusedWith(c, v2Frame(1, 0, nv12, 64, 64, new long[] {8192}, new long[0][], X),
                8192));
        wireBody("w-28", c -> refusedWith(c, v2Frame(1, 0, nv12, 0, 64, new long[] {8192},
                new long[][] {{0, 64, 0, 4096}}, X), 8192));
        wireBody("w-29", c -> refusedWith(c, ChannelTest.rawFrame(8192, 1, X, X, nv12, 64, 128, 64), 8192));
        wireBody("w-30", c -> {
            byte[] r = java.util.Arrays.copyOf(WireFormat.encodeRelease(1), 20);
            ByteBuffer.wrap(r).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 20);
            current.refused(c, r);
        });
        wireBody("w-31", c -> refusedWith(c, WireFormat.encodeRelease(1), 4096));
        wireBody("w-32", c -> {
            byte[] r = WireFormat.encodeRelease(1);
            r[12] = 1;
            current.refused(c, r);
        });
        wireBody("w-33", c -> current.refused(c, WireFormat.encodeRelease(77)));
    }

    // ---- plain Java: DmaBufs ----

    /** A provider of this test: its PID, a factory PID or not, opening as {@code open} says. */
    private static ExporterProvider provider(String pid, boolean factory,
            java.util.function.Consumer<ExporterSite> open) {
        return new ExporterProvider() {
            @Override
            public String pid() {
                return pid;
            }

            @Override
            public boolean factory() {
                return factory;
            }

            @Override
            public boolean openWithoutConfiguration() {
                return false;
            }

            @Override
            public void open(ExporterSite site) {
                open.accept(site);
            }
        };
    }

    /** A folder holding one file of this name, for {@code configurationFolder}; deleted after. */
    private static void folderWith(BadInputCase.Check c, String file) throws Exception {
        Path dir = Files.createTempDirectory("badinput");
        Path f = dir.resolve(file);
        Files.writeString(f, "dev.path=/dev/video0\n");
        try {
            c.fails(() -> DmaBufs.builder().discover(false).configurationFolder(dir), f.toString());
        } finally {
            Files.delete(f);
            Files.delete(dir);
        }
    }

    private void plainJava() {
        body("java-05", c -> c.accepted(() -> {
            try (DmaBufs d = DmaBufs.builder().discover(false).owner("bad-input")
                    .configure("org.dmabuf.exporter.drm~card0", Map.of("dev.path", "/dev/dri/card0")).open()) {
                assertThat(d.fallbacks()).containsExactly("org.dmabuf.exporter.drm~card0: no exporter provider has "
                        + "PID org.dmabuf.exporter.drm (is its jar on the class path or module path?): "
                        + "configuration not used");
                assertThat(d.importers()).isEmpty();
                assertThat(d.exporters()).isEmpty();
            }
        }));
        body("java-08", c -> {
            Path dir = Files.createTempDirectory("badinput");
            try {
                Path missing = dir.resolve("conf");
                c.fails(() -> DmaBufs.builder().discover(false).configurationFolder(missing), missing.toString());
            } finally {
                Files.delete(dir);
            }
        });
        body("java-09", c -> folderWith(c, "~x.cfg"));
        body("java-10", c -> folderWith(c, ".cfg"));
        body("java-11", c -> {
            List<DmaBuf> held = new java.util.ArrayList<>();
            // the first provider (PIDs open in order) adds an exporter, allocates and maps a buffer and keeps an fd
            ExporterProvider opens = provider("a.opens", false, site -> {
                TestExporter e = new TestExporter("opened", 100);
                site.addExporter(e, e.props);
                DmaBuf b = site.registry().allocate(BufferRequest.ofSize(4096).exporter("opened"));
                b.mmap();
                held.add(b);
                site.onClose(Sys.memfd("bad-input-kept", 0));
            });
            ExporterProvider fails = provider("b.fails", true, site -> {
                throw new org.dmabuf.api.DmaBufException("open", "ENOENT", "/dev/video9: no such node");
            });
            c.fails(() -> DmaBufs.builder().discover(false).owner("bad-input").provider(fails).provider(opens)
                    .configure("a.opens", Map.of()).configure("b.fails~camera", Map.of()).open());
            assertThat(held).as("the first provider opened before the failure").hasSize(1);
            assertThat(held.get(0).isPut()).as("its buffer is released").isTrue();
        });
    }

    // ---- the tools: the gateway's --dump and --doctor ----

    private void tools() {
        body("tool-01", c -> c.exits(out -> SystemBuffers.run(List.of("--pid", "0"), out)));
        body("tool-02", c -> c.exits(out -> SystemBuffers.run(List.of("--pid", "x"), out)));
        body("tool-03", c -> c.exits(out -> SystemBuffers.run(List.of("--json", "--pid"), out)));
        body("tool-04", c -> c.exits(out -> SystemBuffers.run(List.of("--bogus"), out)));
        body("tool-05", c -> c.exits(out -> Doctor.run(List.of("--bogus"), out)));
    }
}
