package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.jna.Memory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.UnixSocket;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Buffer channels with real dma-bufs from the system heap, in the kernel guest. */
@Tag("kernel")
class ChannelKernelTest {
    @TempDir
    Path tmp;

    @Test
    void aHeapBufferCrossesToASecondJvmWhichAnswersInPlace() throws Exception {
        try (StandaloneRegistry registry = new StandaloneRegistry("guest").addExporter(new TestSupport.RawSystemHeap(),
                TestSupport.RawSystemHeap.properties(1));
             ChannelListener listener = registry.channels().listen(tmp.resolve("run/heap.sock"),
                     ChannelOptions.sameUser())) {
            Process peer = new ProcessBuilder(PeerMain.command("answer", listener.path().toString()))
                    .redirectErrorStream(true).start();
            try (BufferChannel ch = listener.accept(Duration.ofSeconds(120));
                 DmaBuf b = registry.allocate(BufferRequest.ofSize(1 << 20).name("heap-frame"))) {
                assertThat(ch).as("the peer connects; it said: %s", ch == null
                        ? new String(peer.getInputStream().readNBytes(4000)) : "").isNotNull();
                assertThat(FdInfo.read(b.fd()).expName()).isEqualTo("system");
                ChannelFixture.fill(b, 17);
                ch.send(b, 17);
                String out = new String(peer.getInputStream().readAllBytes());
                assertThat(peer.waitFor(120, TimeUnit.SECONDS)).isTrue();
                assertThat(peer.exitValue()).as(out).isZero();
                assertThat(out).contains("received 'heap-frame' tag 17 from system, pattern ok");
                try (CpuAccess a = b.beginCpuAccess(SyncDirection.READ)) {
                    assertThat(a.getLong(b.size() - 8)).isEqualTo(17 * 3 + 1);
                }
            }
        }
    }

    @Test
    void aHeapBufferReceivedByAnotherRegistryIsTheSameDmaBufWithSync() {
        try (StandaloneRegistry alice = new StandaloneRegistry("alice").addExporter(new TestSupport.RawSystemHeap(),
                TestSupport.RawSystemHeap.properties(1));
             StandaloneRegistry bob = new StandaloneRegistry("bob");
             ChannelListener listener = bob.channels().listen(tmp.resolve("run/b.sock"), ChannelOptions.sameUser());
             BufferChannel out = alice.channels().connect(listener.path(), ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(10));
             DmaBuf b = alice.allocate(BufferRequest.ofSize(65536).name("x"))) {
            ChannelFixture.fill(b, 2);
            out.send(b, 2);
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(10))) {
                assertThat(r.buffer().kind()).contains(BufferKind.DMA_BUF);
                assertThat(r.buffer().exporterName()).as("adopted without an exporter: foreign, by exp_name")
                        .contains("system");
                assertThat(r.buffer().inode()).isEqualTo(b.inode());
                try (CpuAccess a = r.buffer().beginCpuAccess(SyncDirection.READ)) {
                    assertThat(a.getByte(4095)).isEqualTo(PeerMain.pattern(4095, 2));
                }
            }
        }
    }

    private static StandaloneRegistry heapRegistry(String owner) {
        return new StandaloneRegistry(owner).addExporter(new TestSupport.RawSystemHeap(),
                TestSupport.RawSystemHeap.properties(1));
    }

    @Test
    void onTheGuestKernelAZeroLengthMessageIsAMalformedFrameNotTheEndOfStream() {
        try (StandaloneRegistry alice = heapRegistry("alice");
             StandaloneRegistry bob = new StandaloneRegistry("bob");
             ChannelListener listener = bob.channels().listen(tmp.resolve("run/z.sock"), ChannelOptions.sameUser());
             UnixSocket hostile = UnixSocket.connect(listener.path());
             BufferChannel in = listener.accept(Duration.ofSeconds(10));
             DmaBuf real = alice.allocate(BufferRequest.ofSize(4096).name("z"))) {
            ChannelTest.zeroLengthMessages(hostile, in, real);
        }
    }

    @Test
    void onTheGuestKernelAResetPeersFramesAreDeliveredBeforeTheEndOfStream() {
        try (StandaloneRegistry alice = heapRegistry("alice");
             StandaloneRegistry bob = new StandaloneRegistry("bob");
             ChannelListener listener = bob.channels().listen(tmp.resolve("run/r.sock"), ChannelOptions.sameUser());
             UnixSocket peer = UnixSocket.connect(listener.path());
             BufferChannel in = listener.accept(Duration.ofSeconds(10));
             DmaBuf real = alice.allocate(BufferRequest.ofSize(4096).name("r"))) {
            ChannelTest.resetWithQueuedFrames(peer, in, real);
        }
    }

    /** Names a dma-buf with the raw ioctl, as a hostile peer would, bypassing any check of the project's. */
    private static void rawName(int fd, String name) {
        byte[] utf8 = name.getBytes(StandardCharsets.UTF_8);
        try (Memory m = new Memory(utf8.length + 1)) {
            m.clear();
            m.write(0, utf8, 0, utf8.length);
            Sys.ioctl(fd, Ioc.request(DmaBufUapi.DMA_BUF_SET_NAME_B), "DMA_BUF_SET_NAME", "fd " + fd, m);
        }
    }

    @Test
    void aDmaBufWhoseNameForgesFdinfoKeysNeverGivesAnUntypedError() {
        try (StandaloneRegistry alice = heapRegistry("alice");
             StandaloneRegistry bob = new StandaloneRegistry("bob");
             ChannelListener listener = bob.channels().listen(tmp.resolve("run/n.sock"), ChannelOptions.sameUser());
             UnixSocket hostile = UnixSocket.connect(listener.path());
             BufferChannel in = listener.accept(Duration.ofSeconds(10))) {
            for (String name : new String[] {"x\nsize:\tz", "x\nexp_name:\tudmabuf", "x\nsize:\t1"}) {
                try (DmaBuf b = alice.allocate(BufferRequest.ofSize(8192))) {
                    rawName(b.fd(), name);
                    hostile.send(WireFormat.encode(b.size(), 1, "hostile", "system", null), b.fd());
                    try (ReceivedBuffer r = in.receive(Duration.ofSeconds(10))) {
                        assertThat(r.buffer().size()).as("taken for what it is").isEqualTo(b.size());
                        assertThat(r.buffer().kind()).contains(BufferKind.DMA_BUF);
                    } catch (DmaBufException e) {
                        assertThat(e.errno()).as("a typed refusal: %s", e).isNotNull();
                    }
                }
            }
            assertThat(bob.bufinfo()).isEmpty();
        }
    }
}
