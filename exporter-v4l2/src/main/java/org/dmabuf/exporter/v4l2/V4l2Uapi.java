package org.dmabuf.exporter.v4l2;

import com.sun.jna.NativeLong;
import com.sun.jna.Pointer;
import com.sun.jna.Structure;
import com.sun.jna.Structure.FieldOrder;
import java.lang.ref.Reference;
import java.util.function.IntSupplier;
import org.dmabuf.linux.Ioc;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.Sys;

/**
 * The V4L2 UAPI of {@code <linux/videodev2.h>} this exporter uses, with request numbers from {@link Ioc} and
 * the struct sizes; a C probe checks them. Stateless; each struct instance belongs to one thread.
 */
final class V4l2Uapi {
    static final int V = 'V';
    static final long VIDIOC_QUERYCAP = Ioc.ior(V, 0, Capability.class);
    static final long VIDIOC_ENUM_FMT = Ioc.iowr(V, 2, FmtDesc.class);
    static final long VIDIOC_G_FMT = Ioc.iowr(V, 4, Format.class);
    static final long VIDIOC_S_FMT = Ioc.iowr(V, 5, Format.class);
    static final long VIDIOC_REQBUFS = Ioc.iowr(V, 8, RequestBuffers.class);
    static final long VIDIOC_QUERYBUF = Ioc.iowr(V, 9, Buffer.class);
    static final long VIDIOC_QBUF = Ioc.iowr(V, 15, Buffer.class);
    static final long VIDIOC_EXPBUF = Ioc.iowr(V, 16, ExportBuffer.class);
    static final long VIDIOC_DQBUF = Ioc.iowr(V, 17, Buffer.class);
    static final long VIDIOC_STREAMON = Ioc.iow(V, 18, 4);
    static final long VIDIOC_STREAMOFF = Ioc.iow(V, 19, 4);

    static final NativeLong QUERYCAP = Ioc.request(VIDIOC_QUERYCAP);
    static final NativeLong ENUM_FMT = Ioc.request(VIDIOC_ENUM_FMT);
    static final NativeLong S_FMT = Ioc.request(VIDIOC_S_FMT);
    static final NativeLong REQBUFS = Ioc.request(VIDIOC_REQBUFS);
    static final NativeLong QUERYBUF = Ioc.request(VIDIOC_QUERYBUF);
    static final NativeLong QBUF = Ioc.request(VIDIOC_QBUF);
    static final NativeLong EXPBUF = Ioc.request(VIDIOC_EXPBUF);
    static final NativeLong DQBUF = Ioc.request(VIDIOC_DQBUF);
    static final NativeLong STREAMON = Ioc.request(VIDIOC_STREAMON);
    static final NativeLong STREAMOFF = Ioc.request(VIDIOC_STREAMOFF);

    static final int V4L2_CAP_VIDEO_CAPTURE = 0x00000001;
    static final int V4L2_CAP_VIDEO_CAPTURE_MPLANE = 0x00001000;
    static final int V4L2_CAP_STREAMING = 0x04000000;
    static final int V4L2_CAP_DEVICE_CAPS = 0x80000000;
    static final int V4L2_BUF_TYPE_VIDEO_CAPTURE = 1;
    static final int V4L2_BUF_TYPE_VIDEO_CAPTURE_MPLANE = 9;
    static final int V4L2_MEMORY_MMAP = 1;
    static final int V4L2_MEMORY_DMABUF = 4;
    static final int V4L2_FIELD_NONE = 1;
    static final int VIDEO_MAX_PLANES = 8;
    static final int V4L2_BUF_FLAG_QUEUED = 0x00000002;
    static final int V4L2_BUF_FLAG_DONE = 0x00000004;

    /** Offsets in {@code struct v4l2_pix_format} (48 bytes). */
    static final int PIX_WIDTH = 0;
    static final int PIX_HEIGHT = 4;
    static final int PIX_PIXELFORMAT = 8;
    static final int PIX_FIELD = 12;
    static final int PIX_BYTESPERLINE = 16;
    static final int PIX_SIZEIMAGE = 20;
    /** Offsets in the packed {@code struct v4l2_pix_format_mplane} (192 bytes). */
    static final int MP_PLANE_FMT = 20;
    static final int MP_PLANE_FMT_SIZE = 20;
    static final int MP_NUM_PLANES = 180;

    private V4l2Uapi() {
    }

