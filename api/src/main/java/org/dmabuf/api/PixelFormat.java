package org.dmabuf.api;

import java.util.Optional;

/**
 * The pixel formats the project's drivers produce, with the one mapping between V4L2 pixel formats
 * ({@code V4L2_PIX_FMT_*}, {@code <linux/videodev2.h>}) and DRM fourccs ({@code DRM_FORMAT_*},
 * {@code <drm_fourcc.h>}), and the geometry of their planes as the kernel's {@code drm_format_info} has it (bytes
 * per pixel of each plane, horizontal and vertical chroma subsampling). Both numbers of every constant are checked
 * against the kernel headers by a C probe in the Linux layer's tests.
 *
 * <p>The constants are named after V4L2, which tells apart a format whose planes share one buffer ({@link #NV12})
 * from the same format with a buffer per plane ({@link #NV12M}); DRM has one fourcc for both and describes where
 * each plane lives with its own buffer and offset. Mind the byte orders: V4L2 names list bytes in memory order,
 * DRM names a little-endian word, so V4L2 {@code RGB24} ({@code R, G, B} in memory) is DRM {@code BGR888}.
 *
 * <p>Immutable; any thread.
 *
 * @since 1.1
 */
public enum PixelFormat {
    /** Packed 4:2:2 {@code Y0 U Y1 V}: V4L2 {@code YUYV}, DRM {@code DRM_FORMAT_YUYV}. */
    YUYV("YUYV", "YUYV", 1, new int[] {2}, 1, 1),
    /** Packed 4:2:2 {@code U Y0 V Y1}: V4L2 {@code UYVY}, DRM {@code DRM_FORMAT_UYVY}. */
    UYVY("UYVY", "UYVY", 1, new int[] {2}, 1, 1),
    /** 4:2:0, a Y plane then an interleaved CbCr plane, one buffer: V4L2 {@code NV12}, DRM {@code NV12}. */
    NV12("NV12", "NV12", 1, new int[] {1, 2}, 2, 2),
    /** 4:2:0, a Y plane then an interleaved CrCb plane, one buffer: V4L2 {@code NV21}, DRM {@code NV21}. */
    NV21("NV21", "NV21", 1, new int[] {1, 2}, 2, 2),
    /** 4:2:2, a Y plane then an interleaved CbCr plane, one buffer: V4L2 {@code NV16}, DRM {@code NV16}. */
    NV16("NV16", "NV16", 1, new int[] {1, 2}, 2, 1),
    /** {@link #NV12} with a buffer per plane: V4L2 {@code NV12M} ({@code NM12}), DRM {@code NV12}. */
    NV12M("NV12", "NM12", 2, new int[] {1, 2}, 2, 2),
    /** {@link #NV21} with a buffer per plane: V4L2 {@code NV21M} ({@code NM21}), DRM {@code NV21}. */
    NV21M("NV21", "NM21", 2, new int[] {1, 2}, 2, 2),
    /** 4:2:0, Y, Cb and Cr planes, one buffer: V4L2 {@code YUV420} ({@code YU12}), DRM {@code YUV420}. */
    YUV420("YU12", "YU12", 1, new int[] {1, 1, 1}, 2, 2),
    /** {@link #YUV420} with a buffer per plane: V4L2 {@code YUV420M} ({@code YM12}), DRM {@code YUV420}. */
    YUV420M("YU12", "YM12", 3, new int[] {1, 1, 1}, 2, 2),
    /** 8-bit luminance: V4L2 {@code GREY}, DRM {@code DRM_FORMAT_R8}. */
    GREY("R8  ", "GREY", 1, new int[] {1}, 1, 1),
    /** {@code R, G, B} bytes in memory: V4L2 {@code RGB24} ({@code RGB3}), DRM {@code BGR888}. */
    RGB24("BG24", "RGB3", 1, new int[] {3}, 1, 1),
    /** {@code B, G, R} bytes in memory: V4L2 {@code BGR24} ({@code BGR3}), DRM {@code RGB888}. */
    BGR24("RG24", "BGR3", 1, new int[] {3}, 1, 1),
    /** {@code B, G, R, X} bytes in memory: V4L2 {@code XBGR32} ({@code XR24}), DRM {@code XRGB8888}. */
    XBGR32("XR24", "XR24", 1, new int[] {4}, 1, 1),
    /** {@code X, R, G, B} bytes in memory: V4L2 {@code XRGB32} ({@code BX24}), DRM {@code BGRX8888}. */
    XRGB32("BX24", "BX24", 1, new int[] {4}, 1, 1);

    /** {@code DRM_FORMAT_MOD_LINEAR}: the layout is linear, lines of {@code stride} bytes one after another. */
    public static final long MOD_LINEAR = 0;

