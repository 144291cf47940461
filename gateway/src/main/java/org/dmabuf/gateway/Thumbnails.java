package org.dmabuf.gateway;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import javax.imageio.ImageIO;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.MemoryView;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.SyncDirection;

/**
 * Turns a frame into a small JPEG: reads the lines it needs of each plane from the mapped buffers (inside a CPU
 * access: the caller's, or one per buffer that {@link #write(FrameBuffer, Path)} begins and ends), honouring every
 * plane's buffer, offset and stride as the frame's layout gives them, and scales by sampling. Every format of
 * {@link PixelFormat} is read: packed and planar YUV (BT.601, limited range), grey, and 24- and 32-bit RGB, with its
 * planes in one buffer or in one buffer each. Stateless; any thread.
 */
final class Thumbnails {
    static final int WIDTH = 160;

    private Thumbnails() {
    }

    /**
     * One plane of an image: the memory it is in, where it starts, and the bytes from one line to the next.
     *
     * @param memory the mapped buffer that holds the plane, inside a READ access
     * @param offset the plane's first byte in it
     * @param stride bytes per line, at least the plane's line
     */
    record PlaneView(MemoryView memory, long offset, int stride) {
    }

    /**
     * Writes a thumbnail of a frame: every buffer of it mapped under a READ access for the time it takes, every
     * plane read from its buffer at its offset and stride.
     *
     * @param frame the frame
     * @param file the JPEG to write
     * @return the thumbnail's height
     * @throws IOException if the format is not one of {@link PixelFormat}, a plane does not fit its buffer, or the
     *         JPEG cannot be written
     */
    static int write(FrameBuffer frame, Path file) throws IOException {
        BufferedImage img = render(frame);
        writeJpeg(img, file);
        return img.getHeight();
    }

    /**
     * The thumbnail of a frame as an image, read under a READ access on each of its buffers.
     *
     * @param frame the frame
     * @return the image
     * @throws IOException if the format is not one of {@link PixelFormat} or a plane does not fit its buffer
     */
    static BufferedImage render(FrameBuffer frame) throws IOException {
        List<CpuAccess> accesses = new ArrayList<>();
        try {
            for (DmaBuf b : frame.buffers()) {
                accesses.add(b.beginCpuAccess(SyncDirection.READ));
            }
            return render(accesses, frame.format());
        } finally {
            for (int i = accesses.size() - 1; i >= 0; i--) {
                accesses.get(i).close();
            }
        }
    }

    /**
     * The thumbnail of a frame as an image, from its buffers' memory.
     *
     * @param buffers the frame's buffers, by the index its planes name, inside a READ access
     * @param format its layout
     * @return the image
     * @throws IOException if the format is not one of {@link PixelFormat} or a plane does not fit its buffer
     */
    static BufferedImage render(List<? extends MemoryView> buffers, BufferFormat format) throws IOException {
        PixelFormat pf = pixelFormat(format);
        return render(planes(buffers, format, pf), pf, format.width(), format.height());
    }

    /**
     * Writes a thumbnail of a frame from its buffers' memory.
     *
     * @param buffers the frame's buffers, by the index its planes name, inside a READ access
     * @param format its layout
     * @param file the JPEG to write
     * @return the thumbnail's height
     * @throws IOException if the format is not one of {@link PixelFormat}, a plane does not fit its buffer, or the
     *         JPEG cannot be written
     */
    static int write(List<? extends MemoryView> buffers, BufferFormat format, Path file) throws IOException {
        BufferedImage img = render(buffers, format);
        writeJpeg(img, file);
        return img.getHeight();
    }

    /**
     * Writes a thumbnail of a frame whose planes share one buffer, as {@link BufferFormat} describes it.
     *
     * @param frame the frame's memory, inside a READ access
     * @param format its layout
     * @param file the JPEG to write
     * @return the thumbnail's height
     * @throws IOException if the format is not one of {@link PixelFormat}, or the JPEG cannot be written
     */
    static int write(MemoryView frame, BufferFormat format, Path file) throws IOException {
        return write(List.of(frame), format, file);
    }

    private static PixelFormat pixelFormat(BufferFormat format) throws IOException {
        Optional<PixelFormat> pf = format.pixelFormat().or(() -> PixelFormat.ofDrm(format.fourcc()))
                .or(() -> PixelFormat.ofV4l2(format.fourcc()));
        if (pf.isEmpty()) {
            throw new IOException("no thumbnail for format " + format.describe());
        }
        return pf.get();
    }

    /**
     * The view of each plane of a layout: its buffer's memory at its offset and stride. Where the format lists only
     * the first plane (V4L2's single-planar API gives one {@code bytesperline}), the other planes follow it as
     * V4L2 lays them out: each right after the previous one, with the stride scaled by the chroma subsampling.
     */
    static List<PlaneView> planes(List<? extends MemoryView> buffers, BufferFormat format, PixelFormat pf)
            throws IOException {
        List<PlaneView> planes = new ArrayList<>();
        for (int p = 0; p < pf.planes(); p++) {
            long offset;
            int stride;
            MemoryView memory;
            if (p < format.planes().size()) {
                Plane plane = format.planes().get(p);
                if (plane.buffer() >= buffers.size()) {
                    throw new IOException(format.describe() + ": plane " + p + " is in buffer " + plane.buffer()
                            + " of a frame of " + buffers.size());
                }
                memory = buffers.get(plane.buffer());
                offset = plane.offset();
                stride = plane.stride();
            } else {
                PlaneView prev = planes.get(p - 1);
                memory = prev.memory();
                offset = prev.offset() + (long) prev.stride() * pf.lines(p - 1, format.height());
                // V4L2: a chroma plane's bytesperline is the first plane's, scaled as its line is
                stride = (int) (pf.lineBytes(p, format.width()) * planes.get(0).stride()
                        / pf.lineBytes(0, format.width()));
            }
            planes.add(new PlaneView(memory, offset, stride));
        }
        return planes;
    }

