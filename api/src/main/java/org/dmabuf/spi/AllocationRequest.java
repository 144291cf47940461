package org.dmabuf.spi;

import java.util.Objects;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.DeviceConstraints;

/**
 * What the core asks of an exporter: the size, the name, the image layout, and the constraints of the request
 * merged with every device attached before allocation. Immutable and thread-safe.
 *
 * <p>For a request of a {@link org.dmabuf.api.PixelFormat} the core lays the image out linearly to meet the merged
 * stride and offset alignment ({@link BufferFormat#layout}) and asks for at least the bytes that layout needs; an
 * exporter that lays images out itself (a DRM driver's pitch) allocates from the format's fourcc, width and height
 * and reports its own layout with {@link ExportedBuffer#format()}.
 *
 * @param size bytes, greater than zero
 * @param name the buffer's name, empty when none
 * @param format the image layout planned for the buffer (a single buffer's: every plane in buffer 0), or null
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
