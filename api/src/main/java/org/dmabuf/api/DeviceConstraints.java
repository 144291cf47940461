package org.dmabuf.api;

import java.util.ArrayList;
import java.util.List;

/**
 * What an importer device needs of a buffer's backing storage: the parts of {@code struct device_dma_parameters}
 * and the DMA mask that decide which exporter may allocate it, and the stride and offset alignment it needs of an
 * image's planes. Attachments made before a buffer has storage record
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
    private final int strideAlignment;
    private final int offsetAlignment;

    private DeviceConstraints(Builder b) {
        this.alignment = b.alignment;
        this.maxSegmentSize = b.maxSegmentSize;
        this.maxSegmentCount = b.maxSegmentCount;
        this.contiguous = b.contiguous;
        this.uncached = b.uncached;
        this.strideAlignment = b.strideAlignment;
        this.offsetAlignment = b.offsetAlignment;
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
     * The alignment, in bytes, the device needs of every line of an image: each plane's stride is a multiple of it
     * (a scanout engine's pitch alignment, a codec's {@code bytesperline} alignment).
     *
     * @return a power of two; 1 when the device needs none
     * @since 1.2
     */
    public int strideAlignment() {
        return strideAlignment;
    }

    /**
     * The alignment, in bytes, the device needs of where each plane of an image starts within its buffer.
     *
     * @return a power of two; 1 when the device needs none
     * @since 1.2
     */
    public int offsetAlignment() {
        return offsetAlignment;
    }

    /**
     * Whether an image laid out as {@code format} meets this device's stride and offset alignments.
     *
     * @param format the layout
     * @return what is not met, or empty when all is
     * @since 1.2
     */
    public java.util.Optional<String> unmetBy(BufferFormat format) {
        for (int i = 0; i < format.planes().size(); i++) {
            Plane p = format.planes().get(i);
            if (p.stride() % strideAlignment != 0) {
                return java.util.Optional.of("plane " + i + "'s stride " + p.stride() + " is not a multiple of "
                        + strideAlignment);
            }
            if (p.offset() % offsetAlignment != 0) {
                return java.util.Optional.of("plane " + i + "'s offset " + p.offset() + " is not a multiple of "
                        + offsetAlignment);
            }
        }
        return java.util.Optional.empty();
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
        b.strideAlignment = Math.max(strideAlignment, other.strideAlignment);
        b.offsetAlignment = Math.max(offsetAlignment, other.offsetAlignment);
        return b.build();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof DeviceConstraints c && c.alignment == alignment && c.maxSegmentSize == maxSegmentSize
                && c.maxSegmentCount == maxSegmentCount && c.contiguous == contiguous && c.uncached == uncached
                && c.strideAlignment == strideAlignment && c.offsetAlignment == offsetAlignment;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(alignment) * 31 + Long.hashCode(maxSegmentSize) * 17 + maxSegmentCount
                + (contiguous ? 2 : 0) + (uncached ? 1 : 0) + strideAlignment * 7 + offsetAlignment * 13;
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
        if (strideAlignment > 1) {
            parts.add("strideAlignment=" + strideAlignment);
        }
        if (offsetAlignment > 1) {
            parts.add("offsetAlignment=" + offsetAlignment);
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
        private int strideAlignment = 1;
        private int offsetAlignment = 1;

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
         * Sets the alignment of every plane's stride.
         *
         * @param bytes a power of two
         * @return this builder
         * @throws InvalidArgumentException if {@code bytes} is not a positive power of two
         * @since 1.2
         */
        public Builder strideAlignment(int bytes) {
            if (bytes <= 0 || Integer.bitCount(bytes) != 1) {
                throw new InvalidArgumentException("DeviceConstraints.strideAlignment",
                        "stride alignment " + bytes + " is not a positive power of two");
            }
            this.strideAlignment = bytes;
            return this;
        }

        /**
         * Sets the alignment of every plane's offset within its buffer.
         *
         * @param bytes a power of two
         * @return this builder
         * @throws InvalidArgumentException if {@code bytes} is not a positive power of two
         * @since 1.2
         */
        public Builder offsetAlignment(int bytes) {
            if (bytes <= 0 || Integer.bitCount(bytes) != 1) {
                throw new InvalidArgumentException("DeviceConstraints.offsetAlignment",
                        "offset alignment " + bytes + " is not a positive power of two");
            }
            this.offsetAlignment = bytes;
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
