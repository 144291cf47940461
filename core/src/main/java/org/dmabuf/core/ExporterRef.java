package org.dmabuf.core;

import java.util.Map;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.DeviceConstraints;
import org.dmabuf.api.ExporterInfo;
import org.dmabuf.spi.DmaBufExporter;
import org.osgi.framework.Constants;

/**
 * An exporter service and its capabilities as read from its service properties, ordered as late allocation tries
 * them: {@code service.ranking} highest first, then {@code service.id} lowest first. Immutable; any thread.
 */
final class ExporterRef implements Comparable<ExporterRef> {
    static final long PAGE_SIZE = 4096;

    final DmaBufExporter exporter;
    final String name;
    final String expName;
    final BufferKind kind;
    final int ranking;
    final long serviceId;
    final boolean contiguous;
    final boolean uncached;
    final long maxSize;
    final long alignment;
    final long segmentSize;

    ExporterRef(DmaBufExporter exporter, String name, String expName, BufferKind kind, int ranking, long serviceId,
            boolean contiguous, boolean uncached, long maxSize, long alignment, long segmentSize) {
        this.exporter = exporter;
        this.name = name;
        this.expName = expName;
        this.kind = kind;
        this.ranking = ranking;
        this.serviceId = serviceId;
        this.contiguous = contiguous;
        this.uncached = uncached;
        this.maxSize = maxSize;
        this.alignment = alignment;
        this.segmentSize = segmentSize;
    }

    /**
     * Reads an exporter's service properties.
     *
     * @throws IllegalArgumentException if {@code dmabuf.exporter.name} is missing or a property has the wrong type
     * @throws org.dmabuf.api.InvalidArgumentException ({@code EINVAL}) naming the exporter and the property if
     *         {@code kind} is not {@code dma-buf} or {@code memfd}, or {@code max.size}, {@code alignment} (a power of
     *         two) or {@code segment.size} is not a number greater than zero
     */
    static ExporterRef of(DmaBufExporter exporter, Map<String, ?> props) {
        Object name = props.get(DmaBufExporter.NAME);
        if (!(name instanceof String) || ((String) name).isEmpty()) {
            throw new IllegalArgumentException("exporter service " + props.get(Constants.SERVICE_ID) + " has no "
                    + DmaBufExporter.NAME + " property");
        }
        Object expName = props.get(DmaBufExporter.EXP_NAME);
        String kind = string(props, DmaBufExporter.KIND, DmaBufExporter.KIND_DMA_BUF);
        if (!kind.equals(DmaBufExporter.KIND_DMA_BUF) && !kind.equals(DmaBufExporter.KIND_MEMFD)) {
            throw refused(name, DmaBufExporter.KIND, "'" + kind + "' is neither " + DmaBufExporter.KIND_DMA_BUF
                    + " nor " + DmaBufExporter.KIND_MEMFD);
        }
        long maxSize = positive(name, props, DmaBufExporter.MAX_SIZE, Long.MAX_VALUE);
        long alignment = positive(name, props, DmaBufExporter.ALIGNMENT, PAGE_SIZE);
        if (Long.bitCount(alignment) != 1) {
            throw refused(name, DmaBufExporter.ALIGNMENT, alignment + " is not a power of two");
        }
        long segmentSize = positive(name, props, DmaBufExporter.SEGMENT_SIZE, PAGE_SIZE);
        return new ExporterRef(exporter, (String) name, expName instanceof String ? (String) expName : null,
                DmaBufExporter.KIND_MEMFD.equals(kind) ? BufferKind.MEMFD : BufferKind.DMA_BUF,
                (int) number(props, Constants.SERVICE_RANKING, 0), number(props, Constants.SERVICE_ID, 0),
                bool(props, DmaBufExporter.CONTIGUOUS), bool(props, DmaBufExporter.UNCACHED),
                maxSize, alignment, segmentSize);
    }

    /** A size property: a number greater than zero, or the default when absent. */
    private static long positive(Object exporter, Map<String, ?> props, String key, long dflt) {
        long v;
        try {
            v = number(props, key, dflt);
        } catch (NumberFormatException e) {
            throw refused(exporter, key, "'" + props.get(key) + "' is not a number");
        }
        if (v <= 0) {
            throw refused(exporter, key, v + " must be greater than 0");
        }
        return v;
    }

