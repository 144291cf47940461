package org.dmabuf.exporter.v4l2;

import com.sun.jna.LastErrorException;
import com.sun.jna.Memory;
import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.LibC;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.SocketLibC;
import org.dmabuf.linux.Statx;
import org.dmabuf.linux.Sys;

/**
 * One open V4L2 capture node: {@code VIDIOC_QUERYCAP}, {@code S_FMT}, {@code REQBUFS}, {@code EXPBUF},
 * {@code QBUF}/{@code DQBUF}, {@code STREAMON}/{@code OFF}, for the single-planar and the multi-planar API (the
 * multi-planar one when the node offers it).
 *
 * <p>Every ioctl is repeated on {@code EINTR}, and the native memory it is given (the struct, and the plane array a
 * multi-planar {@code struct v4l2_buffer} points to) stays reachable until it returns.
 *
 * <p>Threads: the kernel serialises ioctls on the node; callers serialise queueing (the capture thread and frame
 * owners synchronise on this object).
 */
final class V4l2Device implements CaptureDevice, AutoCloseable {
    /**
     * A dequeued buffer: index, sequence, timestamp in nanoseconds, and the bytes used of each V4L2 plane (one for
     * the single-planar API; {@code num_planes} for the multi-planar one).
     */
    record Dequeued(int index, long sequence, long timestampNanos, List<Long> bytesUsed) {
        Dequeued {
            bytesUsed = List.copyOf(bytesUsed);
        }
    }

    private final Fd fd;
    private final String path;
    private final String driver;
    private final String card;
    private final boolean mplane;
    private final int bufType;

    /**
     * Opens a node and checks it can capture with streaming I/O.
     *
     * @throws LinuxException naming {@code open} or {@code ioctl(VIDIOC_QUERYCAP)}, the path and errno
     *         ({@code ENOTTY} for a node that is not V4L2, {@code EINVAL} for one that cannot capture)
     */
    V4l2Device(String path) {
        this.path = path;
        this.fd = Sys.open(path, LibC.O_RDWR | LibC.O_NONBLOCK);
        try {
            V4l2Uapi.Capability c = new V4l2Uapi.Capability();
            V4l2Uapi.ioctl(fd.get(), V4l2Uapi.QUERYCAP, "VIDIOC_QUERYCAP", path, c, null);
            this.driver = cString(c.driver);
            this.card = cString(c.card);
            int caps = (c.capabilities & V4l2Uapi.V4L2_CAP_DEVICE_CAPS) != 0 ? c.device_caps : c.capabilities;
            boolean single = (caps & V4l2Uapi.V4L2_CAP_VIDEO_CAPTURE) != 0;
            this.mplane = (caps & V4l2Uapi.V4L2_CAP_VIDEO_CAPTURE_MPLANE) != 0;
            if (!(single || mplane) || (caps & V4l2Uapi.V4L2_CAP_STREAMING) == 0) {
                throw new LinuxException("ioctl(VIDIOC_QUERYCAP)", path + " (" + driver + ") cannot capture with "
                        + "streaming I/O: device caps 0x" + Integer.toHexString(caps), Errno.EINVAL);
            }
            this.bufType = mplane ? V4l2Uapi.V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE : V4l2Uapi.V4L2_BUF_TYPE_VIDEO_CAPTURE;
        } catch (RuntimeException e) {
            fd.close();
            throw e;
        }
    }

    private static String cString(byte[] b) {
        int n = 0;
        while (n < b.length && b[n] != 0) {
            n++;
        }
        return new String(b, 0, n, StandardCharsets.UTF_8);
    }

    @Override
    public String path() {
        return path;
    }

    String driver() {
        return driver;
    }

    String card() {
        return card;
    }

    boolean multiPlanar() {
        return mplane;
    }

