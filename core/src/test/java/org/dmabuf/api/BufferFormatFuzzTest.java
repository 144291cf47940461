package org.dmabuf.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.SplittableRandom;
import org.dmabuf.linux.Fuzz;
import org.junit.jupiter.api.Test;

/**
 * Fuzzes the one parser of configuration text the exporters have: a V4L2 exporter's {@code pixel_format} (and the
 * gateway's {@code --format}) become a fourcc through {@link BufferFormat#fourcc(String)}. Properties: four ASCII
 * characters give the code whose name they are, anything else is refused with {@link InvalidArgumentException}
 * ({@code EINVAL}) and nothing else. Each input is checked under {@link Fuzz}'s hang limit.
 *
 * <p>Inputs: {@link Fuzz} ({@code -Dfuzz.inputs}, 2000 per property in CI; {@code -Dfuzz.seed}); the long run's one
 * command is in {@code WireFormatFuzzTest}.
 */
class BufferFormatFuzzTest {
    /** Text of 3 to 5 ASCII characters, 4 of any, 4 of ASCII and wider characters whose low byte is ASCII, 0 to 8. */
    static String code(SplittableRandom r) {
        return switch (r.nextInt(4)) {
            case 0 -> Fuzz.string(r, '\u0000', '\u007f', 3, 5);
            case 1 -> Fuzz.anyString(r, 4, 4);
            case 2 -> Fuzz.string(r, "YUVN12\u024e\u0159\u0156\u0158\u00e9\uffff\u0000 ", 4, 4);
            default -> Fuzz.anyString(r, 0, 8);
        };
    }

    @Test
    void fourAsciiCharactersAreTheirCodeAndAnythingElseIsRefused() {
        Fuzz.check("BufferFormatFuzzTest#fourAsciiCharactersAreTheirCodeAndAnythingElseIsRefused",
                BufferFormatFuzzTest::code, Fuzz::escape, code -> {
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
                        Fuzz.outcome("a code");
                    } else {
                        assertThatThrownBy(() -> BufferFormat.fourcc(code)).isInstanceOf(InvalidArgumentException.class)
                                .hasMessageContaining("BufferFormat.fourcc: EINVAL");
                        Fuzz.outcome("refused");
                    }
                });
    }

    @Test
    void aCharacterWiderThanAByteIsRefusedRatherThanSpilledIntoTheNextByte() {
        // U+024E's low byte is 'N' and its bit 9 lands on bit 1 of the next byte, which 'V' has already: NV12
        assertThatThrownBy(() -> BufferFormat.fourcc("\u024eV12")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("is not four ASCII characters (U+024E at 0)");
        assertThat(BufferFormat.fourcc("NV12")).isEqualTo(PixelFormat.NV12.drmFourcc());
    }
}
