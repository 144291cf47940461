package org.dmabuf.spi;

import java.util.Objects;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DeviceConstraints;

/**
 * What the core asks of an exporter: the size, the name and format the caller gave, and the constraints of the
 * request merged with every device attached before allocation. Immutable and thread-safe.
 *
 * @param size bytes, greater than zero
 * @param name the buffer's name, empty when none
 * @param format the image format, or null
 * @param constraints the merged constraints
 */
public record AllocationRequest(long size, String name, BufferFormat format, DeviceConstraints constraints) {
    /** Checks the values. */
    public AllocationRequest {
        if (size <= 0) {
            throw new IllegalArgumentException("size " + size);
        }
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(constraints, "constraints");
    }

    /**
     * The format as an optional.
     *
     * @return the format, if the caller gave one
     */
    public Optional<BufferFormat> optionalFormat() {
        return Optional.ofNullable(format);
    }
}
