package org.dmabuf.api;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;

/**
 * The image layout of a frame, as a DRM framebuffer ({@code drm_mode_fb_cmd2}) and GStreamer's {@code DMA_DRM} caps
 * describe it: a DRM fourcc, a DRM format modifier, the size in pixels and up to four planes, each in one of the
 * frame's buffers at an offset with a stride. NV12 in one dma-buf has two planes in buffer 0; V4L2's {@code NV12M}
 * is the same fourcc with each plane in a buffer of its own. Immutable and thread-safe.
 *
 * <p>For a fourcc of {@link PixelFormat} with the {@link PixelFormat#MOD_LINEAR linear} modifier the planes are
 * checked against the format's geometry: as many planes as it has, each stride at least a line, each length at least
 * its lines, no two planes of one buffer overlapping. Other fourccs and modifiers (tiled or compressed layouts the
 * project does not read) are carried as given.
 *
 * @param fourcc the DRM fourcc ({@code DRM_FORMAT_*}), little-endian as {@code fourcc_code()} makes it
 * @param modifier the DRM format modifier ({@code DRM_FORMAT_MOD_*}); {@link PixelFormat#MOD_LINEAR} for a linear
 *        layout
 * @param width width in pixels
 * @param height height in pixels
 * @param planes the planes, 1 to {@link #MAX_PLANES}, in the format's plane order (Y, then CbCr or Cb and Cr)
 * @since 1.2 (the modifier and planes in several buffers)
 */
public record BufferFormat(int fourcc, long modifier, int width, int height, List<Plane> planes) {
    /** The most planes, and buffers, a frame has: as {@code drm_mode_fb_cmd2} and the wire format carry. */
    public static final int MAX_PLANES = 4;

    /**
     * Checks and copies the values.
     *
     * @throws InvalidArgumentException if the fourcc is 0, width or height is not positive, there are no planes or
     *         more than {@link #MAX_PLANES}, the buffer indices leave a gap, or a linear layout of a known format
     *         does not hold the image
     */
    public BufferFormat {
        if (fourcc == 0) {
            throw new InvalidArgumentException("BufferFormat", "fourcc 0 is no format");
        }
        if (width <= 0 || height <= 0) {
            throw new InvalidArgumentException("BufferFormat", "width and height must be positive: " + width + "x"
                    + height);
        }
        planes = List.copyOf(planes);
        if (planes.isEmpty() || planes.size() > MAX_PLANES) {
            throw new InvalidArgumentException("BufferFormat", "a format has 1 to " + MAX_PLANES + " planes, not "
                    + planes.size());
        }
        int buffers = 0;
        for (Plane p : planes) {
            buffers = Math.max(buffers, p.buffer() + 1);
        }
        for (int b = 0; b < buffers; b++) {
            int index = b;
            if (planes.stream().noneMatch(p -> p.buffer() == index)) {
                throw new InvalidArgumentException("BufferFormat", "no plane lives in buffer " + b + " of "
                        + buffers + ": buffer indices must be 0 to n-1");
            }
        }
        String wrong = geometry(fourcc, modifier, width, height, planes, buffers);
        if (wrong != null) {
            throw new InvalidArgumentException("BufferFormat", fourccName(fourcc) + " " + width + "x" + height
                    + ": " + wrong);
        }
    }

    /**
     * A linear format, as {@link #BufferFormat(int, long, int, int, List)} with {@link PixelFormat#MOD_LINEAR}.
     *
     * @param fourcc the DRM fourcc
     * @param width width in pixels
     * @param height height in pixels
     * @param planes the planes
     */
    public BufferFormat(int fourcc, int width, int height, List<Plane> planes) {
        this(fourcc, PixelFormat.MOD_LINEAR, width, height, planes);
    }

    /**
     * The tightest linear layout of a format: lines without padding, planes one after another.
     *
     * @param format the pixel format; {@link PixelFormat#memoryPlanes()} decides one buffer or one per plane
     * @param width width in pixels
     * @param height height in pixels
     * @return the layout
     */
    public static BufferFormat linear(PixelFormat format, int width, int height) {
        return layout(format, width, height, DeviceConstraints.NONE);
    }

