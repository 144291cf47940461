package org.dmabuf.gateway;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.api.SyncDirection;
import org.dmabuf.core.StandaloneRegistry;

/**
 * The small consumer program shipped with the gateway: connects to the gateway's frame socket, receives every
 * frame as a buffer, or the buffers of a multi-planar frame (zero copy: the same memory), checks the test pattern's
 * frame number where there is one, optionally writes thumbnails of what it received (read plane by plane from the
 * received buffers, at the offsets and strides the frame's layout gives), and reports what it saw. Run it outside
 * OSGi: {@code java -cp dmabuf-gateway.jar org.dmabuf.gateway.Consumer work/run/frames.sock [WAIT [THUMBNAIL_DIR]]}. A frame the channel refuses
 * (it breaks the wire format, or its fd is not a buffer) is counted and reported, and the program goes on with the
 * next one; it ends at the gateway's end of stream. Exits 0 when it received at least one frame, 1 otherwise.
 * Single-threaded.
 */
public final class Consumer {
    private Consumer() {
    }

    /**
     * Runs the consumer.
     *
     * @param args the socket file; optionally how long to wait for it, in seconds (default 60); optionally a folder
     *        for thumbnails of the first frame and every tenth ({@code consumer-TAG.jpg})
     */
    public static void main(String[] args) throws Exception {
        if (args.length < 1) {
            System.err.println("usage: java -cp dmabuf-gateway.jar org.dmabuf.gateway.Consumer SOCKET [WAIT_SECONDS"
                    + " [THUMBNAIL_DIR]]");
            System.exit(2);
        }
        if (System.getProperty("jna.tmpdir") == null) { // JNA's native library: in the distribution, as the gateway's
            System.setProperty("jna.tmpdir", Main.distribution().resolve("work").resolve("jna").toString());
        }
        Path socket = Path.of(args[0]);
        long wait = args.length > 1 ? Long.parseLong(args[1]) : 60;
        Path thumbnails = args.length > 2 ? Files.createDirectories(Path.of(args[2])) : null;
        int received;
        // the registry (and the native library it loads) first: started beside the gateway, the consumer gets
        // ready while the gateway starts, instead of after its socket appeared
        try (StandaloneRegistry registry = new StandaloneRegistry("consumer")) {
            long deadline = System.nanoTime() + wait * 1_000_000_000L;
            while (!Files.exists(socket)) {
                if (System.nanoTime() > deadline) {
                    System.out.println("consumer: FAILED: " + socket + " did not appear within " + wait + " s");
                    System.exit(1);
                }
                Thread.sleep(5); // polling for a file another process creates (its folder may not exist yet either)
            }
            received = receive(registry, socket, wait, thumbnails);
        }
        System.exit(received > 0 ? 0 : 1);
    }