    /**
     * {@code VIDIOC_ENUM_FMT} for this node's capture type: the pixel formats the driver offers.
     *
     * @return the V4L2 fourccs, in the driver's order
     * @throws LinuxException naming the ioctl, the node and errno (other than the {@code EINVAL} that ends the list)
     */
    java.util.List<Integer> enumFormats() {
        java.util.List<Integer> out = new java.util.ArrayList<>();
        for (int i = 0; ; i++) {
            V4l2Uapi.FmtDesc d = new V4l2Uapi.FmtDesc();
            d.index = i;
            d.type = bufType;
            try {
                V4l2Uapi.ioctl(fd.get(), V4l2Uapi.ENUM_FMT, "VIDIOC_ENUM_FMT", path + ", index " + i, d, null);
            } catch (LinuxException e) {
                if (e.errnoValue() == Errno.EINVAL) {
                    return out; // the end of the list
                }
                throw e;
            }
            d.read();
            out.add(d.pixelformat);
        }
    }

    /**
     * {@code VIDIOC_S_FMT}; the driver may adjust the size. Returns the layout the driver set, as DRM describes it:
     * the DRM fourcc of the table's format ({@link PixelFormat#ofV4l2}), {@link PixelFormat#MOD_LINEAR}, and one
     * {@link Plane} per image plane:
     * <ul>
     * <li>a format with a buffer per plane ({@code NV12M}, {@code YUV420M}; {@code v4l2_pix_format_mplane} with
     * {@code num_planes} > 1): plane {@code p} in buffer {@code p} at offset 0, with that V4L2 plane's
     * {@code bytesperline} as its stride and its {@code sizeimage} as its length;</li>
     * <li>a format in one buffer, in either API ({@code YUYV}; {@code NV12} and {@code YUV420} planar in one buffer):
     * every plane in buffer 0 where V4L2 puts it: the first at 0 with stride {@code bytesperline}, each next one
     * right after the one before, its stride derived as V4L2 derives it ({@code bytesperline × cpp[p] / cpp[0] /
     * hsub}: NV12's CbCr at {@code bytesperline × height} with stride {@code bytesperline}, YUV420's Cb there with
     * stride {@code bytesperline / 2} and Cr after it); the last plane reaches to {@code sizeimage}, so that the
     * buffer's size ({@link BufferFormat#bufferSize}) is the driver's {@code sizeimage}.</li>
     * </ul>
     *
     * @param width width asked for
     * @param height height asked for
     * @param v4l2Fourcc the V4L2 pixel format ({@code V4L2_PIX_FMT_*}, for example {@code NM12})
     * @return the layout the driver set
     * @throws InvalidArgumentException naming the node and the formats it captures that the table has, for a pixel
     *         format the table does not have
     * @throws LinuxException {@code EINVAL} naming both fourccs and the formats the node captures when the driver
     *         does not capture that format, or naming the planes when its {@code sizeimage} or plane count
     *         contradict the format; else naming the ioctl, the node and errno
     */
    BufferFormat setFormat(int width, int height, int v4l2Fourcc) {
        PixelFormat pf = PixelFormat.ofV4l2(v4l2Fourcc).orElseThrow(() -> new InvalidArgumentException(
                "V4l2Device.setFormat", path + " (" + driver + "): " + fourccName(v4l2Fourcc)
                        + " is not a pixel format of the table (org.dmabuf.api.PixelFormat); the node captures "
                        + supported()));
        V4l2Uapi.Format f = new V4l2Uapi.Format();
        f.type = bufType;
        ByteBuffer b = ByteBuffer.wrap(f.fmt).order(ByteOrder.nativeOrder());
        b.putInt(V4l2Uapi.PIX_WIDTH, width).putInt(V4l2Uapi.PIX_HEIGHT, height).putInt(V4l2Uapi.PIX_PIXELFORMAT,
                v4l2Fourcc).putInt(V4l2Uapi.PIX_FIELD, V4l2Uapi.V4L2_FIELD_NONE);
        if (mplane) {
            b.put(V4l2Uapi.MP_NUM_PLANES, (byte) pf.memoryPlanes());
        }
        V4l2Uapi.ioctl(fd.get(), V4l2Uapi.S_FMT, "VIDIOC_S_FMT", path, f, null);
        b = ByteBuffer.wrap(f.fmt).order(ByteOrder.nativeOrder());
        int got = b.getInt(V4l2Uapi.PIX_PIXELFORMAT);
        if (got != v4l2Fourcc) {
            throw new LinuxException("ioctl(VIDIOC_S_FMT)", path + " (" + driver + ") does not capture "
                    + fourccName(v4l2Fourcc) + "; it offered " + fourccName(got) + "; it captures " + supported(),
                    Errno.EINVAL);
        }
        int w = b.getInt(V4l2Uapi.PIX_WIDTH);
        int h = b.getInt(V4l2Uapi.PIX_HEIGHT);
        int n;
        long[] bytesPerLine;
        long[] sizeImage;
        if (mplane) {
            n = b.get(V4l2Uapi.MP_NUM_PLANES) & 0xff;
            bytesPerLine = new long[n];
            sizeImage = new long[n];
            for (int i = 0; i < n && i < V4l2Uapi.VIDEO_MAX_PLANES; i++) {
                int at = V4l2Uapi.MP_PLANE_FMT + i * V4l2Uapi.MP_PLANE_FMT_SIZE;
                sizeImage[i] = b.getInt(at) & 0xffffffffL;
                bytesPerLine[i] = b.getInt(at + 4) & 0xffffffffL;
            }
        } else {
            n = 1;
            bytesPerLine = new long[] {b.getInt(V4l2Uapi.PIX_BYTESPERLINE) & 0xffffffffL};
            sizeImage = new long[] {b.getInt(V4l2Uapi.PIX_SIZEIMAGE) & 0xffffffffL};
        }
        return layout(toString(), pf, w, h, bytesPerLine, sizeImage);
    }

