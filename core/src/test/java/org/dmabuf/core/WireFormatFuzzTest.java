package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.TryTimeout;

/**
 * Fuzzes the wire decoder of every version ({@link WireFormat#decode}, {@link WireFormat#isRelease},
 * {@link WireFormat#decodeRelease}) with random bytes and with mutations of valid encodings (bit flips, bytes and
 * header, count, length and plane fields set to edge values, truncations, extensions, with and without the length
 * field fixed up so that the deep checks are reached). Properties: the decoder returns or refuses with
 * {@link ChannelProtocolException} {@code EPROTO} and nothing else; what it accepts is canonical (encoding it again
 * gives the same bytes) and consistent (sizes positive, planes inside their buffers); and
 * {@code decode(encode(x)) == x} for every frame the encoders write. Each try runs under {@link TryTimeout}.
 *
 * <p>Tries: jqwik's {@code jqwik.tries.default}, 1000 per property in CI. The long run of every fuzzer of the project
 * (16 properties: this class, {@code ChannelFuzzTest}, {@code BufferFormatFuzzTest}, {@code FdInfoFuzzTest} and the
 * gateway's {@code ConfigLoaderFuzzTest}; 70 000 tries each, 1 120 000 inputs) is one command:
 * <pre>
 * ./mvnw -B -o verify -pl core,gateway -am -Dkernel.tests=skip -DskipITs -Dtest='*Fuzz*' \
 *     -Dsurefire.failIfNoSpecifiedTests=false -Djqwik.tries.default=70000
 * </pre>
 * jqwik prints each property's tries, seed and the statistics of outcomes (which check refused what).
 */