    /**
     * An ioctl with a struct argument, repeated while it fails with {@code EINTR} (a signal came). {@code EAGAIN}
     * is not repeated: from a non-blocking {@code VIDIOC_DQBUF} it means that no buffer is ready, which the caller
     * decides about. The struct, and the native memory it points to ({@code keepAlive}: the plane array of a
     * multi-planar {@code struct v4l2_buffer}), stay reachable until the call has returned.
     *
     * @param fd the node's fd
     * @param request the request
     * @param name its name, for errors
     * @param target the node and what the call is about, for errors
     * @param arg the argument
     * @param keepAlive native memory the struct points to, or null
     * @return what the driver returns
     * @throws LinuxException naming the ioctl, the target and errno
     */
    static int ioctl(int fd, NativeLong request, String name, String target, Structure arg, Object keepAlive) {
        return Sys.ioctlRetrying(fd, request, name, target, arg, keepAlive, false);
    }

    /**
     * An ioctl with a pointer argument, repeated while it fails with {@code EINTR}; the memory stays reachable
     * until the call has returned.
     */
    static int ioctl(int fd, NativeLong request, String name, String target, com.sun.jna.Memory arg) {
        try {
            return retryingOnEintr(() -> Sys.ioctl(fd, request, name, target, (Pointer) arg));
        } finally {
            Reference.reachabilityFence(arg);
        }
    }

    /**
     * Runs a call again while it fails with {@code EINTR}; any other error, {@code EAGAIN} included, is thrown.
     *
     * @param call the call
     * @return its result
     */
    static int retryingOnEintr(IntSupplier call) {
        return Sys.retrying(call, false);
    }

    /**
     * {@code struct v4l2_capability { __u8 driver[16]; __u8 card[32]; __u8 bus_info[32]; __u32 version;
     * __u32 capabilities; __u32 device_caps; __u32 reserved[3]; }}.
     */
    @FieldOrder({"driver", "card", "bus_info", "version", "capabilities", "device_caps", "reserved"})
    public static class Capability extends Structure {
        /** {@code __u8 driver[16]}. */
        public byte[] driver = new byte[16];
        /** {@code __u8 card[32]}. */
        public byte[] card = new byte[32];
        /** {@code __u8 bus_info[32]}. */
        public byte[] bus_info = new byte[32];
        /** {@code __u32 version}. */
        public int version;
        /** {@code __u32 capabilities}. */
        public int capabilities;
        /** {@code __u32 device_caps}. */
        public int device_caps;
        /** {@code __u32 reserved[3]}. */
        public int[] reserved = new int[3];
    }

    /**
     * {@code struct v4l2_format { __u32 type; union { struct v4l2_pix_format pix; struct v4l2_pix_format_mplane
     * pix_mp; ...; __u8 raw_data[200]; } fmt; }}: the union is 8-byte aligned (it holds pointers), hence
     * {@code pad}; its members are read at the offsets above.
     */
    @FieldOrder({"type", "pad", "fmt"})
    public static class Format extends Structure {
        /** The offset of a field, for the probe test. */
        int offsetOf(String field) {
            return fieldOffset(field);
        }

        /** {@code __u32 type}: {@code V4L2_BUF_TYPE_*}. */
        public int type;
        /** The padding before the 8-byte aligned union. */
        public int pad;
        /** {@code union { ... __u8 raw_data[200]; } fmt}. */
        public byte[] fmt = new byte[200];
    }

    /**
     * {@code struct v4l2_requestbuffers { __u32 count; __u32 type; __u32 memory; __u32 capabilities; __u8 flags;
     * __u8 reserved[3]; }}.
     */
    @FieldOrder({"count", "type", "memory", "capabilities", "flags", "reserved"})
    public static class RequestBuffers extends Structure {
        /** {@code __u32 count}. */
        public int count;
        /** {@code __u32 type}. */
        public int type;
        /** {@code __u32 memory}. */
        public int memory;
        /** {@code __u32 capabilities}. */
        public int capabilities;
        /** {@code __u8 flags}. */
        public byte flags;
        /** {@code __u8 reserved[3]}. */
        public byte[] reserved = new byte[3];
    }

