package org.dmabuf.api;

import java.util.ArrayList;
import java.util.List;

/**
 * What an importer device needs of a buffer's backing storage: the parts of {@code struct device_dma_parameters}
 * and the DMA mask that decide which exporter may allocate it. Attachments made before a buffer has storage record
 * their constraints; the storage committed at first use satisfies all of them (late allocation).
 *
 * <p>Immutable and thread-safe. Build with {@link #builder()}; {@link #NONE} asks for nothing.
 */
public final class DeviceConstraints {
    /** Constraints that any storage satisfies. */
    public static final DeviceConstraints NONE = builder().build();

    private final long alignment;
    private final long maxSegmentSize;
    private final int maxSegmentCount;
    private final boolean contiguous;
    private final boolean uncached;

    private DeviceConstraints(Builder b) {
        this.alignment = b.alignment;
        this.maxSegmentSize = b.maxSegmentSize;
        this.maxSegmentCount = b.maxSegmentCount;
        this.contiguous = b.contiguous;
        this.uncached = b.uncached;
    }

    /**
     * Starts a builder that asks for nothing.
     *
     * @return a new builder; builders are not thread-safe
     */
    public static Builder builder() {
        return new Builder();
    }

    /**
     * The alignment, in bytes, the device needs of the buffer's start address.
     *
     * @return a power of two; 1 when the device needs none
     */
    public long alignment() {
        return alignment;
    }

    /**
     * The largest scatterlist segment the device can take ({@code dma_set_max_seg_size}).
     *
     * @return bytes; {@link Long#MAX_VALUE} when unlimited
     */
    public long maxSegmentSize() {
        return maxSegmentSize;
    }

    /**
     * The most scatterlist segments the device can take in one mapping.
     *
     * @return a count; {@link Integer#MAX_VALUE} when unlimited
     */
    public int maxSegmentCount() {
        return maxSegmentCount;
    }

    /**
     * Whether the device needs physically contiguous memory (a device without an IOMMU: a CMA heap).
     *
     * @return true if only contiguous storage will do
     */
    public boolean contiguous() {
        return contiguous;
    }

    /**
     * Whether the device needs uncached (write-combined) memory because it does not snoop CPU caches.
     *
     * @return true if only uncached storage will do
     */
    public boolean uncached() {
        return uncached;
    }

    /**
     * The constraints that satisfy both this device and another: the larger alignment, the smaller segment limits,
     * contiguous or uncached if either needs it.
     *
     * @param other the other device's constraints
     * @return the merged constraints
     */
    public DeviceConstraints mergedWith(DeviceConstraints other) {
        Builder b = new Builder();
        b.alignment = Math.max(alignment, other.alignment);
        b.maxSegmentSize = Math.min(maxSegmentSize, other.maxSegmentSize);
        b.maxSegmentCount = Math.min(maxSegmentCount, other.maxSegmentCount);
        b.contiguous = contiguous || other.contiguous;
        b.uncached = uncached || other.uncached;
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceConstraints c && c.alignment == alignment && c.maxSegmentSize == maxSegmentSize
                && c.maxSegmentCount == maxSegmentCount && c.contiguous == contiguous && c.uncached == uncached;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(alignment) * 31 + Long.hashCode(maxSegmentSize) * 17 + maxSegmentCount
                + (contiguous ? 2 : 0) + (uncached ? 1 : 0);
    }

    @Override
    public String toString() {
        List<String> parts = new ArrayList<>();
        if (alignment > 1) {
            parts.add("alignment=" + alignment);
        }
        if (maxSegmentSize != Long.MAX_VALUE) {
            parts.add("maxSegmentSize=" + maxSegmentSize);
        }
        if (maxSegmentCount != Integer.MAX_VALUE) {
            parts.add("maxSegmentCount=" + maxSegmentCount);
        }
        if (contiguous) {
            parts.add("contiguous");
        }
        if (uncached) {
            parts.add("uncached");
        }
        return parts.isEmpty() ? "none" : String.join(",", parts);
    }

    /** Builds {@link DeviceConstraints}. Not thread-safe: one thread builds. */
    public static final class Builder {
        private long alignment = 1;
        private long maxSegmentSize = Long.MAX_VALUE;
        private int maxSegmentCount = Integer.MAX_VALUE;
        private boolean contiguous;
        private boolean uncached;

        private Builder() {
        }

        /**
         * Sets the alignment of the buffer's start.
         *
         * @param bytes a power of two
         * @return this builder
         * @throws InvalidArgumentException if {@code bytes} is not a positive power of two
         */
        public Builder alignment(long bytes) {
            if (bytes <= 0 || Long.bitCount(bytes) != 1) {
                throw new InvalidArgumentException("DeviceConstraints.alignment",
                        "alignment " + bytes + " is not a positive power of two");
            }
            this.alignment = bytes;
            return this;
        }

        /**
         * Sets the largest segment the device takes.
         *
         * @param bytes at least 1
         * @return this builder
         * @throws InvalidArgumentException if {@code bytes} is not positive
         */
        public Builder maxSegmentSize(long bytes) {
            if (bytes <= 0) {
                throw new InvalidArgumentException("DeviceConstraints.maxSegmentSize",
                        "max segment size " + bytes + " is not positive");
            }
            this.maxSegmentSize = bytes;
            return this;
        }

        /**
         * Sets the most segments the device takes.
         *
         * @param count at least 1
         * @return this builder
         * @throws InvalidArgumentException if {@code count} is not positive
         */
        public Builder maxSegmentCount(int count) {
            if (count <= 0) {
                throw new InvalidArgumentException("DeviceConstraints.maxSegmentCount",
                        "max segment count " + count + " is not positive");
            }
            this.maxSegmentCount = count;
            return this;
        }

        /**
         * Asks for physically contiguous storage.
         *
         * @param value true to require it
         * @return this builder
         */
        public Builder contiguous(boolean value) {
            this.contiguous = value;
            return this;
        }

        /**
         * Asks for uncached storage.
         *
         * @param value true to require it
         * @return this builder
         */
        public Builder uncached(boolean value) {
            this.uncached = value;
            return this;
        }

        /**
         * Builds the constraints.
         *
         * @return immutable constraints
         */
        public DeviceConstraints build() {
            return new DeviceConstraints(this);
        }
    }
}