@AddLifecycleHook(TryTimeout.class)
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
            return "v" + version + " id " + frameId + " tag " + tag + " name '" + name + "' exporter '" + exporter
                    + "' sizes " + Arrays.toString(sizes) + " format " + (format == null ? "none" : format.describe())
                    + " flags " + flags + " fences " + fences;
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

    @Provide
    Arbitrary<byte[]> randomBytes() {
        return randomMessages();
    }

    /** Random bytes, alone or behind a valid common header of any version and type. */
    static Arbitrary<byte[]> randomMessages() {
        return Arbitraries.oneOf(
                Arbitraries.bytes().array(byte[].class).ofMaxSize(600),
                // random bytes behind a valid common header, so that the version-specific decoders are reached
                Combinators.combine(Arbitraries.of(1, 2, 3, 0), Arbitraries.of(1, 2, 0, 3),
                        Arbitraries.bytes().array(byte[].class).ofMaxSize(300), Arbitraries.integers().between(0, 1))
                        .as((version, type, tail, fixLength) -> {
                            ByteBuffer b = ByteBuffer.allocate(WireFormat.COMMON + tail.length)
                                    .order(ByteOrder.LITTLE_ENDIAN);
                            b.putInt(WireFormat.MAGIC).putShort(version.shortValue()).putShort(type.shortValue())
                                    .putInt(fixLength == 1 ? b.capacity() : tail.length).putInt(0).put(tail);
                            return b.array();
                        }));
    }

    private static Arbitrary<String> text() {
        return Arbitraries.oneOf(
                Arbitraries.strings().withCharRange(' ', '~').ofMaxLength(40),
                Arbitraries.strings().withChars("ab\n\t\u0000\u007f:é€日").ofMaxLength(40),
                Arbitraries.strings().withCharRange('\u0000', '\ud7ff').ofMaxLength(40),
                Arbitraries.of("😀😀😀😀😀😀😀x", "name:\tforged\nexp_name:\tudmabuf", "", "a".repeat(31),
                        "a".repeat(32), "é".repeat(16)));
    }

    @Provide
    Arbitrary<Spec> frames() {
        return frameSpecs();
    }

    /** Frames of both versions, of every pixel format of the table with aligned strides and offsets, or none. */
    static Arbitrary<Spec> frameSpecs() {
        Arbitrary<BufferFormat> formats = Combinators.combine(Arbitraries.of(PixelFormat.class),
                Arbitraries.integers().between(1, 200), Arbitraries.integers().between(1, 200),
                Arbitraries.of(1, 1, 2, 16, 64, 256), Arbitraries.of(1, 1, 4, 64, 4096))
                .as((pf, w, h, stride, offset) -> BufferFormat.layout(pf, w, h, DeviceConstraints.builder()
                        .strideAlignment(stride).offsetAlignment(offset).build()));
        Arbitrary<Spec> v2 = Combinators.combine(formats.injectNull(0.2), Arbitraries.longs(), Arbitraries.longs(),
                text(), text(), Arbitraries.longs().between(0, 8192), Arbitraries.of(0, WireFormat.RELEASE_WANTED),
                Arbitraries.integers().between(0, WireFormat.MAX_FENCES))
                .as((format, id, tag, name, exporter, extra, flags, fences) -> {
                    long[] sizes = new long[format == null ? 1 : format.buffers()];
                    for (int i = 0; i < sizes.length; i++) {
                        sizes[i] = (format == null ? 1 : format.bufferSize(i)) + extra * (i + 1);
                    }
                    return new Spec(2, id, tag, name, exporter, sizes, format, flags, fences);
                });
        Arbitrary<Spec> v1 = Combinators.combine(formats.filter(f -> f.buffers() == 1).injectNull(0.2),
                Arbitraries.longs(), text(), text(), Arbitraries.longs().between(0, 8192))
                .as((format, tag, name, exporter, extra) -> new Spec(1, 0, tag, name, exporter,
                        new long[] {(format == null ? 1 : format.bufferSize(0)) + extra}, format, 0, 0));
        return Arbitraries.oneOf(v2, v1);
    }

    @Provide
    Arbitrary<List<Mutation>> mutations() {
        return mutationLists(1);
    }

    /** From {@code min} to 6 mutations of any kind. */
    static Arbitrary<List<Mutation>> mutationLists(int min) {
        Arbitrary<Long> values = Arbitraries.oneOf(Arbitraries.of(Arrays.stream(LONGS).boxed().toList()),
                Arbitraries.of(Arrays.stream(INTS).mapToObj(i -> (long) i).toList()), Arbitraries.longs());
        return Combinators.combine(Arbitraries.integers().between(0, 5), Arbitraries.integers().between(0, 10_000),
                values, Arbitraries.of(1, 2, 4, 8))
                .as(Mutation::new).list().ofMinSize(min).ofMaxSize(6);
    }

    /** Decodes a message as the channel does: a RELEASE or a frame; returns what was accepted, or null if refused. */
    private static Object decodeAsTheChannelDoes(byte[] data, int fds) {
        try {
            if (WireFormat.isRelease(data)) {
                long id = WireFormat.decodeRelease(data, fds);
                assertThat(fds).as("a RELEASE accepted carries no fds").isZero();
                assertThat(WireFormat.encodeRelease(id)).as("a RELEASE accepted is canonical").isEqualTo(data);
                TryTimeout.outcome("RELEASE accepted");
                return id;
            }
            WireFormat.Frame f = WireFormat.decode(data);
            checkAccepted(data, f);
            TryTimeout.outcome("v" + f.version() + " frame accepted");
            return f;
        } catch (ChannelProtocolException e) {
            TryTimeout.outcome(outcome(e));
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

    @Property
    void randomBytesAreDecodedOrRefusedTyped(@ForAll("randomBytes") byte[] data,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 3) int fds) {
        decodeAsTheChannelDoes(data, fds);
    }

    @Property
    void mutatedFramesOfEveryVersionAreDecodedOrRefusedTyped(@ForAll("frames") Spec spec,
            @ForAll("mutations") List<Mutation> mutations, @ForAll boolean fixLength) {
        byte[] data;
        try {
            data = spec.encode();
        } catch (InvalidArgumentException e) {
            return; // version 1 cannot express this layout: refused by the sender, nothing to mutate
        }
        for (Mutation m : mutations) {
            data = m.apply(data);
        }
        if (fixLength && data.length >= WireFormat.COMMON) {
            ByteBuffer.wrap(data).order(ByteOrder.LITTLE_ENDIAN).putInt(8, data.length);
        }
        decodeAsTheChannelDoes(data, 0);
    }

    @Property
    void mutatedReleasesAreDecodedOrRefusedTyped(@ForAll long frameId, @ForAll("mutations") List<Mutation> mutations,
            @ForAll @net.jqwik.api.constraints.IntRange(min = 0, max = 2) int fds) {
        byte[] data = WireFormat.encodeRelease(frameId);
        for (Mutation m : mutations) {
            data = m.apply(data);
        }
        decodeAsTheChannelDoes(data, fds);
    }

    @Property
    void everyFrameTheEncodersWriteDecodesToWhatWasEncoded(@ForAll("frames") Spec spec) {
        byte[] data;
        try {
            data = spec.encode();
        } catch (InvalidArgumentException e) {
            assertThat(spec.version()).as("only version 1 refuses a valid layout: %s", e).isEqualTo(1);
            assertThat(e.errno()).isEqualTo("EINVAL");
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
    }

    @Property
    void everyReleaseDecodesToItsFrameId(@ForAll long frameId) {
        byte[] r = WireFormat.encodeRelease(frameId);
        assertThat(WireFormat.isRelease(r)).isTrue();
        assertThat(WireFormat.decodeRelease(r, 0)).isEqualTo(frameId);
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