    /**
     * The layout of a format from the {@code bytesperline} and {@code sizeimage} of each V4L2 plane the driver set,
     * as {@link #setFormat} describes it.
     *
     * @param node the node and driver, for errors
     * @param pf the format the driver set
     * @param width its width
     * @param height its height
     * @param bytesPerLine {@code bytesperline} of each V4L2 plane
     * @param sizeImage {@code sizeimage} of each V4L2 plane
     * @return the layout
     * @throws LinuxException {@code EINVAL} when the V4L2 planes contradict the format
     */
    static BufferFormat layout(String node, PixelFormat pf, int width, int height, long[] bytesPerLine,
            long[] sizeImage) {
        int n = bytesPerLine.length;
        String what = node + " set " + fourccName(pf.v4l2Fourcc()) + " " + width + "x" + height
                + " with bytesperline " + java.util.Arrays.toString(bytesPerLine) + " and sizeimage "
                + java.util.Arrays.toString(sizeImage);
        if (n != pf.memoryPlanes()) {
            throw new LinuxException("ioctl(VIDIOC_S_FMT)", what + ": " + pf.memoryPlanes() + " V4L2 planes expected, "
                    + n + " set", Errno.EINVAL);
        }
        List<Plane> planes = new ArrayList<>();
        if (n > 1) {
            for (int p = 0; p < n; p++) {
                planes.add(new Plane(p, 0, sizeImage[p], stride(what, bytesPerLine[p])));
            }
        } else {
            long offset = 0;
            int cpp0 = pf.bytesPerPixel(0);
            for (int p = 0; p < pf.planes(); p++) {
                long stride = p == 0 ? bytesPerLine[0]
                        : bytesPerLine[0] * pf.bytesPerPixel(p) / ((long) cpp0 * pf.horizontalSubsampling(p));
                long length = stride * pf.lines(p, height);
                if (p == pf.planes() - 1) {
                    if (sizeImage[0] - offset < length) {
                        throw new LinuxException("ioctl(VIDIOC_S_FMT)", what + ": its " + pf.planes()
                                + " planes need " + (offset + length) + " bytes", Errno.EINVAL);
                    }
                    length = sizeImage[0] - offset; // the last plane reaches to sizeimage
                }
                planes.add(new Plane(0, offset, length, stride(what, stride)));
                offset += length;
            }
        }
        try {
            return new BufferFormat(pf.drmFourcc(), PixelFormat.MOD_LINEAR, width, height, planes);
        } catch (InvalidArgumentException e) {
            throw new LinuxException("ioctl(VIDIOC_S_FMT)", what + ": " + e.getMessage(), Errno.EINVAL);
        }
    }

