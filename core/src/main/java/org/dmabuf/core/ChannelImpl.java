package org.dmabuf.core;

import java.time.Duration;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Errno;
import org.dmabuf.linux.FdBuffer;
import org.dmabuf.linux.LinuxException;
import org.dmabuf.linux.UnixSocket;

/**
 * One connection that carries buffers. Threads: one sender and one receiver at a time ({@link UnixSocket}'s
 * locks); {@link #close()} from any thread.
 */
final class ChannelImpl implements BufferChannel {
    private final UnixSocket socket;
    private final DmaBufRegistry registry;
    private final PeerCredentials peer;
    private final Runnable onClose;

    ChannelImpl(UnixSocket socket, DmaBufRegistry registry, PeerCredentials peer, Runnable onClose) {
        this.socket = socket;
        this.registry = registry;
        this.peer = peer;
        this.onClose = onClose;
    }

    @Override
    public void send(DmaBuf buffer, long tag) {
        socket.send(frame(buffer, tag), buffer.fd());
    }

    @Override
    public void send(DmaBuf buffer, long tag, Duration timeout) {
        if (timeout == null || timeout.isNegative()) {
            throw new org.dmabuf.api.InvalidArgumentException("send", "timeout " + timeout + " is not a duration");
        }
        socket.send(frame(buffer, tag), timeout, buffer.fd());
    }

    @Override
    public void send(org.dmabuf.api.FrameBuffer frame, long tag, Duration timeout) {
        throw new UnsupportedOperationException("wire format version 2 is not written yet");
    }

    /** The frame for a buffer, whose size is the kernel's; a memfd is sealed first. */
    private static byte[] frame(DmaBuf buffer, long tag) {
        int fd = buffer.fd();
        if (buffer.kind().orElse(null) == BufferKind.MEMFD) {
            // no peer may shrink the memory under a reader, this process included
            FdBuffer.sealAgainstResize(fd, "send");
        }
        return WireFormat.encode(buffer.size(), tag, buffer.name(), buffer.exporterName().orElse(""),
                buffer.format().orElse(null));
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
            if (m.fds().size() != 1) {
                throw new ChannelProtocolException("EPROTO", "a buffer frame carries exactly one fd, this one "
                        + m.fds().size() + "; frame refused and its fds closed");
            }
            DmaBuf buf = registry.get(m.fds().get(0).get());
            try {
                WireFormat.checkAgainst(f, buf.size());
                return new ReceivedBuffer(buf, f.tag(), f.name(), f.exporter(), f.format());
            } catch (RuntimeException | Error e) {
                buf.close();
                throw e;
            }
        } catch (DmaBufException e) {
            throw e;
        } catch (RuntimeException e) {
            // the fd's file could not be read as a buffer (a hostile fdinfo, say): no untyped error leaves here
            throw new ChannelProtocolException("EPROTO", "the frame's fd could not be taken as a buffer (" + e
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
