package org.dmabuf.gateway;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The pipeline's figures as the status page reads them: registered by the main job while its pipeline runs, as a
 * {@code java.util.function.Supplier<Map<String, Object>>} service with {@value #PROPERTY}{@code =true} (a
 * type of the JVM's, so that the status bundle and this one share no package). The map: {@code source} (what the
 * frames come from), {@code framesProduced} (frames the source delivered), {@code framesPerSecond} (over the last
 * {@link #WINDOW_NANOS}, {@link FrameRate}), {@code sourceDropped} (frames the source dropped), {@code consumers}
 * (each connected consumer's {@code pid}, {@code sent}, {@code dropped} and {@code held} frames), {@code thumbnail}
 * (the latest one's {@code frame}, {@code sequence}, {@code width}, {@code height} and {@code bytes}; absent before
 * the first) and {@code thumbnailJpeg} (its bytes).
 *
 * <p>Threads: the pipeline's thread calls {@link #frame}, {@link #dropped} and {@link #thumbnail}; any thread
 * (the HTTP service's) calls {@link #get}, which reads a consistent enough snapshot: each figure is current, not
 * all of them at the same instant.
 */
final class PipelineStats implements Supplier<Map<String, Object>> {
    /** The service property that marks the pipeline's figures. */
    static final String PROPERTY = "dmabuf.pipeline.status";
    /** The window of {@code framesPerSecond}: two seconds. */
    static final long WINDOW_NANOS = 2_000_000_000L;

    /**
     * One consumer's counts.
     *
     * @param pid its process
     * @param sent frames sent to it
     * @param dropped frames dropped for it
     * @param held frames it holds (sent, not yet released)
     */
    record ConsumerCounts(long pid, long sent, long dropped, int held) {
    }

    /** The latest thumbnail; its bytes are never written after it is made. */
    private record Thumbnail(long frame, long sequence, int width, int height, byte[] jpeg) {
    }

    private final String source;
    private final Supplier<List<ConsumerCounts>> consumers;
    private final LongSupplier clock;
    private final FrameRate rate = new FrameRate(WINDOW_NANOS);
    private volatile long frames;
    private volatile long sourceDropped;
    private volatile Thumbnail thumbnail;

    /**
     * Figures of a pipeline.
     *
     * @param source what its frames come from, as the console says it
     * @param consumers the connected consumers' counts now (called from the reading thread)
     * @param clock {@link System#nanoTime()}, or a test's
     */
    PipelineStats(String source, Supplier<List<ConsumerCounts>> consumers, LongSupplier clock) {
        this.source = source;
        this.consumers = consumers;
        this.clock = clock;
    }

    /**
     * Counts a frame the source delivered.
     *
     * @param droppedAtSource the source's count of dropped frames now
     */
    void frame(long droppedAtSource) {
        rate.frame(clock.getAsLong());
        frames++; // one writer: the pipeline's thread
        sourceDropped = droppedAtSource;
    }

    /**
     * Notes a frame the source dropped.
     *
     * @param droppedAtSource the source's count of dropped frames now
     */
    void dropped(long droppedAtSource) {
        sourceDropped = droppedAtSource;
    }

    /**
     * The latest thumbnail.
     *
     * @param frame the frame's number in the run
     * @param sequence its sequence number
     * @param width the thumbnail's width
     * @param height its height
     * @param jpeg its bytes, not written after this call
     */
    void thumbnail(long frame, long sequence, int width, int height, byte[] jpeg) {
        thumbnail = new Thumbnail(frame, sequence, width, height, jpeg);
    }

    @Override
    public Map<String, Object> get() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("source", source);
        m.put("framesProduced", frames);
        m.put("framesPerSecond", rate.perSecond(clock.getAsLong()));
        m.put("sourceDropped", sourceDropped);
        List<Object> cs = new ArrayList<>();
        for (ConsumerCounts c : consumers.get()) {
            Map<String, Object> cm = new LinkedHashMap<>();
            cm.put("pid", c.pid());
            cm.put("sent", c.sent());
            cm.put("dropped", c.dropped());
            cm.put("held", c.held());
            cs.add(cm);
        }
        m.put("consumers", cs);
        Thumbnail t = thumbnail;
        if (t != null) {
            Map<String, Object> tm = new LinkedHashMap<>();
            tm.put("frame", t.frame());
            tm.put("sequence", t.sequence());
            tm.put("width", t.width());
            tm.put("height", t.height());
            tm.put("bytes", t.jpeg().length);
            m.put("thumbnail", tm);
            m.put("thumbnailJpeg", t.jpeg());
        }
        return m;
    }
}