    /**
     * The linear layout of a format that meets a device's stride and offset alignment, as a driver's
     * {@code fill_fmt} or GBM would lay it out: the first plane's stride rounded up, the chroma planes' strides
     * derived from it as V4L2 derives them ({@code bytesperline × cpp[p] / cpp[0] / hsub}), each plane of a
     * shared buffer starting at the next aligned offset after the one before.
     *
     * @param format the pixel format
     * @param width width in pixels
     * @param height height in pixels
     * @param constraints the merged constraints of the devices; only the alignments are used
     * @return the layout
     * @throws InvalidArgumentException if a stride would not fit in 32 bits
     */
    public static BufferFormat layout(PixelFormat format, int width, int height, DeviceConstraints constraints) {
        if (width <= 0 || height <= 0) {
            throw new InvalidArgumentException("BufferFormat.layout", "width and height must be positive: " + width
                    + "x" + height);
        }
        long strideAlign = constraints.strideAlignment();
        long offsetAlign = constraints.offsetAlignment();
        int cpp0 = format.bytesPerPixel(0);
        long stride0 = format.lineBytes(0, width);
        long ratio = 1;
        for (int p = 1; p < format.planes(); p++) {
            long scale = (long) cpp0 * format.horizontalSubsampling(p);
            // the first plane's stride from which plane p's stride derives: at least plane p's line
            stride0 = Math.max(stride0, ceilDiv(format.lineBytes(p, width) * scale, format.bytesPerPixel(p)));
            ratio = Math.max(ratio, scale / format.bytesPerPixel(p));
        }
        stride0 = align(stride0, strideAlign * ratio);
        List<Plane> planes = new ArrayList<>();
        long offset = 0;
        for (int p = 0; p < format.planes(); p++) {
            long stride = p == 0 ? stride0
                    : stride0 * format.bytesPerPixel(p) / ((long) cpp0 * format.horizontalSubsampling(p));
            if (stride > Integer.MAX_VALUE) {
                throw new InvalidArgumentException("BufferFormat.layout", format + " " + width + "x" + height
                        + ": a stride of " + stride + " bytes does not fit in 32 bits");
            }
            long length = stride * format.lines(p, height);
            if (format.memoryPlanes() == 1) {
                offset = align(offset, offsetAlign);
                planes.add(new Plane(0, offset, length, (int) stride));
                offset += length;
            } else {
                planes.add(new Plane(p, 0, length, (int) stride));
            }
        }
        return new BufferFormat(format.drmFourcc(), PixelFormat.MOD_LINEAR, width, height, planes);
    }

    private static long align(long value, long alignment) {
        return (value + alignment - 1) / alignment * alignment;
    }

    private static long ceilDiv(long a, long b) {
        return (a + b - 1) / b;
    }

    /** What is wrong with a linear layout of a known format, or null. */
    private static String geometry(int fourcc, long modifier, int width, int height, List<Plane> planes,
            int buffers) {
        if (modifier != PixelFormat.MOD_LINEAR) {
            return null;
        }
        Optional<PixelFormat> known = PixelFormat.of(fourcc, buffers);
        if (known.isEmpty()) {
            return PixelFormat.ofDrm(fourcc).isPresent() ? "its planes cannot be spread over " + buffers + " buffers"
                    : null;
        }
        PixelFormat f = known.get();
        if (planes.size() != f.planes()) {
            return f.planes() + " planes expected, " + planes.size() + " given";
        }
        for (int p = 0; p < planes.size(); p++) {
            Plane plane = planes.get(p);
            long line = f.lineBytes(p, width);
            if (plane.stride() < line) {
                return "plane " + p + " has a stride of " + plane.stride() + " bytes, less than a line of " + line;
            }
            long need = plane.stride() * (f.lines(p, height) - 1) + line;
            if (plane.length() < need) {
                return "plane " + p + " is " + plane.length() + " bytes long, less than its " + f.lines(p, height)
                        + " lines of stride " + plane.stride() + " need (" + need + ")";
            }
        }
        List<Plane> sorted = new ArrayList<>(planes);
        sorted.sort(Comparator.comparingInt(Plane::buffer).thenComparingLong(Plane::offset));
        for (int i = 1; i < sorted.size(); i++) {
            Plane a = sorted.get(i - 1);
            Plane b = sorted.get(i);
            if (a.buffer() == b.buffer() && b.offset() < a.end()) {
                return "planes at offsets " + a.offset() + " and " + b.offset() + " of buffer " + a.buffer()
                        + " overlap";
            }
        }
        return null;
    }

    /**
     * The number of buffers the frame's planes live in.
     *
     * @return 1 to {@link #MAX_PLANES}
     */
    public int buffers() {
        int n = 0;
        for (Plane p : planes) {
            n = Math.max(n, p.buffer() + 1);
        }
        return n;
    }

