package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

import org.junit.jupiter.api.Test;

/** Frames per second over a sliding window, at given times. */
class FrameRateTest {
    private static final long SECOND = 1_000_000_000L;

    @Test
    void aSteadySourceReadsItsRate() {
        FrameRate r = new FrameRate(2 * SECOND);
        long t = 5 * SECOND;
        for (int i = 0; i < 300; i++) {
            r.frame(t + i * SECOND / 30);
        }
        assertThat(r.perSecond(t + 299 * SECOND / 30)).isCloseTo(30.0, within(1e-6));
    }

    @Test
    void onlyTheFramesInTheWindowCount() {
        FrameRate r = new FrameRate(2 * SECOND);
        long t = 0;
        for (int i = 0; i < 100; i++) { // 10 s at 10 frames/s
            r.frame(t);
            t += SECOND / 10;
        }
        for (int i = 0; i < 150; i++) { // then 3 s at 50 frames/s
            r.frame(t);
            t += SECOND / 50;
        }
        assertThat(r.perSecond(t - SECOND / 50)).isCloseTo(50.0, within(1e-6));
    }

    @Test
    void aSourceThatStoppedReadsZeroOnceItsLastFramesAreOlderThanTheWindow() {
        FrameRate r = new FrameRate(2 * SECOND);
        for (int i = 0; i < 60; i++) {
            r.frame(i * SECOND / 30);
        }
        long last = 59 * SECOND / 30;
        assertThat(r.perSecond(last + SECOND)).isCloseTo(30.0, within(1e-6));
        assertThat(r.perSecond(last + 2 * SECOND)).isZero();
    }

    @Test
    void fewerThanTwoFramesReadZero() {
        FrameRate r = new FrameRate(SECOND);
        assertThat(r.perSecond(0)).isZero();
        r.frame(10);
        assertThat(r.perSecond(20)).isZero();
    }

    @Test
    void aRateAboveWhatTheWindowKeepsIsMeasuredOverTheLatestFrames() {
        FrameRate r = new FrameRate(SECOND);
        long step = SECOND / 5000; // 5000 frames/s: more frames in the window than it keeps
        for (int i = 0; i < 3 * FrameRate.CAPACITY; i++) {
            r.frame(i * step);
        }
        assertThat(r.perSecond((3L * FrameRate.CAPACITY - 1) * step)).isCloseTo(5000.0, within(1e-6));
    }

    @Test
    void aWindowMustBePositive() {
        assertThatThrownBy(() -> new FrameRate(0)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("window of 0 ns");
    }
}