    /** {@code DRM_FORMAT_MOD_INVALID}: no modifier is known. */
    public static final long MOD_INVALID = 0x00ffffffffffffffL;

    private final int drm;
    private final int v4l2;
    private final int memoryPlanes;
    private final int[] cpp;
    private final int hsub;
    private final int vsub;

    PixelFormat(String drm, String v4l2, int memoryPlanes, int[] cpp, int hsub, int vsub) {
        this.drm = BufferFormat.fourcc(drm);
        this.v4l2 = BufferFormat.fourcc(v4l2);
        this.memoryPlanes = memoryPlanes;
        this.cpp = cpp;
        this.hsub = hsub;
        this.vsub = vsub;
    }

    /**
     * The DRM fourcc ({@code DRM_FORMAT_*}).
     *
     * @return the code, as {@code fourcc_code()} computes it
     */
    public int drmFourcc() {
        return drm;
    }

    /**
     * The V4L2 pixel format ({@code V4L2_PIX_FMT_*}).
     *
     * @return the code, as {@code v4l2_fourcc()} computes it
     */
    public int v4l2Fourcc() {
        return v4l2;
    }

    /**
     * The number of planes of the image (Y, CbCr, ...), as {@code drm_format_info.num_planes}.
     *
     * @return 1 to 3
     */
    public int planes() {
        return cpp.length;
    }

    /**
     * The number of buffers V4L2 uses for one image of this format: 1, or one per plane for the {@code M} formats.
     *
     * @return 1, or {@link #planes()}
     */
    public int memoryPlanes() {
        return memoryPlanes;
    }

    /**
     * The bytes per pixel of one plane ({@code drm_format_info.cpp[plane]}); for a packed 4:2:2 format, per pixel
     * of a line.
     *
     * @param plane the plane, from 0
     * @return bytes
     */
    public int bytesPerPixel(int plane) {
        return cpp[check(plane)];
    }

    /**
     * The horizontal subsampling of a plane: 1 for the first, {@code hsub} for the chroma planes.
     *
     * @param plane the plane, from 0
     * @return the divisor of the width
     */
    public int horizontalSubsampling(int plane) {
        return check(plane) == 0 ? 1 : hsub;
    }

    /**
     * The vertical subsampling of a plane: 1 for the first, {@code vsub} for the chroma planes.
     *
     * @param plane the plane, from 0
     * @return the divisor of the height
     */
    public int verticalSubsampling(int plane) {
        return check(plane) == 0 ? 1 : vsub;
    }

    /**
     * The bytes of one line of a plane, without padding: the smallest stride it can have.
     *
     * @param plane the plane, from 0
     * @param width the image's width in pixels
     * @return bytes
     */
    public long lineBytes(int plane, int width) {
        long w = Integer.toUnsignedLong(width);
        int sub = horizontalSubsampling(plane);
        return (w + sub - 1) / sub * bytesPerPixel(plane);
    }

    /**
     * The number of lines of a plane.
     *
     * @param plane the plane, from 0
     * @param height the image's height in pixels
     * @return lines
     */
    public long lines(int plane, int height) {
        long h = Integer.toUnsignedLong(height);
        int sub = verticalSubsampling(plane);
        return (h + sub - 1) / sub;
    }

    private int check(int plane) {
        if (plane < 0 || plane >= cpp.length) {
            throw new InvalidArgumentException("PixelFormat", this + " has planes 0 to " + (cpp.length - 1)
                    + ", not " + plane);
        }
        return plane;
    }

    /**
     * The format of a V4L2 pixel format.
     *
     * @param fourcc a {@code V4L2_PIX_FMT_*} code
     * @return the format, or empty if the project does not describe it
     */
    public static Optional<PixelFormat> ofV4l2(int fourcc) {
        for (PixelFormat f : values()) {
            if (f.v4l2 == fourcc) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * The format of a DRM fourcc whose planes live in this many buffers: {@code NV12} in 1 is {@link #NV12}, in 2
     * {@link #NV12M}; a single-plane format only in 1.
     *
     * @param fourcc a {@code DRM_FORMAT_*} code
     * @param buffers the number of buffers
     * @return the format, or empty if the project does not describe that fourcc in that many buffers
     * @since 1.2
     */
    public static Optional<PixelFormat> of(int fourcc, int buffers) {
        for (PixelFormat f : values()) {
            if (f.drm == fourcc && f.memoryPlanes == buffers) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }

    /**
     * The format of a DRM fourcc with all its planes in one buffer.
     *
     * @param fourcc a {@code DRM_FORMAT_*} code
     * @return the single-buffer format, or empty if the project does not describe it
     */
    public static Optional<PixelFormat> ofDrm(int fourcc) {
        for (PixelFormat f : values()) {
            if (f.drm == fourcc && f.memoryPlanes == 1) {
                return Optional.of(f);
            }
        }
        return Optional.empty();
    }
}
