package org.dmabuf.exporter.drm;

import java.util.HashMap;
import java.util.Map;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.spi.AllocationRequest;
import org.dmabuf.spi.DmaBufExporter;
import org.dmabuf.spi.ExportedBuffer;

/**
 * A DRM device as an exporter: dumb buffers ({@code DRM_IOCTL_MODE_CREATE_DUMB}) exported with PRIME
 * ({@code DRM_CLOEXEC | DRM_RDWR}). A request with an image format gets that width, height and the fourcc's bits
 * per pixel; a plain byte size becomes lines of 4096 bytes (1024 pixels of 32 bits). Thread-safe: any thread may
 * allocate.
 */
final class DrmExporter implements DmaBufExporter {
    static final int LINE = 4096;
    private final DrmDevice device;
    volatile boolean forceMapDumb;

    DrmExporter(DrmDevice device) {
        this.device = device;
    }

    /** The dumb shape {width, height, bpp} for a request. */
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
        int[] s = shape(request.size(), request.format());
        DrmDevice.Dumb dumb = device.createDumb(s[0], s[1], s[2]);
        DrmBuffer b;
        try {
            b = new DrmBuffer(device, dumb, device.primeExport(dumb.handle()), forceMapDumb);
        } catch (RuntimeException e) {
            device.releaseDumb(dumb.handle()); // the fd, if there was one, was closed by the failing constructor
            throw e;
        }
        if (b.size() < request.size()) {
            b.release();
            throw new InvalidArgumentException("allocate", "a " + s[0] + "x" + s[1] + "x" + s[2]
                    + " dumb buffer has " + dumb.size() + " bytes, fewer than the " + request.size() + " asked for");
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