    /**
     * Writes a thumbnail of a frame given plane by plane.
     *
     * @param planes one view per plane of {@code format}, in the format's plane order
     * @param format the pixel format
     * @param width the image's width in pixels
     * @param height the image's height in pixels
     * @param file the JPEG to write
     * @return the thumbnail's height
     * @throws IOException if a plane does not fit its memory, or the JPEG cannot be written
     */
    static int write(List<PlaneView> planes, PixelFormat format, int width, int height, Path file)
            throws IOException {
        BufferedImage img = render(planes, format, width, height);
        writeJpeg(img, file);
        return img.getHeight();
    }

    /**
     * An image as JPEG bytes.
     *
     * @param img the image
     * @return the JPEG
     * @throws IOException if this Java runtime has no JPEG writer
     */
    static byte[] jpeg(BufferedImage img) throws IOException {
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream(8192);
        if (!ImageIO.write(img, "jpg", out)) {
            throw new IOException("no JPEG writer in this Java runtime");
        }
        return out.toByteArray();
    }

    private static void writeJpeg(BufferedImage img, Path file) throws IOException {
        if (!ImageIO.write(img, "jpg", file.toFile())) {
            throw new IOException("no JPEG writer in this Java runtime");
        }
    }

    /** The thumbnail as an image: {@link #WIDTH} pixels wide at most, the frame's aspect kept. */
    static BufferedImage render(List<PlaneView> planes, PixelFormat format, int width, int height)
            throws IOException {
        if (planes.size() != format.planes()) {
            throw new IOException(format + " has " + format.planes() + " planes, " + planes.size() + " given");
        }
        byte[][] lines = new byte[planes.size()][];
        for (int p = 0; p < planes.size(); p++) {
            PlaneView v = planes.get(p);
            long line = format.lineBytes(p, width);
            long end = v.offset() + (long) v.stride() * (format.lines(p, height) - 1) + line;
            if (v.offset() < 0 || v.stride() < line || end > v.memory().size()) {
                throw new IOException(format + " " + width + "x" + height + ": plane " + p + " at offset "
                        + v.offset() + " with stride " + v.stride() + " needs " + end + " bytes of a "
                        + v.memory().size() + "-byte buffer (a line is " + line + " bytes)");
            }
            lines[p] = new byte[(int) line];
        }
        int tw = Math.min(WIDTH, width);
        int th = Math.max(1, (int) ((long) height * tw / width));
        BufferedImage img = new BufferedImage(tw, th, BufferedImage.TYPE_INT_RGB);
        for (int ty = 0; ty < th; ty++) {
            int y = (int) ((long) ty * height / th);
            for (int p = 0; p < planes.size(); p++) {
                PlaneView v = planes.get(p);
                long row = y / format.verticalSubsampling(p);
                v.memory().read(v.offset() + row * v.stride(), lines[p], 0, lines[p].length);
            }
            for (int tx = 0; tx < tw; tx++) {
                int x = (int) ((long) tx * width / tw);
                img.setRGB(tx, ty, pixel(format, lines, x));
            }
        }
        return img;
    }

    /** The RGB of pixel {@code x} of the current lines. */
    private static int pixel(PixelFormat f, byte[][] l, int x) {
        byte[] a = l[0];
        return switch (f) {
            case YUYV -> yuv(a[x * 2], a[(x & ~1) * 2 + 1], a[(x & ~1) * 2 + 3]);
            case UYVY -> yuv(a[x * 2 + 1], a[(x & ~1) * 2], a[(x & ~1) * 2 + 2]);
            case NV12, NV12M, NV16 -> yuv(a[x], l[1][(x / 2) * 2], l[1][(x / 2) * 2 + 1]);
            case NV21, NV21M -> yuv(a[x], l[1][(x / 2) * 2 + 1], l[1][(x / 2) * 2]);
            case YUV420, YUV420M -> yuv(a[x], l[1][x / 2], l[2][x / 2]);
            case GREY -> (a[x] & 0xff) * 0x010101;
            case RGB24 -> rgb(a[x * 3], a[x * 3 + 1], a[x * 3 + 2]);
            case BGR24 -> rgb(a[x * 3 + 2], a[x * 3 + 1], a[x * 3]);
            case XBGR32 -> rgb(a[x * 4 + 2], a[x * 4 + 1], a[x * 4]);
            case XRGB32 -> rgb(a[x * 4 + 1], a[x * 4 + 2], a[x * 4 + 3]);
        };
    }

    private static int rgb(byte r, byte g, byte b) {
        return (r & 0xff) << 16 | (g & 0xff) << 8 | b & 0xff;
    }

    /** BT.601 limited-range YCbCr to RGB, as V4L2's default colorimetry for these formats. */
    private static int yuv(byte yb, byte ub, byte vb) {
        int c = (yb & 0xff) - 16;
        int u = (ub & 0xff) - 128;
        int v = (vb & 0xff) - 128;
        int r = clamp((298 * c + 409 * v + 128) >> 8);
        int g = clamp((298 * c - 100 * u - 208 * v + 128) >> 8);
        int b = clamp((298 * c + 516 * u + 128) >> 8);
        return r << 16 | g << 8 | b;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }
}