    private static int stride(String what, long stride) {
        if (stride > Integer.MAX_VALUE) {
            throw new LinuxException("ioctl(VIDIOC_S_FMT)", what + ": a stride of " + stride
                    + " bytes does not fit in 32 bits", Errno.EINVAL);
        }
        return (int) stride;
    }

    /** The formats the node captures that the table has, as V4L2 names them, for errors. */
    private String supported() {
        List<String> names = new ArrayList<>();
        try {
            for (int code : enumFormats()) {
                if (PixelFormat.ofV4l2(code).isPresent()) {
                    names.add(fourccName(code));
                }
            }
        } catch (LinuxException e) {
            return "(VIDIOC_ENUM_FMT failed: " + e.getMessage() + ")";
        }
        return names.isEmpty() ? "no format of the table" : String.join(", ", names);
    }

    static String fourccName(int f) {
        return new String(new char[] {(char) (f & 0xff), (char) (f >> 8 & 0xff), (char) (f >> 16 & 0xff),
            (char) (f >>> 24)});
    }

    /**
     * {@code VIDIOC_REQBUFS}.
     *
     * @param count buffers wanted; 0 frees the queue
     * @param memory {@code V4L2_MEMORY_MMAP} or {@code V4L2_MEMORY_DMABUF}
     * @return the count the driver granted
     */
    @Override
    public int requestBuffers(int count, int memory) {
        V4l2Uapi.RequestBuffers r = new V4l2Uapi.RequestBuffers();
        r.count = count;
        r.type = bufType;
        r.memory = memory;
        V4l2Uapi.ioctl(fd.get(), V4l2Uapi.REQBUFS, "VIDIOC_REQBUFS", path + ", count " + count, r, null);
        return r.count;
    }

    /**
     * {@code VIDIOC_EXPBUF} of one plane of one MMAP buffer.
     *
     * @return the dma-buf fd, owned by the caller
     */
    Fd export(int index, int plane) {
        V4l2Uapi.ExportBuffer e = new V4l2Uapi.ExportBuffer();
        e.type = bufType;
        e.index = index;
        e.plane = plane;
        e.flags = LibC.O_CLOEXEC | LibC.O_RDWR;
        V4l2Uapi.ioctl(fd.get(), V4l2Uapi.EXPBUF, "VIDIOC_EXPBUF", path + ", buffer " + index + " plane " + plane,
                e, null);
        return new Fd(e.fd, "dma-buf of " + path + " buffer " + index + (mplane ? " plane " + plane : ""));
    }

    /**
     * {@code VIDIOC_QBUF} of an MMAP buffer.
     *
     * @param index the buffer
     * @param planes its number of V4L2 planes (the format's buffers); 1 for the single-planar API
     */
    @Override
    public void queueMmap(int index, int planes) {
        queue(index, V4l2Uapi.V4L2_MEMORY_MMAP, new int[planes], new long[planes]);
    }

    /**
     * {@code VIDIOC_QBUF} of buffers of another exporter ({@code V4L2_MEMORY_DMABUF}): one dma-buf per V4L2 plane,
     * in {@code m.planes[i].m.fd} for the multi-planar API.
     *
     * @param index the buffer
     * @param dmabufFds the dma-buf of each V4L2 plane
     * @param lengths the size of each
     */
    @Override
    public void queueDmabuf(int index, int[] dmabufFds, long[] lengths) {
        queue(index, V4l2Uapi.V4L2_MEMORY_DMABUF, dmabufFds, lengths);
    }

