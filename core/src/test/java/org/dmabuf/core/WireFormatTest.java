package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.junit.jupiter.api.Test;

/** The worked examples of {@code docs/wire-format.md} are what the encoder writes and the decoder reads. */
class WireFormatTest {
    private static final Pattern BLOCK = Pattern.compile("```\\n(.*?)```", Pattern.DOTALL);
    private static final Pattern HEX = Pattern.compile("[0-9a-f]{2}");

    /** The bytes of each example block: on each line, the two-digit hex tokens before the first other one. */
    static List<byte[]> examples() throws Exception {
        String doc = Files.readString(Path.of("../docs/wire-format.md"));
        List<byte[]> blocks = new ArrayList<>();
        Matcher m = BLOCK.matcher(doc);
        while (m.find()) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            for (String line : m.group(1).split("\n")) {
                for (String token : line.trim().split("\\s+")) {
                    if (!HEX.matcher(token).matches()) {
                        break;
                    }
                    out.write(Integer.parseInt(token, 16));
                }
            }
            blocks.add(out.toByteArray());
        }
        return blocks;
    }

    @Test
    void theDocumentsExamplesAreTheEncodersBytes() throws Exception {
        List<byte[]> ex = examples();
        assertThat(ex).hasSize(6);
        int nv12 = BufferFormat.fourcc("NV12");
        BufferFormat nv12m = new BufferFormat(nv12, 640, 480, List.of(new Plane(0, 0, 307200, 640),
                new Plane(1, 0, 153600, 640)));
        BufferFormat nv12one = BufferFormat.linear(PixelFormat.NV12, 640, 480);
        assertThat(nv12one.planes()).containsExactly(new Plane(0, 0, 307200, 640), new Plane(0, 307200, 153600, 640));

        assertThat(ex.get(0)).isEqualTo(WireFormat.encode(7, 7, "frame-7", "memfd", new long[] {1 << 20}, null));
        assertThat(ex.get(1)).isEqualTo(WireFormat.encode(1, 7, "cam0", "memfd", new long[] {307200, 153600},
                nv12m));
        assertThat(ex.get(2)).isEqualTo(WireFormat.encode(2, 8, "cam0", "memfd", new long[] {460800}, nv12one));
        assertThat(ex.get(3)).isEqualTo(WireFormat.encodeV1(460800, 8, "cam0", "memfd", nv12one));

        WireFormat.Frame two = WireFormat.decode(ex.get(1));
        assertThat(two.frameId()).isEqualTo(1);
        assertThat(two.sizes()).containsExactly(307200L, 153600L);
        assertThat(two.format()).contains(nv12m);
        assertThat(WireFormat.decode(ex.get(2)).format()).contains(nv12one);
        WireFormat.Frame v1 = WireFormat.decode(ex.get(3));
        assertThat(v1.version()).isEqualTo(1);
        assertThat(v1.format()).as("version 1's one stride gives the same two planes").contains(nv12one);

        assertThat(ex.get(4)).isEqualTo(WireFormat.encode(7, 7, "frame-7", "memfd", new long[] {1 << 20}, null,
                WireFormat.RELEASE_WANTED));
        assertThat(WireFormat.decode(ex.get(4)).releaseWanted()).isTrue();
        assertThat(WireFormat.decode(ex.get(0)).releaseWanted()).isFalse();
        assertThat(ex.get(5)).isEqualTo(WireFormat.encodeRelease(7));
        assertThat(WireFormat.isRelease(ex.get(5))).isTrue();
        assertThat(WireFormat.isRelease(ex.get(4))).isFalse();
        assertThat(WireFormat.decodeRelease(ex.get(5), 0)).isEqualTo(7);
    }

    @Test
    void releaseWantedIsTheOnlyFlagAndOnlyInVersion2() {
        byte[] v2 = WireFormat.encode(7, 7, "f", "memfd", new long[] {4096}, null, 2);
        assertThatThrownBy(() -> WireFormat.decode(v2)).isInstanceOf(ChannelProtocolException.class)
                .hasMessageContaining("EPROTO").hasMessageContaining("reserved flags 0x2 are not zero");
        byte[] v1 = WireFormat.encodeV1(4096, 7, "f", "memfd", null);
        v1[12] = WireFormat.RELEASE_WANTED;
        assertThatThrownBy(() -> WireFormat.decode(v1)).isInstanceOf(ChannelProtocolException.class)
                .hasMessageContaining("reserved flags 0x1 are not zero");
        byte[] v1Release = WireFormat.encodeRelease(7);
        v1Release[4] = 1;
        assertThat(WireFormat.isRelease(v1Release)).as("type 2 exists in version 2 only").isFalse();
        assertThatThrownBy(() -> WireFormat.decode(v1Release)).isInstanceOf(ChannelProtocolException.class)
                .hasMessageContaining("unknown message type 2 in version 1");
    }

    @Test
    void version1DerivesTheChromaPlanesOfEveryOneBufferFormatOfTheTableAsTheTightLayout() {
        for (PixelFormat pf : PixelFormat.values()) {
            if (pf.memoryPlanes() != 1) {
                continue;
            }
            BufferFormat tight = BufferFormat.linear(pf, 64, 48);
            long size = tight.bufferSize(0);
            byte[] v1 = WireFormat.encodeV1(size, 1, "t", "memfd", tight);
            assertThat(WireFormat.decode(v1).format()).as("%s", pf).contains(tight);
        }
    }

    /** The offset of the first occurrence of {@code part} in {@code m}. */
    private static int indexOf(byte[] m, byte[] part) {
        for (int i = 0; i + part.length <= m.length; i++) {
            if (java.util.Arrays.equals(m, i, i + part.length, part, 0, part.length)) {
                return i;
            }
        }
        throw new AssertionError("not found");
    }

    @Test
    void namesDecodeAsUtf8AndEveryControlCharacterOrMalformedByteIsRefused() {
        for (String name : List.of("plain ascii ~!", "caméra-ü", "日本", "")) {
            assertThat(WireFormat.decode(WireFormat.encode(4096, 1, name, "memfd", null)).name()).isEqualTo(name);
        }
        byte[] good = WireFormat.encode(4096, 1, "abcd", "memfd", null);
        int at = indexOf(good, "abcd".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
        Object[][] spoilt = {{(byte) 0x7f, "control character U+007F"}, {(byte) 0x1f, "control character U+001F"},
            {(byte) 0x00, "control character U+0000"}, {(byte) 0xff, "not valid UTF-8"}};
        for (Object[] c : spoilt) {
            byte[] m = good.clone();
            m[at + 1] = (Byte) c[0];
            assertThatThrownBy(() -> WireFormat.decode(m)).as("byte %s", c[0])
                    .isInstanceOf(ChannelProtocolException.class).hasMessageContaining((String) c[1])
                    .hasMessageContaining("name");
        }
    }
}
