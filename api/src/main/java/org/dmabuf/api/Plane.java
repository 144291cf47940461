package org.dmabuf.api;

/**
 * One plane of an image in a buffer: where it starts, how long it is, and the bytes per line.
 * Immutable and thread-safe.
 *
 * @param offset the plane's first byte within the buffer
 * @param length the plane's length in bytes
 * @param stride the bytes from one line to the next ({@code bytesperline}, DRM {@code pitch})
 */
public record Plane(long offset, long length, int stride) {
    /**
     * Checks the values.
     *
     * @throws InvalidArgumentException if a value is negative
     */
    public Plane {
        if (offset < 0 || length < 0 || stride < 0) {
            throw new InvalidArgumentException("Plane", "negative offset, length or stride: offset=" + offset
                    + " length=" + length + " stride=" + stride);
        }
    }
}