    private void queue(int index, int memory, int[] dmabufFds, long[] lengths) {
        V4l2Uapi.Buffer b = new V4l2Uapi.Buffer();
        b.index = index;
        b.type = bufType;
        b.memory = memory;
        b.field = V4l2Uapi.V4L2_FIELD_NONE;
        V4l2Uapi.Plane[] planes = null;
        if (mplane) {
            planes = (V4l2Uapi.Plane[]) new V4l2Uapi.Plane().toArray(dmabufFds.length);
            for (int p = 0; p < planes.length; p++) {
                if (memory == V4l2Uapi.V4L2_MEMORY_DMABUF) {
                    planes[p].m = new NativeLong(dmabufFds[p]);
                    planes[p].length = (int) lengths[p];
                }
                planes[p].write();
            }
            b.m = new NativeLong(Pointer.nativeValue(planes[0].getPointer()));
            b.length = planes.length;
        } else {
            if (dmabufFds.length != 1) {
                throw new InvalidArgumentException("VIDIOC_QBUF", path + " captures with the single-planar API: "
                        + "one buffer per frame, not " + dmabufFds.length);
            }
            if (memory == V4l2Uapi.V4L2_MEMORY_DMABUF) {
                b.m = new NativeLong(dmabufFds[0]);
                b.length = (int) lengths[0];
            }
        }
        // the plane array is native memory only the struct's pointer refers to: keep it until the call returns
        V4l2Uapi.ioctl(fd.get(), V4l2Uapi.QBUF, "VIDIOC_QBUF", path + ", buffer " + index, b, planes);
    }

    /**
     * A {@code struct v4l2_buffer} for DQBUF or QUERYBUF, with a plane array of {@code VIDEO_MAX_PLANES} for the
     * multi-planar API (held by the returned pair so that it stays reachable).
     */
    private record BufferArg(V4l2Uapi.Buffer buffer, V4l2Uapi.Plane[] planes) {
    }

    private BufferArg bufferArg(int index, int memory) {
        V4l2Uapi.Buffer b = new V4l2Uapi.Buffer();
        b.index = index;
        b.type = bufType;
        b.memory = memory;
        V4l2Uapi.Plane[] planes = null;
        if (mplane) {
            planes = (V4l2Uapi.Plane[]) new V4l2Uapi.Plane().toArray(V4l2Uapi.VIDEO_MAX_PLANES);
            for (V4l2Uapi.Plane pl : planes) {
                pl.write();
            }
            b.m = new NativeLong(Pointer.nativeValue(planes[0].getPointer()));
            b.length = V4l2Uapi.VIDEO_MAX_PLANES;
        }
        return new BufferArg(b, planes);
    }

    /**
     * {@code VIDIOC_QUERYBUF}: the buffer's flags ({@code V4L2_BUF_FLAG_QUEUED} while the driver holds it,
     * {@code V4L2_BUF_FLAG_DONE} while it waits to be dequeued).
     *
     * @param index the buffer
     * @param memory the queue's memory type
     * @return {@code V4L2_BUF_FLAG_*}
     */
    int queryFlags(int index, int memory) {
        BufferArg a = bufferArg(index, memory);
        V4l2Uapi.ioctl(fd.get(), V4l2Uapi.QUERYBUF, "VIDIOC_QUERYBUF", path + ", buffer " + index, a.buffer(),
                a.planes());
        return a.buffer().flags;
    }

    /**
     * Waits for a filled buffer and dequeues it ({@code VIDIOC_DQBUF}); a signal that interrupts the wait
     * ({@code EINTR}) does not end it: it goes on for the time left.
     *
     * @param memory the queue's memory type
     * @param timeout how long to wait
     * @return the buffer, or null if none was ready in time
     */
    @Override
    public Dequeued dequeue(int memory, Duration timeout) {
        // Sys.poll: a signal that interrupts the wait (EINTR) does not end it before its time
        if (!Sys.poll(fd.get(), SocketLibC.POLLIN, timeout, "poll", path)) {
            return null;
        }
        return dequeueReady(memory);
    }

