package org.dmabuf.core;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.UnixSocket;

/**
 * One connection that carries buffers and frames of buffers, in the wire format of {@code docs/wire-format.md}:
 * it sends version 2 (or version 1 when its options say so) and receives both. Threads: one sender and one
 * receiver at a time ({@link UnixSocket}'s locks); {@link #close()} from any thread.
 */
final class ChannelImpl implements BufferChannel {
    private final UnixSocket socket;
    private final DmaBufRegistry registry;
    private final PeerCredentials peer;
    private final Runnable onClose;
    private final int wireVersion;
    /** The id of the last frame sent: version 2 frames are numbered from 1 on each channel. */
    private final AtomicLong frameIds = new AtomicLong();

    ChannelImpl(UnixSocket socket, DmaBufRegistry registry, PeerCredentials peer, Runnable onClose) {
        this(socket, registry, peer, onClose, WireFormat.VERSION);
    }

    /**
     * A channel.
     *
     * @param wireVersion the wire format version it sends (1 or 2); it receives both
     */
    ChannelImpl(UnixSocket socket, DmaBufRegistry registry, PeerCredentials peer, Runnable onClose,
            int wireVersion) {
        this.socket = socket;
        this.registry = registry;
        this.peer = peer;
        this.onClose = onClose;
        this.wireVersion = wireVersion;
    }

    @Override
    public void send(DmaBuf buffer, long tag) {
        byte[] message = message(List.of(buffer), buffer.format().orElse(null), tag);
        socket.send(message, buffer.fd());
    }

    @Override
    public void send(DmaBuf buffer, long tag, Duration timeout) {
        checkTimeout(timeout);
        byte[] message = message(List.of(buffer), buffer.format().orElse(null), tag);
        socket.send(message, timeout, buffer.fd());
    }

    @Override
    public void send(FrameBuffer frame, long tag, Duration timeout) {
        checkTimeout(timeout);
        if (frame == null) {
            throw new InvalidArgumentException("send", "no frame");
        }
        List<DmaBuf> buffers = frame.buffers();
        byte[] message = message(buffers, frame.format(), tag);
        int[] fds = new int[buffers.size()];
        for (int i = 0; i < fds.length; i++) {
            fds[i] = buffers.get(i).fd();
        }
        socket.send(message, timeout, fds);
    }

    private static void checkTimeout(Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new InvalidArgumentException("send", "timeout " + timeout + " is not a duration");
        }
    }

    /**
     * The message for a frame's buffers, whose sizes are the kernel's, in the version this channel sends; then each
     * memfd is sealed against resizing. Nothing is sealed or sent when the frame is refused.
     */
    private byte[] message(List<DmaBuf> buffers, BufferFormat format, long tag) {
        if (buffers.isEmpty() || buffers.size() > BufferFormat.MAX_PLANES) {
            throw new InvalidArgumentException("send", "a frame has 1 to " + BufferFormat.MAX_PLANES
                    + " buffers, not " + buffers.size());
        }
        DmaBuf first = buffers.get(0);
        byte[] message;
        if (wireVersion == 1) {
            if (buffers.size() != 1) {
                throw new InvalidArgumentException("send", "wire format version 1 carries one buffer, not "
                        + buffers.size() + "; nothing sent");
            }
            message = WireFormat.encodeV1(first.size(), tag, first.name(), first.exporterName().orElse(""), format);
        } else {
            long[] sizes = new long[buffers.size()];
            for (int i = 0; i < sizes.length; i++) {
                sizes[i] = buffers.get(i).size();
            }
            message = WireFormat.encode(frameIds.incrementAndGet(), tag, first.name(),
                    first.exporterName().orElse(""), sizes, format);
        }
        for (DmaBuf b : buffers) {
            if (b.kind().orElse(null) == BufferKind.MEMFD) {
                // no peer may shrink the memory under a reader, this process included
                FdBuffer.sealAgainstResize(b.fd(), "send");
            }
        }
        return message;
    }

    @Override
    public ReceivedBuffer receive(Duration timeout) {
        UnixSocket.Message m;
        try {
            m = socket.receive(WireFormat.READ_LIMIT, timeout);
        } catch (LinuxException e) {
            if (e.errnoValue() == Errno.EMSGSIZE) {
                throw new ChannelProtocolException("EMSGSIZE", e.getMessage());
            }
            throw e;
        }
        if (m == null) {
            return null;
        }
        try (m) {
            WireFormat.Frame f = WireFormat.decode(m.data());
            if (m.fds().size() != f.fds()) {
                throw new ChannelProtocolException("EPROTO", "the frame names " + f.sizes().size()
                        + " buffer fds and " + f.fences() + " fence fds, so it carries exactly "
                        + (f.fds() == 1 ? "one fd" : f.fds() + " fds") + ", this one " + m.fds().size()
                        + "; frame refused and its fds closed");
            }
            List<DmaBuf> taken = new ArrayList<>(f.sizes().size());
            try {
                for (int i = 0; i < f.sizes().size(); i++) {
                    taken.add(registry.get(m.fds().get(i).get()));
                }
                for (int i = 0; i < taken.size(); i++) {
                    WireFormat.checkAgainst(f, i, taken.get(i).size());
                }
                return new ReceivedBuffer(taken, f.tag(), f.name(), f.exporter(), f.format());
            } catch (RuntimeException | Error e) {
                for (DmaBuf b : taken) {
                    b.close();
                }
                throw e;
            }
        } catch (DmaBufException e) {
            throw e;
        } catch (RuntimeException e) {
            // an fd's file could not be read as a buffer (a hostile fdinfo, say): no untyped error leaves here
            throw new ChannelProtocolException("EPROTO", "the frame's fds could not be taken as buffers (" + e
                    + "); frame refused and its fds closed", e);
        }
    }

    @Override
    public PeerCredentials peer() {
        return peer;
    }

    @Override
    public void close() {
        try {
            socket.close();
        } finally {
            onClose.run();
        }
    }

    static PeerCredentials check(UnixSocket socket, java.util.Set<Integer> allowed, String call, String where) {
        int[] c;
        try {
            c = socket.peerCredentials();
        } catch (RuntimeException e) {
            socket.close();
            throw e;
        }
        PeerCredentials p = new PeerCredentials(c[0], c[1], c[2]);
        if (!allowed.contains(p.uid())) {
            socket.close();
            throw new DmaBufException(call, "EACCES", where + ": peer pid " + p.pid() + " runs as uid " + p.uid()
                    + ", which is not allowed (allowed: " + allowed + "); disconnected");
        }
        return p;
    }
}