    /**
     * {@code struct v4l2_buffer { __u32 index; __u32 type; __u32 bytesused; __u32 flags; __u32 field;
     * struct timeval timestamp; struct v4l2_timecode timecode; __u32 sequence; __u32 memory;
     * union { __u32 offset; unsigned long userptr; struct v4l2_plane *planes; __s32 fd; } m; __u32 length;
     * __u32 reserved2; union { __s32 request_fd; __u32 reserved; }; }}. {@code struct timeval} is two C
     * {@code long}s and the union {@code m} is as wide as {@code unsigned long}: {@link NativeLong}.
     */
    @FieldOrder({"index", "type", "bytesused", "flags", "field", "tv_sec", "tv_usec", "timecode", "sequence",
        "memory", "m", "length", "reserved2", "request_fd"})
    public static class Buffer extends Structure {
        /** The offset of a field, for the probe test. */
        int offsetOf(String field) {
            return fieldOffset(field);
        }

        /** {@code __u32 index}. */
        public int index;
        /** {@code __u32 type}. */
        public int type;
        /** {@code __u32 bytesused}. */
        public int bytesused;
        /** {@code __u32 flags}. */
        public int flags;
        /** {@code __u32 field}. */
        public int field;
        /** {@code long tv_sec} of {@code struct timeval timestamp}. */
        public NativeLong tv_sec = new NativeLong();
        /** {@code long tv_usec} of {@code struct timeval timestamp}. */
        public NativeLong tv_usec = new NativeLong();
        /** {@code struct v4l2_timecode timecode} (16 bytes, unused). */
        public byte[] timecode = new byte[16];
        /** {@code __u32 sequence}. */
        public int sequence;
        /** {@code __u32 memory}. */
        public int memory;
        /** {@code union m}: {@code fd} or {@code offset} in the low 32 bits, or the {@code planes} pointer. */
        public NativeLong m = new NativeLong();
        /** {@code __u32 length}: bytes, or the number of planes for the multi-planar API. */
        public int length;
        /** {@code __u32 reserved2}. */
        public int reserved2;
        /** {@code __s32 request_fd}. */
        public int request_fd;
    }

    /**
     * {@code struct v4l2_plane { __u32 bytesused; __u32 length; union { __u32 mem_offset; unsigned long userptr;
     * __s32 fd; } m; __u32 data_offset; __u32 reserved[11]; }}.
     */
    @FieldOrder({"bytesused", "length", "m", "data_offset", "reserved"})
    public static class Plane extends Structure {
        /** The offset of a field, for the probe test. */
        int offsetOf(String field) {
            return fieldOffset(field);
        }

        /** {@code __u32 bytesused}. */
        public int bytesused;
        /** {@code __u32 length}. */
        public int length;
        /** {@code union m}: {@code fd} or {@code mem_offset} in the low 32 bits. */
        public NativeLong m = new NativeLong();
        /** {@code __u32 data_offset}. */
        public int data_offset;
        /** {@code __u32 reserved[11]}. */
        public int[] reserved = new int[11];
    }

    /**
     * {@code struct v4l2_exportbuffer { __u32 type; __u32 index; __u32 plane; __u32 flags; __s32 fd;
     * __u32 reserved[11]; }}.
     */
    @FieldOrder({"type", "index", "plane", "flags", "fd", "reserved"})
    public static class ExportBuffer extends Structure {
        /** {@code __u32 type}. */
        public int type;
        /** {@code __u32 index}. */
        public int index;
        /** {@code __u32 plane}. */
        public int plane;
        /** {@code __u32 flags}: {@code O_CLOEXEC | O_RDWR}. */
        public int flags;
        /** {@code __s32 fd}: out. */
        public int fd;
        /** {@code __u32 reserved[11]}. */
        public int[] reserved = new int[11];
    }

    /**
     * {@code struct v4l2_fmtdesc { __u32 index; __u32 type; __u32 flags; __u8 description[32]; __u32 pixelformat;
     * __u32 mbus_code; __u32 reserved[3]; }}.
     */
    @FieldOrder({"index", "type", "flags", "description", "pixelformat", "mbus_code", "reserved"})
    public static class FmtDesc extends Structure {
        /** The offset of a field, for the probe test. */
        int offsetOf(String field) {
            return fieldOffset(field);
        }

        /** {@code __u32 index}: in. */
        public int index;
        /** {@code __u32 type}: in, {@code enum v4l2_buf_type}. */
        public int type;
        /** {@code __u32 flags}. */
        public int flags;
        /** {@code __u8 description[32]}. */
        public byte[] description = new byte[32];
        /** {@code __u32 pixelformat}: the fourcc. */
        public int pixelformat;
        /** {@code __u32 mbus_code}. */
        public int mbus_code;
        /** {@code __u32 reserved[3]}. */
        public int[] reserved = new int[3];
    }
}