    /**
     * {@code VIDIOC_DQBUF} without waiting (the node is non-blocking): repeated on {@code EINTR}; {@code EAGAIN}
     * means that no filled buffer is ready and returns null at once.
     *
     * @param memory the queue's memory type
     * @return the buffer, or null if none is ready
     * @throws LinuxException naming the ioctl, the node and errno ({@code EINVAL} when not streaming)
     */
    Dequeued dequeueReady(int memory) {
        BufferArg a = bufferArg(0, memory);
        V4l2Uapi.Buffer b = a.buffer();
        try {
            V4l2Uapi.ioctl(fd.get(), V4l2Uapi.DQBUF, "VIDIOC_DQBUF", path, b, a.planes());
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.EAGAIN) {
                return null;
            }
            throw e;
        }
        List<Long> used = new ArrayList<>();
        if (a.planes() != null) {
            // the driver sets length to the buffer's num_planes
            for (int p = 0; p < Math.min(b.length, V4l2Uapi.VIDEO_MAX_PLANES); p++) {
                a.planes()[p].read();
                used.add(a.planes()[p].bytesused & 0xffffffffL);
            }
        } else {
            used.add(b.bytesused & 0xffffffffL);
        }
        long ts = b.tv_sec.longValue() * 1_000_000_000L + b.tv_usec.longValue() * 1000L;
        return new Dequeued(b.index, b.sequence & 0xffffffffL, ts, used);
    }

    @Override
    public void streamOn() {
        stream(V4l2Uapi.STREAMON, "VIDIOC_STREAMON");
    }

    @Override
    public void streamOff() {
        stream(V4l2Uapi.STREAMOFF, "VIDIOC_STREAMOFF");
    }

    private void stream(NativeLong request, String name) {
        Memory type = new Memory(4);
        type.setInt(0, bufType);
        V4l2Uapi.ioctl(fd.get(), request, name, path, type);
    }

    /**
     * Whether the queue attaches the dma-bufs queued with {@code V4L2_MEMORY_DMABUF} ({@code dma_buf_attach}), which
     * depends on videobuf2's memory allocator: found by exporting one MMAP buffer and reading its {@code exp_name}
     * ({@code videobuf2_vmalloc} maps dma-bufs without attaching; {@code videobuf2_dma_contig} and
     * {@code videobuf2_dma_sg} attach). A driver that cannot export is taken to attach. Only while the queue is
     * idle: it requests one MMAP buffer and frees the queue again.
     *
     * @return false for the vmalloc allocator
     */
    boolean queueAttachesDmaBufs() {
        try {
            if (requestBuffers(1, V4l2Uapi.V4L2_MEMORY_MMAP) < 1) {
                return true;
            }
            try (Fd probe = export(0, 0)) {
                return !"videobuf2_vmalloc".equals(org.dmabuf.linux.FdInfo.read(probe.get()).expName());
            } finally {
                requestBuffers(0, V4l2Uapi.V4L2_MEMORY_MMAP);
            }
        } catch (LinuxException e) {
            return true;
        }
    }

    /**
     * The kernel's name of the device ({@code dev_name}): the name of the node's {@code device} link in sysfs,
     * found from the node's device number ({@code /sys/dev/char/MAJOR:MINOR/device}, the same folder as
     * {@code /sys/class/video4linux/videoN/device}), as debugfs {@code dma_buf/bufinfo} lists it under "Attached
     * Devices" where the queue attaches dma-bufs: for example {@code vivid.0} (vivid's instances share it).
     *
     * @return the name, or empty where sysfs does not show it
     */
    Optional<String> kernelName() {
        Statx st = new Statx();
        try {
            LibC.statx(fd.get(), "", LibC.AT_EMPTY_PATH, LibC.STATX_BASIC, st.getPointer());
        } catch (LastErrorException e) {
            throw new LinuxException("statx", path + " (fd " + fd.get() + ")", e.getErrorCode());
        }
        st.read();
        try {
            return Optional.of(Path.of("/sys/dev/char/" + st.stx_rdev_major + ":" + st.stx_rdev_minor, "device")
                    .toRealPath().getFileName().toString());
        } catch (IOException e) {
            return Optional.empty();
        }
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return path + " (" + driver + ", " + card + ")";
    }
}
