package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The pipeline's figures as the status page reads them. */
class PipelineStatsTest {
    private final AtomicLong clock = new AtomicLong(1_000_000_000L);
    private final List<PipelineStats.ConsumerCounts> consumers = new CopyOnWriteArrayList<>();
    private final PipelineStats stats = new PipelineStats("test pattern", () -> List.copyOf(consumers), clock::get);

    @Test
    void beforeTheFirstFrameEverythingIsZeroAndThereIsNoThumbnail() {
        assertThat(stats.get()).containsEntry("source", "test pattern").containsEntry("framesProduced", 0L)
                .containsEntry("framesPerSecond", 0.0).containsEntry("sourceDropped", 0L)
                .containsEntry("consumers", List.of()).doesNotContainKeys("thumbnail", "thumbnailJpeg");
    }

    @Test
    void framesAreCountedWithTheirRateAndTheSourcesDrops() {
        for (int i = 0; i < 40; i++) {
            stats.frame(i / 10);
            clock.addAndGet(40_000_000L); // 25 frames/s
        }
        stats.dropped(7);
        clock.addAndGet(-40_000_000L); // at the last frame
        Map<String, Object> m = stats.get();
        assertThat(m).containsEntry("framesProduced", 40L).containsEntry("sourceDropped", 7L);
        assertThat((Double) m.get("framesPerSecond")).isBetween(24.999, 25.001);
    }

    @Test
    void eachConsumersDropsAreItsOwnAsTheFeedsCountThemNow() {
        consumers.add(new PipelineStats.ConsumerCounts(100, 50, 0, 2));
        consumers.add(new PipelineStats.ConsumerCounts(200, 8, 42, 8));
        assertThat(stats.get().get("consumers")).isEqualTo(List.of(
                Map.of("pid", 100L, "sent", 50L, "dropped", 0L, "held", 2),
                Map.of("pid", 200L, "sent", 8L, "dropped", 42L, "held", 8)));
        consumers.remove(0);
        assertThat(stats.get().get("consumers")).isEqualTo(List.of(
                Map.of("pid", 200L, "sent", 8L, "dropped", 42L, "held", 8)));
    }

    @Test
    void theLatestThumbnailIsGivenWithItsBytes() {
        byte[] first = {1, 2, 3};
        byte[] second = {4, 5, 6, 7};
        stats.thumbnail(0, 0, 160, 120, first);
        stats.thumbnail(10, 12, 160, 90, second);
        Map<String, Object> m = stats.get();
        assertThat(m.get("thumbnail")).isEqualTo(Map.of("frame", 10L, "sequence", 12L, "width", 160, "height", 90,
                "bytes", 4));
        assertThat(m.get("thumbnailJpeg")).isSameAs(second);
    }
}