    /**
     * The bytes a buffer of the frame has to hold: the end of its last plane.
     *
     * @param buffer the buffer index, 0 to {@link #buffers()} - 1
     * @return bytes
     * @throws InvalidArgumentException if there is no such buffer
     */
    public long bufferSize(int buffer) {
        if (buffer < 0 || buffer >= buffers()) {
            throw new InvalidArgumentException("BufferFormat.bufferSize", "buffer " + buffer + " of "
                    + buffers());
        }
        long end = 0;
        for (Plane p : planes) {
            if (p.buffer() == buffer) {
                end = Math.max(end, p.end());
            }
        }
        return end;
    }

    /**
     * The pixel format of the table that this fourcc and the number of buffers make: {@code NV12} in one buffer is
     * {@link PixelFormat#NV12}, in two {@link PixelFormat#NV12M}.
     *
     * @return the format, or empty for a fourcc the project does not describe
     */
    public Optional<PixelFormat> pixelFormat() {
        return PixelFormat.of(fourcc, buffers());
    }

    /**
     * Whether the layout is linear.
     *
     * @return true for {@link PixelFormat#MOD_LINEAR}
     */
    public boolean isLinear() {
        return modifier == PixelFormat.MOD_LINEAR;
    }

    /**
     * Encodes four characters as a fourcc.
     *
     * @param code exactly four ASCII characters, for example {@code "YUYV"}
     * @return the code as the kernel headers' {@code fourcc_code()} computes it
     * @throws InvalidArgumentException if {@code code} is not four ASCII characters (a wider character would
     *         spill into its neighbour's byte: U+024E followed by {@code V12} would be NV12)
     */
    public static int fourcc(String code) {
        if (code.length() != 4) {
            throw new InvalidArgumentException("BufferFormat.fourcc", "'" + code + "' is not four characters");
        }
        for (int i = 0; i < 4; i++) {
            if (code.charAt(i) > 0x7f) {
                throw new InvalidArgumentException("BufferFormat.fourcc", String.format("'%s' is not four ASCII "
                        + "characters (U+%04X at %d)", code, (int) code.charAt(i), i));
            }
        }
        return code.charAt(0) | code.charAt(1) << 8 | code.charAt(2) << 16 | code.charAt(3) << 24;
    }

    /**
     * The fourcc as text.
     *
     * @return four characters, for example {@code "XR24"}
     */
    public String fourccName() {
        return fourccName(fourcc);
    }

    /**
     * A fourcc as text, with a character outside printable ASCII as {@code ?}: fourccs arrive from peers.
     *
     * @param fourcc the code
     * @return four characters
     */
    public static String fourccName(int fourcc) {
        char[] c = new char[4];
        for (int i = 0; i < 4; i++) {
            int v = fourcc >>> (8 * i) & 0xff;
            c[i] = v >= 0x20 && v < 0x7f ? (char) v : '?';
        }
        return new String(c);
    }

    /**
     * The modifier as text, as {@code drmGetFormatModifierName} prints the common ones.
     *
     * @return {@code LINEAR}, {@code INVALID}, or {@code 0x} and 16 hex digits
     */
    public String modifierName() {
        return modifierName(modifier);
    }

    /**
     * A modifier as text.
     *
     * @param modifier a {@code DRM_FORMAT_MOD_*} value
     * @return {@code LINEAR}, {@code INVALID}, or {@code 0x} and 16 hex digits
     */
    public static String modifierName(long modifier) {
        if (modifier == PixelFormat.MOD_LINEAR) {
            return "LINEAR";
        }
        return modifier == PixelFormat.MOD_INVALID ? "INVALID" : String.format("0x%016x", modifier);
    }

    /**
     * The layout in one line, as bufinfo and the shell print it:
     * {@code NV12 640x480 LINEAR [0:0+307200/640 0:307200+153600/640]} (buffer:offset+length/stride per plane).
     *
     * @return the text
     */
    public String describe() {
        StringBuilder b = new StringBuilder(fourccName()).append(' ').append(Integer.toUnsignedString(width))
                .append('x').append(Integer.toUnsignedString(height)).append(' ').append(modifierName())
                .append(" [");
        for (int i = 0; i < planes.size(); i++) {
            Plane p = planes.get(i);
            b.append(i == 0 ? "" : " ").append(p.buffer()).append(':').append(p.offset()).append('+')
                    .append(p.length()).append('/').append(p.stride());
        }
        return b.append(']').toString();
    }
}
