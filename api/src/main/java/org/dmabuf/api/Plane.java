package org.dmabuf.api;

/**
 * One plane of an image, as libcamera's {@code FrameBuffer::Plane} and a DRM framebuffer's {@code handles},
 * {@code offsets} and {@code pitches} have it: the buffer it lives in, where it starts in that buffer, how long it
 * is, and the bytes per line. Immutable and thread-safe.
 *
 * @param buffer the index of the buffer holding the plane within its frame: 0 where all planes share one buffer
 *        (NV12 in one dma-buf), 0 to 3 where each plane has its own (V4L2 {@code NV12M}, {@code YUV420M})
 * @param offset the plane's first byte within its buffer
 * @param length the plane's length in bytes
 * @param stride the bytes from one line to the next ({@code bytesperline}, DRM {@code pitch})
 */
public record Plane(int buffer, long offset, long length, int stride) {
    /**
     * Checks the values.
     *
     * @throws InvalidArgumentException if a value is negative or the buffer index is not 0 to
     *         {@link BufferFormat#MAX_PLANES} - 1
     */
    public Plane {
        if (buffer < 0 || buffer >= BufferFormat.MAX_PLANES) {
            throw new InvalidArgumentException("Plane", "buffer index " + buffer + " is not 0 to "
                    + (BufferFormat.MAX_PLANES - 1));
        }
        if (offset < 0 || length < 0 || stride < 0) {
            throw new InvalidArgumentException("Plane", "negative offset, length or stride: offset=" + offset
                    + " length=" + length + " stride=" + stride);
        }
    }

    /**
     * A plane in the frame's first (or only) buffer.
     *
     * @param offset the plane's first byte within the buffer
     * @param length the plane's length in bytes
     * @param stride the bytes from one line to the next
     */
    public Plane(long offset, long length, int stride) {
        this(0, offset, length, stride);
    }

    /**
     * The byte after the plane's last: where the buffer has to reach.
     *
     * @return {@code offset + length}
     */
    public long end() {
        return offset + length;
    }
}