    private static org.dmabuf.api.InvalidArgumentException refused(Object exporter, String key, String why) {
        return new org.dmabuf.api.InvalidArgumentException("bindExporter", "exporter '" + exporter
                + "': service property " + key + " " + why + "; the exporter is not used");
    }

    /** A stand-in for storage that no registered exporter made: an fd adopted without an exporter. */
    static ExporterRef foreign(String name, BufferKind kind) {
        return new ExporterRef(null, "foreign:" + name, name, kind, Integer.MIN_VALUE, -1, false, false, Long.MAX_VALUE,
                PAGE_SIZE, PAGE_SIZE);
    }

    private static String string(Map<String, ?> props, String key, String dflt) {
        Object v = props.get(key);
        return v == null ? dflt : v.toString();
    }

    private static boolean bool(Map<String, ?> props, String key) {
        Object v = props.get(key);
        if (v == null) {
            return false;
        }
        if (v instanceof Boolean b) {
            return b;
        }
        if (v instanceof String s) {
            return Boolean.parseBoolean(s);
        }
        throw new IllegalArgumentException("service property " + key + " must be a Boolean, is " + v.getClass());
    }

    private static long number(Map<String, ?> props, String key, long dflt) {
        Object v = props.get(key);
        if (v == null) {
            return dflt;
        }
        if (v instanceof Number n) {
            return n.longValue();
        }
        if (v instanceof String s) {
            return Long.parseLong(s.trim());
        }
        throw new IllegalArgumentException("service property " + key + " must be a number, is " + v.getClass());
    }

    /**
     * Why this exporter's storage cannot serve these constraints for a buffer of this size.
     *
     * @return the first unmet constraint in words, or null if all are met
     */
    String unmet(DeviceConstraints c, long size) {
        if (size > maxSize) {
            return "size " + size + " exceeds the exporter's maximum of " + maxSize + " bytes";
        }
        return unmetByStorage(c, size);
    }

    /**
     * What of the constraints storage this exporter already made of {@code size} bytes (the kernel's size) cannot
     * meet: the exporter's maximum is about requests, not about storage that exists.
     */
    String unmetByStorage(DeviceConstraints c, long size) {
        if (c.contiguous() && !contiguous) {
            return "physically contiguous memory is required but exporter '" + name + "' is not contiguous";
        }
        if (c.uncached() && !uncached) {
            return "uncached memory is required but exporter '" + name + "' is cached";
        }
        if (alignment % c.alignment() != 0) {
            return "alignment " + c.alignment() + " is required but exporter '" + name + "' guarantees "
                    + alignment;
        }
        if (c.maxSegmentCount() != Integer.MAX_VALUE) {
            long worst = worstSegmentCount(c, size);
            if (worst > c.maxSegmentCount()) {
                return "at most " + c.maxSegmentCount() + " segments are allowed but exporter '" + name
                        + "' may need " + worst + " for " + size + " bytes"
                        + (contiguous ? "" : " (not contiguous, " + segmentSize + "-byte segments)");
            }
        }
        return null;
    }

    /** The most segments a mapping of {@code size} bytes of this storage can need under these constraints. */
    long worstSegmentCount(DeviceConstraints c, long size) {
        long chunk = contiguous ? c.maxSegmentSize() : Math.min(segmentSize, c.maxSegmentSize());
        return (size + chunk - 1) / chunk;
    }

    ExporterInfo info() {
        return new ExporterInfo(name, kind == BufferKind.MEMFD ? DmaBufExporter.KIND_MEMFD
                : DmaBufExporter.KIND_DMA_BUF, ranking, serviceId, contiguous, uncached, maxSize, alignment);
    }

    @Override
    public int compareTo(ExporterRef o) {
        int c = Integer.compare(o.ranking, ranking);
        return c != 0 ? c : Long.compare(serviceId, o.serviceId);
    }

    @Override
    public String toString() {
        return name + "[ranking=" + ranking + ", service.id=" + serviceId + "]";
    }
}
