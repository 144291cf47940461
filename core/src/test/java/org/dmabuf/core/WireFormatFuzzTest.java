package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.Fuzz;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the wire decoder of every version ({@link WireFormat#decode}, {@link WireFormat#isRelease},
 * {@link WireFormat#decodeRelease}) with random bytes and with mutations of valid encodings (bit flips, bytes and
 * header, count, length and plane fields set to edge values, truncations, extensions, with and without the length
 * field fixed up so that the deep checks are reached). Properties: the decoder returns or refuses with
 * {@link ChannelProtocolException} {@code EPROTO} and nothing else; what it accepts is canonical (encoding it again
 * gives the same bytes) and consistent (sizes positive, planes inside their buffers); and
 * {@code decode(encode(x)) == x} for every frame the encoders write. Each input is checked under {@link Fuzz}'s
 * hang limit.
 *
 * <p>Inputs: {@link Fuzz} ({@code -Dfuzz.inputs}, 2000 per property in CI; {@code -Dfuzz.seed}, printed at every
 * run and in every failure with the command line that gives the same inputs). The long run of every fuzzer of the
 * project (16 properties: this class, {@code ChannelFuzzTest}, {@code BufferFormatFuzzTest}, {@code FdInfoFuzzTest}
 * and the gateway's {@code ConfigLoaderFuzzTest}; 70 000 inputs each, 1 120 000 in total) is one command:
 * <pre>
 * ./mvnw -B -o verify -pl core,gateway -am -Dkernel.tests=skip -DskipITs -Dtest='*Fuzz*' \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Dfuzz.inputs=70000
 * </pre>
 * {@link Fuzz} prints each property's inputs, time, seed and the counts of outcomes (which check refused what).
 */
class WireFormatFuzzTest {
    private static final int[] INTS = {0, 1, -1, 2, 3, 4, 5, 16, 17, 24, 31, 32, 52, 63, 64, 65, 127, 128, 255, 256,
        4095, 4096, 65535, 65536, Integer.MAX_VALUE, Integer.MIN_VALUE, 0x7fff, 0x8000, 0xffff, 0x10000,
        WireFormat.MAGIC, BufferFormat.fourcc("NV12"), BufferFormat.fourcc("YUYV"), BufferFormat.fourcc("XR24")};
    private static final long[] LONGS = {0, 1, -1, 4096, 8192, 65536, 1L << 31, 1L << 32, (1L << 32) - 1,
        Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 4095, 1L << 62, PixelFormat.MOD_INVALID};
    /** Offsets of every field of both headers and of the first entries after them. */
    private static final int[] FIELDS = {4, 6, 8, 12, 16, 20, 24, 28, 32, 33, 34, 35, 36, 37, 38, 40, 44, 48, 49, 50,
        52, 56, 60, 64, 68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112, 116, 120, 124, 128, 136, 144, 152, 160};

    /** A frame as the encoders take it. */
    record Spec(int version, long frameId, long tag, String name, String exporter, long[] sizes,
            BufferFormat format, int flags, int fences) {
        byte[] encode() {
            return version == 1 ? WireFormat.encodeV1(sizes[0], tag, name, exporter, format)
                    : WireFormat.encode(frameId, tag, name, exporter, sizes, format, flags, fences);
        }

        @Override
        public String toString() {
            return "v" + version + " id " + frameId + " tag " + tag + " name " + Fuzz.escape(name) + " exporter "
                    + Fuzz.escape(exporter) + " sizes " + Arrays.toString(sizes) + " format "
                    + (format == null ? "none" : format.describe()) + " flags " + flags + " fences " + fences;
        }
    }

    /** One change to a message. */
    record Mutation(int kind, int at, long value, int width) {
        byte[] apply(byte[] data) {
            ByteBuffer b;
            switch (kind) {
                case 0: // flip a bit
                    if (data.length > 0) {
                        data[at % data.length] ^= (byte) (1 << (value & 7));
                    }
                    return data;
                case 1: // set a byte
                    if (data.length > 0) {
                        data[at % data.length] = (byte) value;
                    }
                    return data;
                case 2: // cut
                    return Arrays.copyOf(data, data.length == 0 ? 0 : at % data.length);
                case 3: // extend
                    byte[] longer = Arrays.copyOf(data, data.length + 1 + (at & 63));
                    Arrays.fill(longer, data.length, longer.length, (byte) value);
                    return longer;
                default: // a field of 1, 2, 4 or 8 bytes set to an edge value
                    int off = FIELDS[at % FIELDS.length];
                    if (off + width > data.length) {
                        return data;
                    }
                    b = ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN);
                    switch (width) {
                        case 1 -> b.put(off, (byte) value);
                        case 2 -> b.putShort(off, (short) value);
                        case 4 -> b.putInt(off, (int) value);
                        default -> b.putLong(off, value);
                    }
                    return data;
            }
        }
    }

    /** Random bytes, alone or behind a valid common header of any version and type. */
    static byte[] randomMessage(SplittableRandom r) {
        if (r.nextBoolean()) {
            return Fuzz.bytes(r, 600);
        }
        // random bytes behind a valid common header, so that the version-specific decoders are reached
        int version = Fuzz.oneOf(r, 1, 2, 3, 0);
        int type = Fuzz.oneOf(r, 1, 2, 0, 3);
        byte[] tail = Fuzz.bytes(r, 300);
        boolean fixLength = r.nextBoolean();
        ByteBuffer b = ByteBuffer.allocate(WireFormat.COMMON + tail.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(WireFormat.MAGIC).putShort((short) version).putShort((short) type)
                .putInt(fixLength ? b.capacity() : tail.length).putInt(0).put(tail);
        return b.array();
    }

    private static String text(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> Fuzz.string(r, ' ', '~', 0, 40);
            case 1 -> Fuzz.string(r, "ab\n\t\u0000\u007f:é€日", 0, 40);
            case 2 -> Fuzz.string(r, '\u0000', '\ud7ff', 0, 40);
            default -> Fuzz.oneOf(r, "😀😀😀😀😀😀😀x", "name:\tforged\nexp_name:\tudmabuf", "", "a".repeat(31),
                    "a".repeat(32), "é".repeat(16));
        };
    }

    /** A layout of any pixel format of the table with aligned strides and offsets. */
    private static BufferFormat format(SplittableRandom r) {
        DeviceConstraints constraints = DeviceConstraints.builder()
                .strideAlignment(Fuzz.oneOf(r, 1, 1, 2, 16, 64, 256))
                .offsetAlignment(Fuzz.oneOf(r, 1, 1, 4, 64, 4096)).build();
        return BufferFormat.layout(Fuzz.oneOf(r, PixelFormat.values()), Fuzz.between(r, 1, 200),
                Fuzz.between(r, 1, 200), constraints);
    }

    /** Frames of both versions, of every pixel format of the table with aligned strides and offsets, or none. */
    static Spec frameSpec(SplittableRandom r) {
        if (r.nextBoolean()) {
            BufferFormat format = Fuzz.orNull(r, 5, () -> format(r));
            long id = Fuzz.anyLong(r);
            long tag = Fuzz.anyLong(r);
            String name = text(r);
            String exporter = text(r);
            long extra = Fuzz.between(r, 0L, 8192L);
            int flags = Fuzz.oneOf(r, 0, WireFormat.RELEASE_WANTED);
            int fences = Fuzz.between(r, 0, WireFormat.MAX_FENCES);
            long[] sizes = new long[format == null ? 1 : format.buffers()];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = (format == null ? 1 : format.bufferSize(i)) + extra * (i + 1);
            }
            return new Spec(2, id, tag, name, exporter, sizes, format, flags, fences);
        }
        BufferFormat format = Fuzz.orNull(r, 5, () -> Fuzz.filter(r, WireFormatFuzzTest::format,
                f -> f.buffers() == 1));
        long tag = Fuzz.anyLong(r);
        String name = text(r);
        String exporter = text(r);
        long extra = Fuzz.between(r, 0L, 8192L);
        return new Spec(1, 0, tag, name, exporter, new long[] {(format == null ? 1 : format.bufferSize(0)) + extra},
                format, 0, 0);
    }

    /** From {@code min} to 6 mutations of any kind. */
    static List<Mutation> mutations(SplittableRandom r, int min) {
        return Fuzz.list(r, min, 6, g -> {
            int kind = Fuzz.between(g, 0, 5);
            int at = Fuzz.between(g, 0, 10_000);
            long value = switch (g.nextInt(3)) {
                case 0 -> LONGS[g.nextInt(LONGS.length)];
                case 1 -> INTS[g.nextInt(INTS.length)];
                default -> Fuzz.anyLong(g);
            };
            return new Mutation(kind, at, value, Fuzz.oneOf(g, 1, 2, 4, 8));
        });
    }

    /** Applies mutations, then sets the length field to the length when asked. */
    static byte[] mutate(byte[] data, List<Mutation> mutations, boolean fixLength) {
        for (Mutation m : mutations) {
            data = m.apply(data);
        }
        if (fixLength && data.length >= WireFormat.COMMON) {
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putInt(8, data.length);
        }
        return data;
    }

    /** Decodes a message as the channel does: a RELEASE or a frame; returns what was accepted, or null if refused. */
    private static Object decodeAsTheChannelDoes(byte[] data, int fds) {
        try {
            if (WireFormat.isRelease(data)) {
                long id = WireFormat.decodeRelease(data, fds);
                assertThat(fds).as("a RELEASE accepted carries no fds").isZero();
                assertThat(WireFormat.encodeRelease(id)).as("a RELEASE accepted is canonical").isEqualTo(data);
                Fuzz.outcome("RELEASE accepted");
                return id;
            }
            WireFormat.Frame f = WireFormat.decode(data);
            checkAccepted(data, f);
            Fuzz.outcome("v" + f.version() + " frame accepted");
            return f;
        } catch (ChannelProtocolException e) {
            Fuzz.outcome(outcome(e));
            assertThat(e.errno()).isEqualTo("EPROTO");
            assertThat(e.getMessage()).containsAnyOf("frame refused", "RELEASE refused");
            return null;
        }
    }

    /** A refusal's kind, for the statistics: its message without numbers, cut short. */
    static String outcome(org.dmabuf.api.DmaBufException e) {
        String m = e.getMessage().replaceFirst("^.*(recvmsg|receive|get): [A-Z]+: ", "")
                .replaceAll("0x[0-9a-f]+|[0-9]+", "N")
                .replaceAll("connection accepted on listening on [^:]*", "socket");
        return e.errno() + " " + m.substring(0, Math.min(m.length(), 60));
    }

    /** What the decoder accepts is consistent, and encoding it again gives the same bytes. */
    private static void checkAccepted(byte[] data, WireFormat.Frame f) {
        assertThat(f.sizes()).isNotEmpty().allSatisfy(s -> assertThat(s).isPositive());
        assertThat(f.fences()).isBetween(0, WireFormat.MAX_FENCES);
        assertThat(f.name().getBytes(StandardCharsets.UTF_8).length).isLessThanOrEqualTo(WireFormat.MAX_NAME);
        assertThat(f.exporter().getBytes(StandardCharsets.UTF_8).length)
                .isLessThanOrEqualTo(WireFormat.MAX_EXPORTER);
        assertThat(f.name() + f.exporter()).doesNotContain("\n", "\u0000");
        BufferFormat format = f.format().orElse(null);
        if (format != null) {
            assertThat(format.buffers()).isEqualTo(f.sizes().size());
            for (Plane p : format.planes()) {
                assertThat(p.offset() + p.length()).as("plane inside its buffer")
                        .isLessThanOrEqualTo(f.sizes().get(p.buffer()));
            }
        }
        long[] sizes = f.sizes().stream().mapToLong(Long::longValue).toArray();
        byte[] again = f.version() == 1 ? WireFormat.encodeV1(sizes[0], f.tag(), f.name(), f.exporter(), format)
                : WireFormat.encode(f.frameId(), f.tag(), f.name(), f.exporter(), sizes, format,
                        f.releaseWanted() ? WireFormat.RELEASE_WANTED : 0, f.fences());
        assertThat(again).as("an accepted message is canonical: encoding what was read gives the same bytes")
                .isEqualTo(data);
    }

    /** Bytes with a number of fds. */
    record Bytes(byte[] data, int fds) {
        @Override
        public String toString() {
            return Fuzz.hex(data) + " with " + fds + " fds";
        }
    }

    /** A mutated message: what it was made from, and the bytes. */
    record Mutated(Object from, List<Mutation> mutations, boolean fixLength, byte[] data, int fds) {
        @Override
        public String toString() {
            return Fuzz.hex(data) + " with " + fds + " fds, made from " + from + " by " + mutations
                    + (fixLength ? " with the length fixed" : "");
        }
    }

    @Test
    void randomBytesAreDecodedOrRefusedTyped() {
        Fuzz.check("WireFormatFuzzTest#randomBytesAreDecodedOrRefusedTyped",
                r -> new Bytes(randomMessage(r), Fuzz.between(r, 0, 3)), Bytes::toString,
                in -> decodeAsTheChannelDoes(in.data(), in.fds()));
    }

    @Test
    void mutatedFramesOfEveryVersionAreDecodedOrRefusedTyped() {
        Fuzz.check("WireFormatFuzzTest#mutatedFramesOfEveryVersionAreDecodedOrRefusedTyped", r -> {
            Spec spec = frameSpec(r);
            List<Mutation> mutations = mutations(r, 1);
            boolean fixLength = r.nextBoolean();
            byte[] data;
            try {
                data = spec.encode();
            } catch (InvalidArgumentException e) {
                data = null; // version 1 cannot express this layout: refused by the sender, nothing to mutate
            }
            return new Mutated(spec, mutations, fixLength, data == null ? null : mutate(data, mutations, fixLength),
                    0);
        }, Mutated::toString, in -> {
            if (in.data() == null) {
                Fuzz.outcome("v1 cannot express the layout");
                return;
            }
            decodeAsTheChannelDoes(in.data(), 0);
        });
    }

    @Test
    void mutatedReleasesAreDecodedOrRefusedTyped() {
        Fuzz.check("WireFormatFuzzTest#mutatedReleasesAreDecodedOrRefusedTyped", r -> {
            long frameId = Fuzz.anyLong(r);
            List<Mutation> mutations = mutations(r, 1);
            return new Mutated("RELEASE of " + frameId, mutations, false,
                    mutate(WireFormat.encodeRelease(frameId), mutations, false), Fuzz.between(r, 0, 2));
        }, Mutated::toString, in -> decodeAsTheChannelDoes(in.data(), in.fds()));
    }

    @Test
    void everyFrameTheEncodersWriteDecodesToWhatWasEncoded() {
        Fuzz.check("WireFormatFuzzTest#everyFrameTheEncodersWriteDecodesToWhatWasEncoded",
                WireFormatFuzzTest::frameSpec, Spec::toString, spec -> {
                    byte[] data;
                    try {
                        data = spec.encode();
                    } catch (InvalidArgumentException e) {
                        assertThat(spec.version()).as("only version 1 refuses a valid layout: %s", e).isEqualTo(1);
                        assertThat(e.errno()).isEqualTo("EINVAL");
                        Fuzz.outcome("v1 cannot express the layout");
                        return;
                    }
                    WireFormat.Frame f = WireFormat.decode(data);
                    assertThat(f.version()).isEqualTo(spec.version());
                    assertThat(f.tag()).isEqualTo(spec.tag());
                    assertThat(f.frameId()).isEqualTo(spec.version() == 1 ? 0 : spec.frameId());
                    assertThat(f.sizes()).containsExactly(Arrays.stream(spec.sizes()).boxed().toArray(Long[]::new));
                    assertThat(f.fences()).isEqualTo(spec.fences());
                    assertThat(f.releaseWanted()).isEqualTo(spec.flags() == WireFormat.RELEASE_WANTED);
                    assertThat(f.format()).isEqualTo(Optional.ofNullable(spec.format()));
                    assertThat(f.name()).isEqualTo(sent(spec.name(), WireFormat.MAX_NAME));
                    assertThat(f.exporter()).isEqualTo(sent(spec.exporter(), WireFormat.MAX_EXPORTER));
                    assertThat(WireFormat.isRelease(data)).isFalse();
                    Fuzz.outcome("v" + spec.version() + (spec.format() == null ? " without" : " with") + " layout");
                });
    }

    @Test
    void everyReleaseDecodesToItsFrameId() {
        Fuzz.check("WireFormatFuzzTest#everyReleaseDecodesToItsFrameId", Fuzz::anyLong, Object::toString,
                frameId -> {
                    byte[] r = WireFormat.encodeRelease(frameId);
                    assertThat(WireFormat.isRelease(r)).isTrue();
                    assertThat(WireFormat.decodeRelease(r, 0)).isEqualTo(frameId);
                });
    }

    /** Text as the encoder sends it: control characters as '?', cut to the limit at a character boundary. */
    private static String sent(String s, int max) {
        StringBuilder b = new StringBuilder();
        for (char c : s.toCharArray()) {
            b.append(Character.isISOControl(c) ? '?' : c);
        }
        byte[] utf8 = b.toString().getBytes(StandardCharsets.UTF_8);
        List<Byte> kept = new ArrayList<>();
        int end = Math.min(max, utf8.length);
        while (end < utf8.length && end > 0 && (utf8[end] & 0xc0) == 0x80) {
            end--;
        }
        for (int i = 0; i < end; i++) {
            kept.add(utf8[i]);
        }
        byte[] out = new byte[kept.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = kept.get(i);
        }
        return new String(out, StandardCharsets.UTF_8);
    }
}
