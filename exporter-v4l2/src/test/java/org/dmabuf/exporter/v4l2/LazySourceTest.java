package org.dmabuf.exporter.v4l2;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.Frame;
import org.dmabuf.api.FrameSource;
import org.dmabuf.api.Plane;
import org.junit.jupiter.api.Test;

/** On the host: the component's shared frame source starts lazily, restarts after close, and ends at shutdown. */
class LazySourceTest {
    private static final BufferFormat YUYV = new BufferFormat(BufferFormat.fourcc("YUYV"), 2, 2,
            List.of(new Plane(0, 8, 4)));

    /** A capture that only counts. */
    private static final class Counting implements FrameSource {
        int nexts;
        int closes;

        @Override
        public Frame next(Duration timeout) {
            nexts++;
            return null;
        }

        @Override
        public BufferFormat format() {
            return YUYV;
        }

        @Override
        public long framesCaptured() {
            return nexts;
        }

        @Override
        public long framesDropped() {
            return 0;
        }

        @Override
        public void close() {
            closes++;
        }
    }

    @Test
    void closeStopsTheCaptureAndNextStartsAnotherButShutdownIsFinal() {
        List<Counting> started = new ArrayList<>();
        V4l2ExporterComponent.LazySource s = new V4l2ExporterComponent.LazySource(YUYV, () -> {
            Counting c = new Counting();
            started.add(c);
            return c;
        });
        assertThat(started).as("nothing starts before the first next").isEmpty();
        s.next(Duration.ZERO);
        s.next(Duration.ZERO);
        assertThat(started).hasSize(1);
        s.close();
        s.close();
        assertThat(started.get(0).closes).as("closed once").isEqualTo(1);
        s.next(Duration.ZERO);
        assertThat(started).as("a next after close starts a new capture").hasSize(2);
        s.shutdown();
        assertThat(started.get(1).closes).isEqualTo(1);
        assertThatThrownBy(() -> s.next(Duration.ZERO)).isInstanceOf(DmaBufException.class)
                .hasMessageContaining("closed");
        assertThat(started).hasSize(2);
    }
}
