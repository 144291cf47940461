package org.dmabuf.exporter.drm;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ConstraintException;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * A DRM device as an exporter: dumb buffers ({@code DRM_IOCTL_MODE_CREATE_DUMB}) exported with PRIME
 * ({@code DRM_CLOEXEC | DRM_RDWR}).
 *
 * <p>A request with an image format of {@link PixelFormat} gets a linear dumb buffer as GBM and Mesa make one:
 * a single-plane format with its bits per pixel ({@code YUYV} 16, {@code RGB24} 24, {@code XR24} 32), its width and
 * height; a format with chroma planes with 8 bits per pixel and enough lines of the pitch below the luma plane for
 * them ({@code NV12}: {@code height + ⌈height/2⌉}, {@code NV16}: {@code 2 × height}, {@code YUV420}:
 * {@code height + ⌈height/2⌉} with the Cb and Cr planes at half the pitch), its width rounded up to whole chroma
 * samples. The chroma planes follow the luma plane at {@code pitch × height}. The layout reported
 * ({@link DrmBuffer#format()}) is the one the pitch and size the driver returned give. Where the request's stride
 * alignment is not met by the driver's pitch, the dumb buffer is made wider until it is (the image keeps its width;
 * the lines are padded). A format the table does not describe but whose bits per pixel are known gets that width,
 * height and bits per pixel. A plain byte size becomes lines of 4096 bytes (1024 pixels of 32 bits).
 *
 * <p>Thread-safe: any thread may allocate.
 */
final class DrmExporter implements DmaBufExporter {
    static final int LINE = 4096;
    /** How often a dumb buffer is made wider to meet a stride alignment before the request is refused. */
    private static final int WIDENINGS = 3;
    private final DrmDevice device;
    volatile boolean forceMapDumb;

    DrmExporter(DrmDevice device) {
        this.device = device;
    }

    /** The dumb shape {width, height, bpp} for a request without a format of the table. */
    static int[] shape(long size, BufferFormat format) {
        if (format != null) {
            return new int[] {format.width(), format.height(), bitsPerPixel(format.fourccName())};
        }
        long lines = (size + LINE - 1) / LINE;
        if (lines > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("allocate", "size " + size + " is too large for a dumb buffer");
        }
        return new int[] {LINE / 4, (int) lines, 32};
    }

    static int bitsPerPixel(String fourcc) {
        return switch (fourcc) {
            case "XR24", "AR24", "XB24", "AB24", "RA24", "BA24", "RX24", "BX24" -> 32;
            case "RG24", "BG24" -> 24;
            case "RG16", "BG16", "YUYV", "YVYU", "UYVY", "VYUY", "XR15", "AR15" -> 16;
            case "R8  ", "C8  " -> 8;
            default -> throw new InvalidArgumentException("allocate", "fourcc '" + fourcc
                    + "' is not a single-plane format a dumb buffer can hold");
        };
    }

    /**
     * The {@code CREATE_DUMB} bits per pixel of a format: its first plane's, 8 for the formats with chroma planes
     * (all of which have one byte of luma per pixel).
     */
    static int dumbBpp(PixelFormat f) {
        return f.bytesPerPixel(0) * 8;
    }

    /**
     * The {@code CREATE_DUMB} height of a format: the image's lines plus, for each chroma plane, the lines of the
     * pitch it takes ({@code lines × cpp / (cpp0 × hsub)} of them: NV12's interleaved plane one per two image lines,
     * YUV420's half-pitch planes half as many).
     */
    static long dumbHeight(PixelFormat f, int height) {
        long num = 0;
        long den = 1;
        for (int p = 1; p < f.planes(); p++) {
            long d = (long) f.bytesPerPixel(0) * f.horizontalSubsampling(p);
            // all chroma planes of the table share one subsampling: one denominator
            den = d;
            num += f.lines(p, height) * f.bytesPerPixel(p);
        }
        return Integer.toUnsignedLong(height) + (num + den - 1) / den;
    }

    /** The width a dumb buffer of a format starts with: the image's, rounded up to whole chroma samples. */
    static long dumbWidth(PixelFormat f, int width) {
        long sub = f.planes() > 1 ? f.horizontalSubsampling(1) : 1;
        return (Integer.toUnsignedLong(width) + sub - 1) / sub * sub;
    }

    /**
     * What the pitch has to be a multiple of for every plane's stride to meet a stride alignment and derive
     * exactly from it: the alignment times the largest ratio of the luma stride to a chroma stride (2 for
     * {@code YUV420}, whose chroma strides are half the pitch).
     */
    static long pitchMultiple(PixelFormat f, int strideAlignment) {
        long ratio = 1;
        for (int p = 1; p < f.planes(); p++) {
            long scale = (long) f.bytesPerPixel(0) * f.horizontalSubsampling(p);
            ratio = Math.max(ratio, scale / f.bytesPerPixel(p));
        }
        return strideAlignment * ratio;
    }

    /**
     * The width of a wider dumb buffer whose pitch, at the format's bytes per pixel, is the next multiple above
     * {@code pitch} that is also a whole number of pixels.
     */
    static long widerWidth(PixelFormat f, long pitch, long multiple) {
        long cpp = f.bytesPerPixel(0);
        long step = multiple / gcd(multiple, cpp) * cpp;
        return (pitch / step + 1) * step / cpp;
    }

    private static long gcd(long a, long b) {
        return b == 0 ? a : gcd(b, a % b);
    }

    /**
     * The linear layout of an image of a format in a dumb buffer of this pitch: the luma plane at 0, each chroma
     * plane after the one before with the stride derived from the pitch. Null if a stride would not hold its
     * plane's line or not divide exactly.
     */
    static BufferFormat layout(PixelFormat f, int width, int height, long pitch) {
        List<Plane> planes = new ArrayList<>();
        long offset = 0;
        for (int p = 0; p < f.planes(); p++) {
            long den = (long) f.bytesPerPixel(0) * f.horizontalSubsampling(p);
            long num = pitch * f.bytesPerPixel(p);
            if (p > 0 && num % den != 0) {
                return null;
            }
            long stride = p == 0 ? pitch : num / den;
            if (stride < f.lineBytes(p, width) || stride > Integer.MAX_VALUE) {
                return null;
            }
            long length = stride * f.lines(p, height);
            planes.add(new Plane(0, offset, length, (int) stride));
            offset += length;
        }
        return new BufferFormat(f.drmFourcc(), PixelFormat.MOD_LINEAR, width, height, planes);
    }

    Map<String, Object> properties(int ranking) {
        Map<String, Object> p = new HashMap<>();
        String node = device.path().substring(device.path().lastIndexOf('/') + 1);
        p.put(NAME, "drm:" + device.driver() + ":" + node);
        p.put(EXP_NAME, "drm");
        p.put(KIND, KIND_DMA_BUF);
        p.put(CONTIGUOUS, false);
        p.put(DEV_PATH, device.path());
        p.put(org.osgi.framework.Constants.SERVICE_RANKING, ranking);
        return p;
    }

    @Override
    public ExportedBuffer allocate(AllocationRequest request) {
        BufferFormat format = request.format();
        if (format != null && format.modifier() != PixelFormat.MOD_LINEAR
                && format.modifier() != PixelFormat.MOD_INVALID) {
            throw new InvalidArgumentException("allocate", device.path() + ": dumb buffers are linear, not "
                    + format.describe());
        }
        if (format != null && format.buffers() != 1) {
            throw new InvalidArgumentException("allocate", device.path() + ": " + format.describe() + " spans "
                    + format.buffers() + " buffers; a dumb buffer is one: allocate the frame with allocateFrame");
        }
        Optional<PixelFormat> known = format == null ? Optional.empty() : format.pixelFormat();
        if (known.isPresent()) {
            return allocateImage(request, known.get(), format.width(), format.height());
        }
        int[] s = shape(request.size(), format);
        DrmBuffer b = export(device.createDumb(s[0], s[1], s[2]));
        if (format != null) {
            // a fourcc of one plane the table does not describe: the pitch is the driver's all the same
            b.format(new BufferFormat(format.fourcc(), PixelFormat.MOD_LINEAR, format.width(), format.height(),
                    List.of(new Plane(0, (long) b.pitch() * format.height(), b.pitch()))));
        }
        return checkSize(b, request);
    }

    /**
     * A dumb buffer for an image of a format of the table, made wider while the driver's pitch does not meet the
     * request's stride alignment; its layout is the one the pitch gives.
     */
    private ExportedBuffer allocateImage(AllocationRequest request, PixelFormat f, int width, int height) {
        int align = request.constraints().strideAlignment();
        long multiple = pitchMultiple(f, align);
        long rows = dumbHeight(f, height);
        long w = dumbWidth(f, width);
        String what = f + " " + Integer.toUnsignedString(width) + "x" + Integer.toUnsignedString(height);
        if (rows > Integer.MAX_VALUE || w > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("allocate", device.path() + ": " + what
                    + " is too large for a dumb buffer");
        }
        int bpp = dumbBpp(f);
        for (int attempt = 0; ; attempt++) {
            DrmDevice.Dumb dumb = device.createDumb((int) w, (int) rows, bpp);
            BufferFormat made = Integer.toUnsignedLong(dumb.pitch()) % multiple == 0
                    ? layout(f, width, height, Integer.toUnsignedLong(dumb.pitch())) : null;
            if (made != null) {
                DrmBuffer b = export(dumb);
                if (made.bufferSize(0) > b.size()) {
                    b.release();
                    throw new org.dmabuf.api.DmaBufException("ioctl(DRM_IOCTL_MODE_CREATE_DUMB)", "EINVAL",
                            device.path() + ": a " + w + "x" + rows + "x" + bpp + " dumb buffer of pitch "
                            + dumb.pitch() + " has " + b.size() + " bytes, fewer than " + made.describe()
                            + " needs");
                }
                b.format(made);
                return checkSize(b, request);
            }
            device.releaseDumb(dumb.handle());
            // a wider dumb buffer, whose pitch at the driver's bytes per pixel is the next multiple
            long wider = widerWidth(f, Math.max(Integer.toUnsignedLong(dumb.pitch()), w * f.bytesPerPixel(0)),
                    multiple);
            if (attempt >= WIDENINGS || wider > Integer.MAX_VALUE) {
                throw new ConstraintException("ioctl(DRM_IOCTL_MODE_CREATE_DUMB)", device.path() + " (driver "
                        + device.driver() + "): " + what + " needs a pitch that is a multiple of " + multiple
                        + " (stride alignment " + align + "); a " + w + "x" + rows + "x" + bpp
                        + " dumb buffer got pitch " + Integer.toUnsignedString(dumb.pitch())
                        + (wider > Integer.MAX_VALUE ? ", and a wide enough one would be " + wider + " pixels wide"
                                : ", still after " + attempt + " widenings"));
            }
            w = wider;
        }
    }

    /** Exports a dumb buffer; destroys it if that fails. */
    private DrmBuffer export(DrmDevice.Dumb dumb) {
        try {
            return new DrmBuffer(device, dumb, device.primeExport(dumb.handle()), forceMapDumb);
        } catch (RuntimeException e) {
            device.releaseDumb(dumb.handle()); // the fd, if there was one, was closed by the failing constructor
            throw e;
        }
    }

    /** The buffer, if it holds the bytes asked for; else released and refused. */
    private static DrmBuffer checkSize(DrmBuffer b, AllocationRequest request) {
        if (b.size() < request.size()) {
            DrmDevice.Dumb d = b.dumb();
            b.release();
            throw new InvalidArgumentException("allocate", "a " + d.width() + "x" + d.height() + "x" + d.bpp()
                    + " dumb buffer has " + d.size() + " bytes, fewer than the " + request.size() + " asked for");
        }
        return b;
    }

    @Override
    public ExportedBuffer adopt(int fd, long size) {
        return org.dmabuf.linux.FdBuffer.adopt(fd, size, org.dmabuf.api.BufferKind.DMA_BUF);
    }

    @Override
    public String toString() {
        return "DRM exporter " + device;
    }
}
