package org.dmabuf.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Example;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AddLifecycleHook;
import org.dmabuf.linux.TryTimeout;

/**
 * Fuzzes the one parser of configuration text the exporters have: a V4L2 exporter's {@code pixel_format} (and the
 * gateway's {@code --format}) become a fourcc through {@link BufferFormat#fourcc(String)}. Properties: four ASCII
 * characters give the code whose name they are, anything else is refused with {@link InvalidArgumentException}
 * ({@code EINVAL}) and nothing else. Each try runs under {@link TryTimeout}.
 *
 * <p>Tries: {@code jqwik.tries.default}, 1000 in CI; the long run's one command is in {@code WireFormatFuzzTest}.
 */
@AddLifecycleHook(TryTimeout.class)
class BufferFormatFuzzTest {
    @Provide
    Arbitrary<String> codes() {
        return Arbitraries.oneOf(Arbitraries.strings().ascii().ofMinLength(3).ofMaxLength(5),
                Arbitraries.strings().all().ofLength(4),
                Arbitraries.strings().withChars("YUVN12\u024e\u0159\u0156\u0158\u00e9\uffff\u0000 ").ofLength(4),
                Arbitraries.strings().all().ofMaxLength(8));
    }

    @Property
    void fourAsciiCharactersAreTheirCodeAndAnythingElseIsRefused(@ForAll("codes") String code) {
        boolean ascii = code.length() == 4 && code.chars().allMatch(c -> c <= 0x7f);
        if (ascii) {
            int fourcc = BufferFormat.fourcc(code);
            for (int i = 0; i < 4; i++) {
                assertThat((char) (fourcc >>> (8 * i) & 0xff)).as("byte %d is character %d", i, i)
                        .isEqualTo(code.charAt(i));
            }
            if (code.chars().allMatch(c -> c >= 0x20 && c < 0x7f)) {
                assertThat(BufferFormat.fourccName(fourcc)).isEqualTo(code);
            }
        } else {
            assertThatThrownBy(() -> BufferFormat.fourcc(code)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("BufferFormat.fourcc: EINVAL");
        }
    }

    @Example
    void aCharacterWiderThanAByteIsRefusedRatherThanSpilledIntoTheNextByte() {
        // U+024E's low byte is 'N' and its bit 9 lands on bit 1 of the next byte, which 'V' has already: NV12
        assertThatThrownBy(() -> BufferFormat.fourcc("\u024eV12")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("is not four ASCII characters (U+024E at 0)");
        assertThat(BufferFormat.fourcc("NV12")).isEqualTo(PixelFormat.NV12.drmFourcc());
    }
}
