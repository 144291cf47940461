package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.Plane;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Buffer channels in one process: two registries (two "processes" as far as buffers go) on either end of a real
 * Unix-domain socket, and a hostile peer speaking raw sockets. Nothing may leak, whatever the peer sends.
 */
class ChannelTest {
    @TempDir
    Path tmp;
    Path socketPath;
    StandaloneRegistry alice;
    StandaloneRegistry bob;
    ChannelListener listener;
    private long fdsBefore;
    private long mapsBefore;

    @BeforeEach
    void open() throws Exception {
        fdsBefore = Leaks.openFds();
        mapsBefore = Leaks.memfdMappings();
        Path dir = tmp.resolve("run");
        socketPath = dir.resolve("channel.sock");
        alice = registry("alice");
        bob = registry("bob");
        listener = bob.channels().listen(socketPath, ChannelOptions.sameUser());
    }

    static StandaloneRegistry registry(String owner) {
        TestExporter e = new TestExporter("system", 100);
        return new StandaloneRegistry(owner).addExporter(e, e.props);
    }

    @AfterEach
    void nothingLeft() {
        listener.close();
        alice.close();
        bob.close();
        assertThat(Files.exists(socketPath)).as("the socket file is removed").isFalse();
        assertThat(Leaks.openFds()).as("buffer fds left").isEqualTo(fdsBefore);
        assertThat(Leaks.memfdMappings()).as("mappings left").isEqualTo(mapsBefore);
    }

    static void fill(DmaBuf b, long tag) {
        try (CpuAccess a = b.beginCpuAccess(SyncDirection.WRITE)) {
            byte[] all = new byte[(int) b.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = PeerMain.pattern(i, tag);
            }
            a.write(0, all, 0, all.length);
        }
    }

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
                assertThat(r.exporter()).isEqualTo("system");
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
    void receiveTimesOutWithNullAndClosingWakesABlockedReceiver() throws Exception {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5))) {
            assertThat(in.receive(Duration.ofMillis(50))).isNull();
            out.close();
            assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(DmaBufException.class)
                    .hasMessageContaining("EPIPE").hasMessageContaining("the peer closed the connection");
        }
        assertThat(listener.accept(Duration.ofMillis(20))).isNull();
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
    void aPeerWhoseUidIsNotAllowedIsDisconnected() {
        int stranger = SocketLibC.getuid() + 4242;
        assertThatThrownBy(() -> alice.channels().connect(socketPath, ChannelOptions.allowUids(stranger)))
                .isInstanceOf(DmaBufException.class).hasMessageContaining("connect: EACCES")
                .hasMessageContaining("runs as uid " + SocketLibC.getuid()).hasMessageContaining("not allowed");
        try (ChannelListener strict = bob.channels().listen(socketPath.resolveSibling("strict.sock"),
                ChannelOptions.allowUids(stranger));
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
                // more fds than the control buffer holds: the kernel drops some, the receiver closes the rest
                int[] twenty = new int[16];
                java.util.Arrays.fill(twenty, m1.get());
                hostile.send(WireFormat.encode(8192, 1, "ctrunc", "x", null), twenty);
                // (16 fit exactly; the limit is exercised by the oversized frame below and the C peer test)
                expectRefused(in, "EPROTO", "exactly one fd, this one 16");
                // an oversized frame
                hostile.send(new byte[1000], m1.get());
                expectRefused(in, "EMSGSIZE", "longer than 256 bytes");
                // a size larger than the buffer behind the fd
                hostile.send(WireFormat.encode(1 << 20, 1, "liar", "x", null), m1.get());
                expectRefused(in, "EPROTO", "the frame says 1048576 bytes but the fd's buffer has 8192");
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

    private static Fd memfd(long size) {
        Fd fd = Sys.memfd("test-hostile", LibC.MFD_ALLOW_SEALING);
        Sys.ftruncate(fd.get(), size);
        return fd;
    }

    private static void expectRefused(BufferChannel in, String errno, String what) {
        assertThatThrownBy(() -> in.receive(Duration.ofSeconds(5))).isInstanceOf(ChannelProtocolException.class)
                .hasMessageContaining("receive: " + errno).hasMessageContaining(what);
    }
}
