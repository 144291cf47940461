package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Test;

/**
 * Wire format version 2 in one process: frames of several buffers with their layout, every new rule of the
 * receiver (each refusal closes every fd and puts every buffer already taken; the channel stays usable), version 1
 * still received, and the option that sends version 1 to an old peer.
 */
class ChannelFrameTest extends ChannelFixture {
    static final int NV12 = BufferFormat.fourcc("NV12");

    /** Fills buffer {@code b} of a frame with the pattern of {@code tag + b}. */
    static void fill(FrameBuffer frame, long tag) {
        for (int b = 0; b < frame.buffers().size(); b++) {
            fill(frame.buffer(b), tag + b);
        }
    }

    @Test
    void aTwoBufferNv12mFrameCrossesWithItsLayoutAndEveryBuffer() {
        try (BufferChannel out = alice.channels().connect(socketPath, ChannelOptions.sameUser());
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             FrameBuffer frame = alice.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48)
                     .name("nv12m"))) {
            assertThat(frame.buffers()).hasSize(2);
            fill(frame, 20);
            out.send(frame, 20, Duration.ofSeconds(5));
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.tag()).isEqualTo(20);
                assertThat(r.name()).isEqualTo("nv12m");
                assertThat(r.exporter()).isEqualTo("memfd");
                assertThat(r.format()).contains(frame.format());
                assertThat(r.format().get().pixelFormat()).contains(PixelFormat.NV12M);
                assertThat(r.buffers()).hasSize(2);
                assertThat(r.frame()).hasValueSatisfying(f -> assertThat(f.buffers()).isEqualTo(r.buffers()));
                for (int b = 0; b < 2; b++) {
                    DmaBuf got = r.buffers().get(b);
                    DmaBuf sent = frame.buffer(b);
                    assertThat(got.id()).as("buffer %d is the sender's buffer %d", b, b).isEqualTo(sent.id());
                    assertThat(got.size()).isEqualTo(sent.size());
                    try (CpuAccess a = got.beginCpuAccess(SyncDirection.READ)) {
                        assertThat(a.getByte(got.size() - 1)).isEqualTo(PeerMain.pattern(got.size() - 1, 20 + b));
                    }
                    int seals = Sys.fcntl(sent.fd(), LibC.F_GET_SEALS, "F_GET_SEALS", 0);
                    assertThat(seals & (LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW)).as("buffer %d sealed", b)
                            .isEqualTo(LibC.F_SEAL_SHRINK | LibC.F_SEAL_GROW);
                }
                assertThat(bob.bufinfo()).hasSize(2);
            }
            assertThat(bob.bufinfo()).as("closing the received frame puts both buffers").isEmpty();
        }
    }

    @Test
    void anNv12BufferIsSentAsVersion2WithBothPlanesAndNumberedFrames() {
        UnixSocket[] pair = UnixSocket.pair();
        try (UnixSocket peer = pair[0];
             BufferChannel out = new ChannelImpl(pair[1], alice, new PeerCredentials(0, 0, 0), () -> { });
             DmaBuf nv12 = alice.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 64, 48).name("one"))) {
            BufferFormat layout = nv12.format().orElseThrow();
            assertThat(layout.planes()).hasSize(2);
            out.send(nv12, 5);
            out.send(nv12, 5);
            for (long id = 1; id <= 2; id++) {
                try (UnixSocket.Message m = peer.receive(WireFormat.READ_LIMIT, Duration.ofSeconds(5))) {
                    assertThat(m.fds()).hasSize(1);
                    assertThat(m.data()[4]).as("version").isEqualTo((byte) 2);
                    WireFormat.Frame f = WireFormat.decode(m.data());
                    assertThat(f.frameId()).as("frames numbered on the channel, apart from the tag").isEqualTo(id);
                    assertThat(f.tag()).isEqualTo(5);
                    assertThat(f.sizes()).containsExactly(nv12.size());
                    assertThat(f.format()).contains(layout);
                }
            }
        }
    }

    /** A version 2 frame as a hostile peer writes it: every field given. */
    static final class Raw {
        int version = 2;
        int type = WireFormat.TYPE_FRAME;
        long frameId = 1;
        long tag = 1;
        int fences;
        int reserved;
        int fourcc = NV12;
        int width = 64;
        int height = 64;
        long modifier;
        long[] sizes;
        List<long[]> planes = new ArrayList<>(); // buffer, stride, offset, length
        byte[] name = ChannelTest.utf8("raw");
        byte[] exporter = ChannelTest.utf8("memfd");

        Raw sizes(long... s) {
            sizes = s;
            return this;
        }

        Raw plane(long buffer, long stride, long offset, long length) {
            planes.add(new long[] {buffer, stride, offset, length});
            return this;
        }

        byte[] bytes() {
            ByteBuffer b = ByteBuffer.allocate(WireFormat.HEADER_V2 + 8 * sizes.length + 24 * planes.size()
                    + name.length + exporter.length).order(ByteOrder.LITTLE_ENDIAN);
            b.putInt(WireFormat.MAGIC).putShort((short) version).putShort((short) type).putInt(b.capacity())
                    .putInt(0);
            b.putLong(frameId).putLong(tag);
            b.put((byte) sizes.length).put((byte) fences).put((byte) planes.size()).put((byte) reserved);
            b.put((byte) name.length).put((byte) exporter.length).putShort((short) 0);
            b.putInt(fourcc).putInt(width).putInt(height).putInt(0).putLong(modifier);
            for (long s : sizes) {
                b.putLong(s);
            }
            for (long[] p : planes) {
                b.putInt((int) p[0]).putInt((int) p[1]).putLong(p[2]).putLong(p[3]);
            }
            b.put(name).put(exporter);
            return b.array();
        }
    }

    /** NV12M 64x64 in a 4096-byte and a 2048-byte buffer, tight. */
    static Raw nv12m() {
        return new Raw().sizes(4096, 2048).plane(0, 64, 0, 4096).plane(1, 64, 0, 2048);
    }

    /** NV12 64x64 in one 8192-byte buffer. */
    static Raw nv12() {
        return new Raw().sizes(8192).plane(0, 64, 0, 4096).plane(0, 64, 4096, 2048);
    }

    @Test
    void everyMalformedFrameOfVersion2IsRefusedWithEveryFdClosedAndTheChannelStaysUsable() {
        try (UnixSocket hostile = UnixSocket.connect(socketPath);
             BufferChannel in = listener.accept(Duration.ofSeconds(5));
             Fd luma = ChannelTest.memfd(4096);
             Fd chroma = ChannelTest.memfd(2048);
             Fd whole = ChannelTest.memfd(8192)) {
            long baseline = Leaks.openFds();
            Raw fence = nv12m();
            fence.fences = 1;
            Raw twoFences = nv12m();
            twoFences.fences = 2;
            Raw release = nv12m();
            release.type = WireFormat.TYPE_RELEASE;
            Raw unknown = nv12m();
            unknown.type = 7;
            Raw v3 = nv12m();
            v3.version = 3;
            Raw reserved = nv12m();
            reserved.reserved = 1;
            Raw noFormatTwoBuffers = new Raw().sizes(4096, 2048);
            noFormatTwoBuffers.fourcc = 0;
            noFormatTwoBuffers.width = 0;
            noFormatTwoBuffers.height = 0;
            Raw noFormatWithModifier = new Raw().sizes(8192);
            noFormatWithModifier.fourcc = 0;
            noFormatWithModifier.width = 0;
            noFormatWithModifier.height = 0;
            noFormatWithModifier.modifier = 1;
            Object[][] refused = {
                {nv12m().bytes(), new int[] {luma.get()},
                    "names 2 buffer fds and 0 fence fds, so it carries exactly 2 fds, this one 1"},
                {nv12().bytes(), new int[] {whole.get(), whole.get()}, "exactly one fd, this one 2"},
                {new Raw().sizes(4096, 2048).plane(0, 64, 0, 4096).plane(1, 64, 0, 4096).bytes(),
                    new int[] {luma.get(), chroma.get()},
                    "plane 1 (offset 0, length 4096) ends at 4096, beyond the 2048 bytes of buffer 1"},
                {new Raw().sizes(8192).plane(0, 64, 0, 4096).plane(0, 64, 6144, 4096).bytes(),
                    new int[] {whole.get()}, "plane 1 (offset 6144, length 4096) ends at 10240, beyond the 8192"},
                {new Raw().sizes(8192).plane(0, 64, 0, 4096).plane(0, 64, 2048, 2048).bytes(),
                    new int[] {whole.get()}, "planes at offsets 0 and 2048 of buffer 0 overlap"},
                {new Raw().sizes(4096, 2048).plane(0, 64, 0, 4096).plane(2, 64, 0, 2048).bytes(),
                    new int[] {luma.get(), chroma.get()},
                    "plane 1 names buffer 2, but the frame carries 2 buffers (0 to 1)"},
                {new Raw().sizes(4096, 2048).plane(1, 64, 0, 2048).plane(1, 64, 0, 2048).bytes(),
                    new int[] {luma.get(), chroma.get()}, "no plane lives in buffer 0 of 2"},
                {new Raw().sizes(8192, 2048).plane(0, 64, 0, 4096).plane(0, 64, 4096, 2048).bytes(),
                    new int[] {whole.get(), chroma.get()}, "live in 1 buffers, but the frame carries 2"},
                {new Raw().sizes(4096, 2048).plane(0, 32, 0, 4096).plane(1, 64, 0, 2048).bytes(),
                    new int[] {luma.get(), chroma.get()}, "plane 0 has a stride of 32 bytes, less than a line of 64"},
                {new Raw().sizes(8192).plane(0, 64, 0, 4096).bytes(), new int[] {whole.get()},
                    "2 planes expected, 1 given"},
                {new Raw().sizes(8192, 8192, 8192).plane(0, 64, 0, 4096).plane(1, 64, 0, 2048).plane(2, 64, 0, 8)
                    .bytes(), new int[] {whole.get(), whole.get(), whole.get()},
                    "layout refused: NV12 64x64: its planes cannot be spread over 3 buffers"},
                {fence.bytes(), new int[] {luma.get(), chroma.get(), whole.get()},
                    "the frame's fence fd"},
                {twoFences.bytes(), new int[] {luma.get(), chroma.get(), whole.get(), whole.get()},
                    "the frame announces 2 fence fds; a frame carries at most 1"},
                {release.bytes(), new int[] {luma.get()}, "a RELEASE carries no fds, this one 1; RELEASE refused"},
                {unknown.bytes(), new int[] {luma.get(), chroma.get()}, "unknown message type 7 in version 2"},
                {v3.bytes(), new int[] {luma.get(), chroma.get()}, "unsupported version 3 (this side speaks 1 and 2)"},
                {reserved.bytes(), new int[] {luma.get(), chroma.get()}, "reserved header bytes are not zero"},
                {noFormatTwoBuffers.bytes(), new int[] {luma.get(), chroma.get()},
                    "no format (fourcc 0) but geometry 0x0, modifier LINEAR, 0 planes and 2 buffers"},
                {noFormatWithModifier.bytes(), new int[] {whole.get()}, "no format (fourcc 0) but geometry 0x0, "
                    + "modifier 0x0000000000000001"},
                {new Raw().sizes(4096, 4096).plane(0, 64, 0, 4096).plane(1, 64, 0, 2048).bytes(),
                    new int[] {luma.get(), chroma.get()},
                    "the frame says 4096 bytes but the fd's buffer has 2048 (buffer 1)"},
                {new Raw().sizes(4096, 2048).plane(0, 64, 0, 4096).plane(1, 64, 0, 2048).bytes(),
                    new int[] {luma.get(), luma.get()},
                    "the frame says 2048 bytes but the fd's buffer has 4096 (buffer 1)"},
            };
            for (Object[] r : refused) {
                hostile.send((byte[]) r[0], (int[]) r[1]);
                ChannelTest.expectRefused(in, "EPROTO", (String) r[2]);
                assertThat(Leaks.openFds()).as("the fds of the frame refused for %s", r[2]).isEqualTo(baseline);
                assertThat(bob.bufinfo()).as("the buffers taken for the frame refused for %s are put", r[2])
                        .isEmpty();
            }
            // a well-formed two-buffer frame after all that
            hostile.send(nv12m().bytes(), luma.get(), chroma.get());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.format()).contains(new BufferFormat(NV12, 64, 64, List.of(new Plane(0, 0, 4096, 64),
                        new Plane(1, 0, 2048, 64))));
                assertThat(r.buffers()).extracting(DmaBuf::size).containsExactly(4096L, 2048L);
            }
            // a modifier the project does not read: carried as given, planes checked only against the buffers
            Raw tiled = new Raw().sizes(8192).plane(0, 128, 0, 8192);
            tiled.modifier = 0x0100000000000001L; // I915_FORMAT_MOD_X_TILED
            hostile.send(tiled.bytes(), whole.get());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.format()).hasValueSatisfying(f -> assertThat(f.modifier()).isEqualTo(tiled.modifier));
            }
            // version 1 is still received
            hostile.send(ChannelTest.rawFrame(8192, 6, ChannelTest.utf8("v1"), ChannelTest.utf8("memfd"), NV12, 64,
                    64, 64), whole.get());
            try (ReceivedBuffer r = in.receive(Duration.ofSeconds(5))) {
                assertThat(r.tag()).isEqualTo(6);
                assertThat(r.format()).contains(new BufferFormat(NV12, 64, 64, List.of(new Plane(0, 0, 4096, 64),
                        new Plane(0, 4096, 2048, 64))));
            }
            assertThat(Leaks.openFds()).isEqualTo(baseline);
        }
    }

    @Test
    void withWireVersion1AChannelSendsVersion1AndRefusesWhatVersion1CannotSay() throws Exception {
        Path raw = tmp.resolve("old/peer.sock");
        java.nio.file.Files.createDirectories(raw.getParent());
        try (UnixSocket old = UnixSocket.listen(raw, 0600);
             BufferChannel out = alice.channels().connect(raw, ChannelOptions.sameUser().withWireVersion(1));
             UnixSocket peer = old.accept(Duration.ofSeconds(5));
             DmaBuf nv12 = alice.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 64, 48).name("old"));
             FrameBuffer nv12m = alice.allocateFrame(BufferRequest.ofFormat(PixelFormat.NV12M, 64, 48));
             DmaBuf plain = alice.allocate(BufferRequest.ofSize(8192).name("padded"))) {
            // NV12 whose chroma plane starts at the next 4096 bytes, not right after the luma plane
            FrameBuffer padded = ChannelTest.frameOf(new BufferFormat(NV12, 64, 48, List.of(new Plane(0, 0, 3072, 64),
                    new Plane(0, 4096, 1536, 64))), plain);
            Raw tiled = nv12();
            tiled.modifier = 0x0100000000000001L;
            out.send(nv12, 3);
            try (UnixSocket.Message m = peer.receive(WireFormat.READ_LIMIT, Duration.ofSeconds(5))) {
                assertThat(m.data()).hasSize(WireFormat.HEADER_V1 + 3 + 5);
                assertThat(m.data()[4]).as("version").isEqualTo((byte) 1);
                WireFormat.Frame f = WireFormat.decode(m.data());
                assertThat(f.format()).as("what a version 1 receiver derives is the buffer's layout")
                        .contains(nv12.format().orElseThrow());
            }
            assertThatThrownBy(() -> out.send(nv12m, 4, Duration.ofSeconds(5)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("send: EINVAL")
                    .hasMessageContaining("version 1 carries one buffer, not 2");
            assertThatThrownBy(() -> out.send(ChannelTest.frameOf(WireFormat.decode(tiled.bytes()).format()
                    .orElseThrow(), plain), 5, Duration.ofSeconds(5))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("send: EINVAL")
                    .hasMessageContaining("carries one buffer with a linear layout");
            assertThatThrownBy(() -> out.send(padded, 5, Duration.ofSeconds(5)))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("send: EINVAL").hasMessageContaining("version 1 cannot express")
                    .hasMessageContaining("0:4096+1536/64");
            assertThat(peer.receive(WireFormat.READ_LIMIT, Duration.ZERO)).as("nothing sent").isNull();
        }
        // a listener's accepted channels send the version of its options too
        try (ChannelListener oldListener = bob.channels().listen(tmp.resolve("v1/l.sock"),
                ChannelOptions.sameUser().withWireVersion(1));
             UnixSocket peer = UnixSocket.connect(oldListener.path());
             BufferChannel toOld = oldListener.accept(Duration.ofSeconds(5));
             DmaBuf plain = bob.allocate(BufferRequest.ofSize(4096).name("plain"))) {
            toOld.send(plain, 9);
            try (UnixSocket.Message m = peer.receive(WireFormat.READ_LIMIT, Duration.ofSeconds(5))) {
                assertThat(m.data()[4]).as("version").isEqualTo((byte) 1);
                assertThat(WireFormat.decode(m.data()).sizes()).containsExactly(4096L);
            }
        }
        assertThatThrownBy(() -> ChannelOptions.sameUser().withWireVersion(3))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("wire format version 3");
    }
}
