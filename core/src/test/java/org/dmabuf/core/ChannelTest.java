package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Test;

/**
 * Buffer channels in one process: two registries (two "processes" as far as buffers go) on either end of a real
 * Unix-domain socket, and a hostile peer speaking raw sockets. Nothing may leak, whatever the peer sends.
 */
class ChannelTest extends ChannelFixture {
    @Test
    void aBufferCrossesWithItsMetadataAndBothSidesSeeTheSameMemory() {
        BufferFormat yuyv = new BufferFormat(BufferFormat.fourcc("YUYV"), 128, 64, List.of(new Plane(0, 16384, 256)));
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf frame = alice.allocate(BufferRequest.ofSize(16384).name("frame-7").format(yuyv))) {
            assertThat(in.peer().uid()).isEqualTo(SocketLibC.getuid());
            assertThat(in.peer().pid()).isEqualTo(ProcessHandle.current().pid());
            fill(frame, 7);
            out.send(frame, 7);
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.tag()).isEqualTo(7);
                assertThat(r.name()).isEqualTo("frame-7");
                assertThat(r.exporter()).as("the kernel's exp_name").isEqualTo("memfd");
                assertThat(r.buffer().size()).isEqualTo(frame.size());
                assertThat(r.format()).hasValueSatisfying(f -> {
                    assertThat(f.fourccName()).isEqualTo("YUYV");
                    assertThat(f.width()).isEqualTo(128);
                    assertThat(f.planes().get(0).stride()).isEqualTo(256);
                });
                DmaBuf got = r.buffer();
                assertThat(got.inode()).isEqualTo(frame.inode());
                assertThat(bob.bufinfo()).singleElement().satisfies(i -> assertThat(i.owner()).isEqualTo("bob"));
                try (CpuAccess a = got.beginCpuAccess(SyncDirection.READ_WRITE)) {
                    assertThat(a.getByte(1000)).isEqualTo(PeerMain.pattern(1000, 7));
                    a.putLong(0, 0xfeedL);
                }
            }
            try (CpuAccess a = frame.beginCpuAccess(SyncDirection.READ)) {
                assertThat(a.getLong(0)).as("the answer, read in place").isEqualTo(0xfeedL);
            }
            int seals = Sys.fcntl(frame.fd(), LibC.F_GET_SEALS, "F_GET_SEALS", 0);
            assertThat(seals & (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW))
                    .as("a shared memfd is sealed against resizing").isEqualTo(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
        }
        assertThat(bob.bufinfo()).isEmpty();
    }

    @Test
    void receiveTimesOutWithNullAndThePeersCloseIsTheEndOfStream() throws Exception {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5))) {
            assertThat(in.receive(Duration.ofMillis(50))).isNull();
            out.close();
            assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("EPIPE").hasMessageContaining("the peer closed the connection");
        }
        assertThat(listener.accept(Duration.ofMillis(20))).isNull();
    }

    /**
     * True while the thread waits in the socket's poll or recvmsg (a receive without a timeout waits in recvmsg
     * itself): a receive blocked for want of a message.
     */
    static boolean waitingInTheSocket(Thread t) {
        for (StackTraceElement e : t.getStackTrace()) {
            if (e.getClassName().equals(SocketLibC.class.getName()) && (e.getMethodName().equals("poll")
                    || e.getMethodName().equals("recvmsg"))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aBlockedReceiveReturnsWhenAFrameArrivesAndFailsTypedWhenTheChannelIsClosed() throws Exception {
        ExecutorService receiver = Executors.newSingleThreadExecutor();
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf frame = alice.allocate(BufferRequest.ofSize(4096).name("late"))) {
            AtomicReference<Thread> thread = new AtomicReference<>();
            CountDownLatch receiving = new CountDownLatch(1);
            Callable<ReceivedBuffer> receive = () -> {
                thread.set(Thread.currentThread());
                receiving.countDown();
                return in.receive(null);
            };
            Future<ReceivedBuffer> first = receiver.submit(receive);
            assertThat(receiving.await(10, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> waitingInTheSocket(thread.get()));
            assertThat(first).as("blocked while nothing was sent").isNotDone();
            out.send(frame, 42);
            try (ReceivedBuffer r = first.get(10, TimeUnit.SECONDS)) {
                assertThat(r.tag()).isEqualTo(42);
                assertThat(r.name()).isEqualTo("late");
            }

            CountDownLatch again = new CountDownLatch(1);
            Future<ReceivedBuffer> second = receiver.submit(() -> {
                again.countDown();
                return in.receive(null);
            });
            assertThat(again.await(10, TimeUnit.SECONDS)).isTrue();
            await().atMost(Duration.ofSeconds(10)).until(() -> waitingInTheSocket(thread.get()));
            assertThat(second).isNotDone();
            in.close();
            assertThatThrownBy(() -> second.get(10, TimeUnit.SECONDS)).isInstanceOf(ExecutionException.class)
                    .cause().isInstanceOf(DmaBufException.class).hasMessageContaining("EPIPE")
                    .hasMessageContaining("the socket was closed");
        } finally {
            receiver.shutdownNow();
            assertThat(receiver.awaitTermination(10, TimeUnit.SECONDS)).isTrue();
        }
    }

    @Test
    void theSocketIs0600InA0700FolderAndAFolderOthersCanReachIsRefused() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socketPath.getParent())))
                .isEqualTo("rwx------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(socketPath)))
                .isEqualTo("rw-------");
        Path open = Files.createDirectory(tmp.resolve("open"),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        Files.setPosixFilePermissions(open, PosixFilePermissions.fromString("rwxr-xr-x"));
        assertThatThrownBy(() -> bob.channels().listen(open.resolve("x.sock"), ChannelOptions.sameUser()))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("listen: EACCES")
                .hasMessageContaining(open.toString()).hasMessageContaining("rwxr-xr-x");
    }

    @Test
    void aLiveSocketFileIsRefusedAndAStaleOneIsReplaced() throws Exception {
        assertThatThrownBy(() -> alice.channels().listen(socketPath, ChannelOptions.sameUser()))
                .isInstanceOf(LinuxException.class).hasMessageContaining("EADDRINUSE")
                .hasMessageContaining("another process listens there");
        Path stale = socketPath.resolveSibling("stale.sock");
        UnixSocket.listen(stale, 0600).close(); // leaves the file behind, as a killed process would
        assertThat(Files.exists(stale)).isTrue();
        try (ChannelListener again = alice.channels().listen(stale, ChannelOptions.sameUser())) {
            assertThat(again.path()).isEqualTo(stale);
        }
    }

    @Test
    void aPeerWhoseUidIsNotAllowedIsDisconnected() throws Exception {
        int stranger = SocketLibC.getuid() + 4242;
        assertThatThrownBy(() -> alice.channels().connect(socketPath, ChannelOptions.allowUids(stranger)))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("connect: EACCES")
                .hasMessageContaining("runs as uid " + SocketLibC.getuid()).hasMessageContaining("not allowed");
        int gid = (Integer) Files.getAttribute(socketPath.getParent(), "unix:gid");
        Path strictDir = tmp.resolve("strict");
        try (ChannelListener strict = bob.channels().listen(strictDir.resolve("strict.sock"),
                ChannelOptions.allowUids(stranger).withGroup(gid));
             BufferChannel out = alice.channels().connect(strict.path(), ChannelOptions.sameUser())) {
            assertThatThrownBy(() -> strict.accept(Duration.ofSeconds(5))).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("accept: EACCES").hasMessageContaining("pid " + ProcessHandle.current().pid());
            assertThatThrownBy(() -> out.receive(Duration.ofSeconds(5))).hasMessageContaining("EPIPE");
        }
    }

    @Test
    void aHostilePeerChangesNothingForTheReceiver() throws Exception {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf real = alice.allocate(BufferRequest.ofSize(8192).name("real"))) {
            fill(real, 3);
            long baseline = Leaks.openFds();
            try (Fd m1 = memfd(8192); Fd m2 = memfd(8192)) {
                long withOurs = Leaks.openFds();
                // garbage with an fd
                hostile.send("not a frame at all, but long enough to have a header........".getBytes(), m1.get());
                expectRefused(in, "EPROTO", "bad magic");
                // a valid frame with an fd flood
                hostile.send(WireFormat.encode(8192, 1, "flood", "x", null), m1.get(), m2.get(), m1.get(), m2.get());
                expectRefused(in, "EPROTO", "exactly one fd, this one 4");
                // a valid frame with no fd
                hostile.send(WireFormat.encode(8192, 1, "none", "x", null));
                expectRefused(in, "EPROTO", "exactly one fd, this one 0");
                // as many fds as the control buffer holds: all arrive, all are closed
                int[] sixteen = new int[16];
                java.util.Arrays.fill(sixteen, m1.get());
                hostile.send(WireFormat.encode(8192, 1, "sixteen", "x", null), sixteen);
                expectRefused(in, "EPROTO", "exactly one fd, this one 16");
                // an oversized frame
                hostile.send(new byte[1000], m1.get());
                expectRefused(in, "EMSGSIZE", "longer than 512 bytes");
                // a size larger than the buffer behind the fd
                hostile.send(WireFormat.encode(1 << 20, 1, "liar", "x", null), m1.get());
                expectRefused(in, "EPROTO", "the frame says 1048576 bytes but the fd's buffer has 8192 (buffer 0)");
                // a frame whose length field lies
                byte[] f = WireFormat.encode(8192, 1, "len", "x", null);
                ByteBuffer.wrap(f).order(ByteOrder.LITTLE_ENDIAN).putInt(8, 9999);
                hostile.send(f, m1.get());
                expectRefused(in, "EPROTO", "length field says 9999");
                assertThat(Leaks.openFds()).as("every fd the hostile peer sent was closed").isEqualTo(withOurs);
            }
            assertThat(Leaks.openFds()).isEqualTo(baseline);
            assertThat(bob.bufinfo()).isEmpty();
            // the channel still works for a well-formed frame
            hostile.send(WireFormat.encode(real.size(), 9, "good", "system", null), real.fd());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.name()).isEqualTo("good");
                assertThat(r.buffer().mmap().getByte(5)).isEqualTo(PeerMain.pattern(5, 3));
            }
        }
    }

    @Test
    void aHostileReceiverCannotTruncateASharedMemfd() {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel toHostile = listener.accept(Duration.ofSeconds(5));
             DmaBuf shared = bob.allocate(BufferRequest.ofSize(65536).name("shared"))) {
            fill(shared, 11);
            toHostile.send(shared, 11);
            try (UnixSocket.Message m = hostile.receive(256, Duration.ofSeconds(5))) {
                int fd = m.fds().get(0).get();
                assertThatThrownBy(() -> Sys.ftruncate(fd, 0)).isInstanceOf(LinuxException.class)
                        .hasMessageContaining("ftruncate: EPERM");
                assertThatThrownBy(() -> Sys.ftruncate(fd, 1 << 20)).hasMessageContaining("EPERM");
                assertThatThrownBy(() -> Sys.fcntl(fd, LibC.F_ADD_SEALS, "F_ADD_SEALS", LibC.F_SEAL_WRITE))
                        .as("nor freeze it against the owner's writes").isInstanceOf(LinuxException.class);
            }
            assertThat(shared.mmap().getByte(65535)).isEqualTo(PeerMain.pattern(65535, 11));
        }
    }


    /** A version 1 frame as a hostile peer writes it: any field, any bytes. */
    static byte[] rawFrame(long size, long tag, byte[] name, byte[] exporter, int fourcc, int width, int height,
            int stride) {
        ByteBuffer b = ByteBuffer.allocate(WireFormat.HEADER_V1 + name.length + exporter.length)
                .order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(WireFormat.MAGIC).putShort((short) 1).putShort((short) 1).putInt(b.capacity()).putInt(0);
        b.putLong(size).putLong(tag).putInt(fourcc).putInt(width).putInt(height).putInt(stride);
        b.put((byte) name.length).put((byte) exporter.length).putShort((short) 0).put(name).put(exporter);
        return b.array();
    }

    static byte[] utf8(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aFrameThatDoesNotMatchItsBufferOrHasBadTextIsRefusedAndTheChannelStaysUsable() throws Exception {
        int yuyv = BufferFormat.fourcc("YUYV");
        int xr24 = BufferFormat.fourcc("XR24");
        int nv12 = BufferFormat.fourcc("NV12");
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf real = alice.allocate(BufferRequest.ofSize(8192).name("real"))) {
            fill(real, 4);
            long baseline = Leaks.openFds();
            byte[] x = utf8("x");
            Object[][] refused = {
                {rawFrame(4096, 1, x, x, 0, 0, 0, 0), "the frame says 4096 bytes but the fd's buffer has 8192"},
                {rawFrame(8192, 1, new byte[] {'a', 0, 'b'}, x, 0, 0, 0, 0), "name holds the control character U+0000"},
                {rawFrame(8192, 1, utf8("x\nexp_name:\tudmabuf"), x, 0, 0, 0, 0), "control character U+000A"},
                {rawFrame(8192, 1, new byte[] {'a', (byte) 0xff}, x, 0, 0, 0, 0), "the name is not valid UTF-8"},
                {rawFrame(8192, 1, x, new byte[] {(byte) 0xc3}, 0, 0, 0, 0), "the exporter is not valid UTF-8"},
                {rawFrame(8192, 1, x, new byte[] {'m', 0}, 0, 0, 0, 0), "exporter holds the control character"},
                {rawFrame(8192, 1, x, x, 0, 64, 0, 0), "no format (fourcc 0) but geometry 64x0 stride 0"},
                {rawFrame(8192, 1, x, x, 0, 0, 0, 128), "no format (fourcc 0) but geometry 0x0 stride 128"},
                {rawFrame(8192, 1, x, x, yuyv, 64, 32, 100), "plane 0 has a stride of 100 bytes, less than a line of "
                        + "128"},
                {rawFrame(8192, 1, x, x, BufferFormat.fourcc("ABCD"), 64, 32, 63), "stride 63 is smaller than a "
                        + "line of 64 bytes"},
                {rawFrame(8192, 1, x, x, xr24, 64, 64, 256), "plane 0 (offset 0, length 16384) ends at 16384, beyond "
                        + "the 8192 bytes of buffer 0"},
                {rawFrame(8192, 1, x, x, nv12, 64, 128, 64), "plane 1 (offset 8192, length 4096) ends at 12288, "
                        + "beyond the 8192 bytes of buffer 0"},
                {rawFrame(8192, 1, x, x, BufferFormat.fourcc("YU12"), 64, 128, 64), "plane 1 (offset 8192, length "
                        + "2048) ends at 10240, beyond the 8192 bytes of buffer 0"},
                {rawFrame(8192, 1, x, x, yuyv, -1, 1, -1), "is not a size in pixels"},
            };
            for (Object[] r : refused) {
                hostile.send((byte[]) r[0], real.fd());
                expectRefused(in, "EPROTO", (String) r[1]);
                assertThat(Leaks.openFds()).as("the fd of the frame refused for %s", r[1]).isEqualTo(baseline);
                assertThat(bob.bufinfo()).as("the buffer of the frame refused for %s is put", r[1]).isEmpty();
            }
            // what the rules allow: an NV12 image that fits, a line of exactly the stride; version 1's one stride
            // becomes both planes, the chroma plane right after the luma plane
            hostile.send(rawFrame(8192, 5, utf8("nv12"), x, nv12, 64, 64, 64), real.fd());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.format()).contains(new BufferFormat(nv12, 64, 64, List.of(new Plane(0, 4096, 64),
                        new Plane(4096, 2048, 64))));
                assertThat(r.buffer().mmap().getByte(100)).isEqualTo(PeerMain.pattern(100, 4));
            }
            hostile.send(rawFrame(8192, 6, utf8("é"), x, yuyv, 64, 64, 128), real.fd());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.name()).isEqualTo("é");
            }
        }
    }

    @Test
    void namesWithControlCharactersAreSentWithoutThem() {
        String named = "a\nb\u0000c\u007f";
        byte[] f = WireFormat.encode(4096, 1, named, "exp\tname", null);
        WireFormat.Frame d = WireFormat.decode(f);
        assertThat(d.name()).isEqualTo("a?b?c?");
        assertThat(d.exporter()).isEqualTo("exp?name");
    }

    @Test
    void theSenderRefusesAFrameTheReceiverWouldRefuseAndSendsNothing() {
        BufferFormat xr24 = BufferFormat.linear(PixelFormat.XBGR32, 64, 64);
        BufferFormat nv12m = BufferFormat.linear(PixelFormat.NV12M, 64, 64);
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf small = alice.allocate(BufferRequest.ofSize(4096).name("small"))) {
            long fds = Leaks.openFds();
            assertThatThrownBy(() -> out.send(frameOf(xr24, small), 1, Duration.ofSeconds(5)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("send: EINVAL")
                    .hasMessageContaining("plane 0 (offset 0, length 16384) ends at 16384, beyond the 4096 bytes of "
                            + "buffer 0");
            assertThatThrownBy(() -> out.send(frameOf(nv12m, small), 2, Duration.ofSeconds(5)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("send: EINVAL")
                    .hasMessageContaining("names 2 buffers, not 1");
            assertThat(in.receive(Duration.ZERO)).as("nothing was sent").isNull();
            assertThat(Leaks.openFds()).isEqualTo(fds);
        }
    }

    /** A frame of these buffers, which stay the caller's: closing it puts nothing. */
    static FrameBuffer frameOf(BufferFormat format, DmaBuf... buffers) {
        return new FrameBuffer() {
            @Override
            public BufferFormat format() {
                return format;
            }

            @Override
            public List<DmaBuf> buffers() {
                return List.of(buffers);
            }

            @Override
            public void close() {
            }
        };
    }

    @Test
    void anUntypedFailureWhileTakingTheFdIsRefusedAsEproto() {
        DmaBufRegistry broken = (DmaBufRegistry) java.lang.reflect.Proxy.newProxyInstance(
                getClass().getClassLoader(), new Class<?>[] {DmaBufRegistry.class}, (proxy, method, args) -> {
                    if (method.getName().equals("get")) {
                        throw new NumberFormatException("For input string: \"z\"");
                    }
                    throw new UnsupportedOperationException(method.getName());
                });
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket hostile = pair[0];
             BufferChannel in = new ChannelImpl(pair[1], broken, new PeerCredentials(0, 0, 0), () -> { });
             Fd m = memfd(4096)) {
            long before = Leaks.openFds();
            hostile.send(WireFormat.encode(4096, 1, "n", "x", null), m.get());
            assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(ChannelProtocolException.class)
                    .hasMessageContaining("receive: EPROTO").hasMessageContaining("NumberFormatException")
                    .hasCauseInstanceOf(NumberFormatException.class);
            assertThat(Leaks.openFds()).as("the frame's fd is closed").isEqualTo(before);
        }
    }

    @Test
    void aZeroLengthMessageIsRefusedAsMalformedNotTakenForTheEndOfStream() throws Exception {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf real = alice.allocate(BufferRequest.ofSize(4096).name("after-empty"))) {
            zeroLengthMessages(hostile, in, real);
        }
    }

    /** Shared with the kernel guest's test: 0-byte messages, alone, with an fd and before the peer's close. */
    static void zeroLengthMessages(UnixSocket hostile, BufferChannel in, DmaBuf real) {
        hostile.send(new byte[0]);
        expectRefused(in, "EPROTO", "frame of 0 bytes is shorter than the 16 bytes every message starts with");
        try (Fd m = memfd(4096)) {
            long before = Leaks.openFds();
            hostile.send(new byte[0], m.get());
            expectRefused(in, "EPROTO", "frame of 0 bytes");
            assertThat(Leaks.openFds()).isEqualTo(before);
        }
        hostile.send(WireFormat.encode(real.size(), 3, "after", "memfd", null), real.fd());
        try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
            assertThat(r.tag()).as("the channel still works").isEqualTo(3);
        }
        // a 0-byte message, a frame, then the peer's close: each arrives in order, then the end of stream
        hostile.send(new byte[0]);
        hostile.send(WireFormat.encode(real.size(), 4, "last", "memfd", null), real.fd());
        hostile.close();
        expectRefused(in, "EPROTO", "frame of 0 bytes");
        try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
            assertThat(r.tag()).isEqualTo(4);
        }
        assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("EPIPE").hasMessageContaining("the peer closed the connection");
    }

    @Test
    void aPeerThatClosesWithOurFramesUnreadStillDeliversItsOwnThenTheEndOfStream() {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf real = alice.allocate(BufferRequest.ofSize(4096).name("queued"))) {
            resetWithQueuedFrames(hostile, in, real);
        }
    }

    /**
     * Shared with the kernel guest's test: the peer sends two frames, leaves one of ours unread and closes, which
     * makes the kernel report {@code ECONNRESET} once before the two frames.
     */
    static void resetWithQueuedFrames(UnixSocket peer, BufferChannel in, DmaBuf real) {
        peer.send(WireFormat.encode(real.size(), 1, "one", "memfd", null), real.fd());
        peer.send(WireFormat.encode(real.size(), 2, "two", "memfd", null), real.fd());
        in.send(real, 99); // never read by the peer
        peer.close();
        for (long tag = 1; tag <= 2; tag++) {
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.tag()).as("the dead peer's frames, in order").isEqualTo(tag);
            }
        }
        assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("EPIPE").hasMessageContaining("the peer closed the connection");
    }

    /** Open fds whose file is a memfd of this name. */
    static long memfdsNamed(String name) {
        try (java.util.stream.Stream<Path> s = Files.list(Path.of("/proc/self/fd"))) {
            return s.filter(p -> {
                try {
                    return Files.readSymbolicLink(p).toString().startsWith("/memfd:" + name + " ");
                } catch (java.io.IOException e) {
                    return false;
                }
            }).count();
        } catch (java.io.IOException e) {
            throw new AssertionError(e);
        }
    }

    /** Sends one message with any number of fds, as a hostile peer may ({@link UnixSocket#send} stops at 16). */
    static void sendRaw(int socket, byte[] data, int... fds) {
        try (com.sun.jna.Memory bytes = new com.sun.jna.Memory(data.length);
             com.sun.jna.Memory control = new com.sun.jna.Memory(SocketLibC.cmsgSpace(4 * fds.length))) {
            bytes.write(0, data, 0, data.length);
            control.clear();
            if (com.sun.jna.Native.SIZE_T_SIZE == 8) {
                control.setLong(0, SocketLibC.cmsgLen(4 * fds.length));
            } else {
                control.setInt(0, SocketLibC.cmsgLen(4 * fds.length));
            }
            control.setInt(com.sun.jna.Native.SIZE_T_SIZE, SocketLibC.SOL_SOCKET);
            control.setInt(com.sun.jna.Native.SIZE_T_SIZE + 4, SocketLibC.SCM_RIGHTS);
            for (int i = 0; i < fds.length; i++) {
                control.setInt(SocketLibC.CMSG_HDR + 4L * i, fds[i]);
            }
            SocketLibC.Iovec iov = new SocketLibC.Iovec();
            iov.iov_base = bytes;
            iov.iov_len = new org.dmabuf.linux.SizeT(data.length);
            iov.write();
            SocketLibC.Msghdr msg = new SocketLibC.Msghdr();
            msg.msg_iov = iov.getPointer();
            msg.msg_iovlen = new org.dmabuf.linux.SizeT(1);
            msg.msg_control = control;
            msg.msg_controllen = new org.dmabuf.linux.SizeT(control.size());
            assertThat(SocketLibC.sendmsg(socket, msg, SocketLibC.MSG_NOSIGNAL)).isEqualTo(data.length);
        }
    }

    @Test
    void twentyFdsInOneMessageAreAllClosed() {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5))) {
            int[] twenty = new int[20];
            List<Fd> ours = new java.util.ArrayList<>();
            for (int i = 0; i < twenty.length; i++) {
                Fd m = Sys.memfd("twenty", LibC.MFD_ALLOW_SEALING);
                ours.add(m);
                Sys.ftruncate(m.get(), 4096);
                twenty[i] = m.get();
            }
            assertThat(memfdsNamed("twenty")).as("twenty distinct memfds").isEqualTo(20);
            sendRaw(hostile.fd(), WireFormat.encode(4096, 1, "twenty", "memfd", null), twenty);
            ours.forEach(Fd::close);
            assertThat(memfdsNamed("twenty")).as("all twenty are in flight, none in this process's table").isZero();
            assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(ChannelProtocolException.class)
                    .hasMessageContaining("receive: EMSGSIZE").hasMessageContaining("control data truncated");
            assertThat(memfdsNamed("twenty")).as("the 16 that arrived were closed, the kernel dropped the other 4")
                    .isZero();
        }
    }

    @Test
    void aSendWithATimeoutFailsWithEagainWhenThePeerDoesNotReadAndSendsNothingPartially() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             DmaBuf b = alice.allocate(BufferRequest.ofSize(4096).name("queued"))) {
            long fds = Leaks.openFds();
            int sent = 0;
            DmaBufException full = null;
            while (full == null && sent < 1_000_000) {
                try {
                    out.send(b, sent, Duration.ofMillis(20));
                    sent++;
                } catch (DmaBufException e) {
                    full = e;
                }
            }
            assertThat(full).as("the queue filled up").isNotNull();
            assertThat(full.errno()).isEqualTo("EAGAIN");
            assertThat(full.call()).isEqualTo("sendmsg");
            assertThat(full).hasMessageContaining("the peer did not read within PT0.02S; nothing was sent");
            assertThat(Leaks.openFds()).as("no fd left by the failed send").isEqualTo(fds);
            assertThatThrownBy(() -> out.send(b, -1, Duration.ZERO)).hasMessageContaining("EAGAIN");
            for (int tag = 0; tag < sent; tag++) {
                try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                    assertThat(r.tag()).as("every frame whole, in order").isEqualTo(tag);
                }
            }
            assertThat(in.receive(Duration.ZERO)).as("nothing of the timed-out sends arrived").isNull();
            out.send(b, 7, Duration.ofSeconds(5));
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.tag()).as("room again once the peer read").isEqualTo(7);
            }
        }
    }

    static Fd memfd(long size) {
        Fd fd = Sys.memfd("test-hostile", LibC.MFD_ALLOW_SEALING);
        Sys.ftruncate(fd.get(), size);
        return fd;
    }

    static void expectRefused(BufferChannel in, String errno, String what) {
        assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(ChannelProtocolException.class)
                .hasMessageContaining("receive: " + errno).hasMessageContaining(what);
    }
}