    /** Receives frames until the gateway's end of stream; returns how many it received. */
    private static int receive(StandaloneRegistry registry, Path socket, long wait, Path thumbnails)
            throws java.io.IOException {
        int received = 0;
        int verified = 0;
        int refused = 0;
        try (BufferChannel ch = registry.channels().connect(socket, ChannelOptions.sameUser())) {
            System.out.println("consumer: connected to pid " + ch.peer().pid() + " on " + socket);
            while (true) {
                ReceivedBuffer r;
                try {
                    r = ch.receive(Duration.ofSeconds(wait));
                } catch (DmaBufException e) {
                    if ("EPIPE".equals(e.errno())) {
                        break; // the gateway ended the stream
                    }
                    if (!refusedFrame(e)) {
                        throw e;
                    }
                    // the channel closed the frame's fds and stays usable: the next frame may be good
                    refused++;
                    System.out.println("consumer: frame refused: " + e.getMessage());
                    continue;
                }
                if (r == null) {
                    System.out.println("consumer: no frame for " + wait + " s; stopping");
                    break;
                }
                try (r) {
                    received++;
                    String how = "";
                    if (r.name().startsWith("pattern-")) {
                        // the gateway rewrites no frame a consumer holds: the frame is exactly the one of its tag,
                        // with the bars' frame number first, or the byte pattern of its tag over every byte
                        String wrong = checkPattern(r);
                        if (wrong == null) {
                            verified++;
                            how = ", pattern verified";
                        } else {
                            System.out.println("consumer: frame " + r.tag() + ": " + wrong);
                        }
                    }
                    if (received == 1 || received % 10 == 0) {
                        System.out.println("consumer: frame " + r.tag() + ": " + r.buffers().size() + " buffer(s) of "
                                + r.buffers().stream().map(b -> String.valueOf(b.size())).toList() + " bytes, '"
                                + r.name() + "' from " + r.exporter() + ", inode " + r.buffer().inode()
                                + r.format().map(f -> ", " + f.describe()).orElse("") + how);
                        if (thumbnails != null && r.format().isPresent()) {
                            Path file = thumbnails.resolve(String.format("consumer-%04d.jpg", r.tag()));
                            int h = thumbnail(r, file);
                            System.out.println("consumer: thumbnail " + file + " (" + Thumbnails.WIDTH + "x" + h
                                    + ")");
                        }
                    }
                }
            }
        }
        System.out.println("consumer: received " + received + " frames (" + verified + " pattern frames verified), "
                + refused + " refused");
        return received;
    }

    /**
     * Checks a frame of the gateway's test pattern against its tag: the colour bars' frame number in the first eight
     * bytes, or else the byte pattern over every byte of every buffer.
     *
     * @return null if it holds the frame of its tag, else what it holds
     */
    static String checkPattern(ReceivedBuffer r) {
        List<CpuAccess> open = new ArrayList<>();
        try {
            for (DmaBuf b : r.buffers()) {
                open.add(b.beginCpuAccess(SyncDirection.READ));
            }
            byte[] head = new byte[8];
            open.get(0).read(0, head, 0, 8);
            long number = ByteBuffer.wrap(head).order(ByteOrder.LITTLE_ENDIAN).getLong();
            if (number == r.tag()) {
                return null;
            }
            String bytes = PatternSource.verifyBytes(open, r.tag());
            return bytes == null ? null : "holds frame number " + number + " (bars), and " + bytes + " (bytes)";
        } finally {
            for (int i = open.size() - 1; i >= 0; i--) {
                open.get(i).close();
            }
        }
    }

    /**
     * Writes a thumbnail of a received frame: each plane read from the buffer the layout puts it in, each buffer
     * inside its own READ access.
     */
    static int thumbnail(ReceivedBuffer r, Path file) throws java.io.IOException {
        BufferFormat f = r.format().orElseThrow();
        PixelFormat pf = f.pixelFormat().orElseThrow(() -> new java.io.IOException("no thumbnail for "
                + f.describe()));
        List<CpuAccess> open = new ArrayList<>();
        try {
            List<Thumbnails.PlaneView> planes = new ArrayList<>();
            for (DmaBuf b : r.buffers()) {
                open.add(b.beginCpuAccess(SyncDirection.READ));
            }
            for (Plane p : f.planes()) {
                planes.add(new Thumbnails.PlaneView(r.buffers().get(p.buffer()).mmap(), p.offset(), p.stride()));
            }
            return Thumbnails.write(planes, pf, f.width(), f.height(), file);
        } finally {
            for (CpuAccess a : open) {
                a.close();
            }
        }
    }

    /**
     * Whether a receive failed for the frame that arrived rather than for the connection: a frame that breaks the
     * wire format, or whose fd is no buffer this process can take. The connection's own failures (the socket's
     * calls) end the program.
     */
    static boolean refusedFrame(DmaBufException e) {
        if (e instanceof ChannelProtocolException) {
            return true;
        }
        String call = e.call();
        return !(call.startsWith("recvmsg") || call.startsWith("poll") || call.startsWith("Fd.get"));
    }
}
