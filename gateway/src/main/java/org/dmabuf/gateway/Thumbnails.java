package org.dmabuf.gateway;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.MemoryView;

/**
 * Turns a frame into a small JPEG: reads the lines it needs from the mapped buffer (inside the caller's CPU access)
 * and scales by sampling. Formats: YUYV (cameras) and XR24/AR24 (the test pattern). Stateless; any thread.
 */
final class Thumbnails {
    static final int WIDTH = 160;

    private Thumbnails() {
    }

    /**
     * Writes a thumbnail.
     *
     * @param frame the frame's memory, inside a READ access
     * @param format its layout
     * @param file the JPEG to write
     * @return the thumbnail's height
     */
    static int write(MemoryView frame, BufferFormat format, Path file) throws IOException {
        int w = format.width();
        int h = format.height();
        int stride = format.planes().get(0).stride();
        int tw = Math.min(WIDTH, w);
        int th = Math.max(1, h * tw / w);
        BufferedImage img = new BufferedImage(tw, th, BufferedImage.TYPE_INT_RGB);
        byte[] line = new byte[stride];
        String fourcc = format.fourccName();
        for (int ty = 0; ty < th; ty++) {
            int y = ty * h / th;
            frame.read((long) y * stride, line, 0, stride);
            for (int tx = 0; tx < tw; tx++) {
                int x = tx * w / tw;
                img.setRGB(tx, ty, switch (fourcc) {
                    case "YUYV" -> yuyv(line, x);
                    case "XR24", "AR24" -> (line[4 * x + 2] & 0xff) << 16 | (line[4 * x + 1] & 0xff) << 8
                            | line[4 * x] & 0xff;
                    default -> throw new IOException("no thumbnail for format " + fourcc);
                });
            }
        }
        if (!ImageIO.write(img, "jpg", file.toFile())) {
            throw new IOException("no JPEG writer in this Java runtime");
        }
        return th;
    }

    private static int yuyv(byte[] line, int x) {
        int base = (x & ~1) * 2;
        int y = line[base + (x & 1) * 2] & 0xff;
        int u = (line[base + 1] & 0xff) - 128;
        int v = (line[base + 3] & 0xff) - 128;
        int c = y - 16;
        int r = clamp((298 * c + 409 * v + 128) >> 8);
        int g = clamp((298 * c - 100 * u - 208 * v + 128) >> 8);
        int b = clamp((298 * c + 516 * u + 128) >> 8);
        return r << 16 | g << 8 | b;
    }

    private static int clamp(int v) {
        return v < 0 ? 0 : Math.min(255, v);
    }
}
