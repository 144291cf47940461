package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

/** Colours in the thumbnail tests: the luminance a GREY frame holds, and a comparison within rounding. */
final class Colours {
    private Colours() {
    }

    /** Full-range luminance (BT.601 weights), as a GREY frame holds it, as an RGB grey. */
    static int grey(int rgb) {
        int l = ((rgb >> 16 & 0xff) * 299 + (rgb >> 8 & 0xff) * 587 + (rgb & 0xff) * 114) / 1000;
        return l * 0x010101;
    }

    /** Asserts that two RGB colours differ by at most 6 in each channel: YCbCr rounding and JPEG. */
    static void assertClose(String what, int expected, int actual) {
        for (int shift = 0; shift <= 16; shift += 8) {
            int e = expected >> shift & 0xff;
            int a = actual >> shift & 0xff;
            assertThat(Math.abs(e - a)).as("%s: expected #%06x, got #%06x", what, expected, actual & 0xffffff)
                    .isLessThanOrEqualTo(6);
        }
    }
}
