package org.dmabuf.api;

import java.util.List;

/**
 * The image layout a buffer carries, where it holds an image: a fourcc ({@code DRM_FORMAT_*} or
 * {@code V4L2_PIX_FMT_*}), the size in pixels and the planes. Immutable and thread-safe.
 *
 * @param fourcc the four-character code, little-endian as in the kernel headers ({@code 'Y' | 'U' << 8 | ...})
 * @param width width in pixels
 * @param height height in pixels
 * @param planes the planes, at least one
 */
public record BufferFormat(int fourcc, int width, int height, List<Plane> planes) {
    /**
     * Checks and copies the values.
     *
     * @throws InvalidArgumentException if width or height is not positive or there is no plane
     */
    public BufferFormat {
        if (width <= 0 || height <= 0) {
            throw new InvalidArgumentException("BufferFormat", "width and height must be positive: " + width + "x"
                    + height);
        }
        planes = List.copyOf(planes);
        if (planes.isEmpty()) {
            throw new InvalidArgumentException("BufferFormat", "a format needs at least one plane");
        }
    }

    /**
     * Encodes four characters as a fourcc.
     *
     * @param code exactly four ASCII characters, for example {@code "YUYV"}
     * @return the code as the kernel headers' {@code fourcc_code()} computes it
     * @throws InvalidArgumentException if {@code code} is not four characters
     */
    public static int fourcc(String code) {
        if (code.length() != 4) {
            throw new InvalidArgumentException("BufferFormat.fourcc", "'" + code + "' is not four characters");
        }
        return code.charAt(0) | code.charAt(1) << 8 | code.charAt(2) << 16 | code.charAt(3) << 24;
    }

    /**
     * The fourcc as text.
     *
     * @return four characters, for example {@code "XR24"}
     */
    public String fourccName() {
        return new String(new char[] {(char) (fourcc & 0xff), (char) (fourcc >> 8 & 0xff),
            (char) (fourcc >> 16 & 0xff), (char) (fourcc >>> 24)});
    }
}
