package org.dmabuf.core;

import java.time.Duration;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.ChannelProtocolException;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.PeerCredentials;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.Errno;
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

    ChannelImpl(UnixSocket socket, DmaBufRegistry registry, PeerCredentials peer) {
        this.socket = socket;
        this.registry = registry;
        this.peer = peer;
    }

    @Override
    public void send(DmaBuf buffer, long tag) {
        int fd = buffer.fd();
        if (buffer.kind().orElse(null) == org.dmabuf.api.BufferKind.MEMFD) {
            // no peer may shrink the memory under a reader, this process included
            org.dmabuf.linux.FdBuffer.sealAgainstResize(fd, "send");
        }
        byte[] frame = WireFormat.encode(buffer.size(), tag, buffer.name(), buffer.exporterName().orElse(""),
                buffer.format().orElse(null));
        socket.send(frame, fd);
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
            if (buf.size() < f.size()) {
                long actual = buf.size();
                buf.close();
                throw new ChannelProtocolException("EPROTO", "the frame says " + f.size() + " bytes but the fd's "
                        + "buffer has " + actual + "; frame refused");
            }
            return new ReceivedBuffer(buf, f.tag(), f.name(), f.exporter(), f.format());
        }
    }

    @Override
    public PeerCredentials peer() {
        return peer;
    }

    @Override
    public void close() {
        socket.close();
    }

    static PeerCredentials check(UnixSocket socket, java.util.Set<Integer> allowed, String call, String where) {
        int[] c = socket.peerCredentials();
        PeerCredentials p = new PeerCredentials(c[0], c[1], c[2]);
        if (!allowed.contains(p.uid())) {
            socket.close();
            throw new DmaBufException(call, "EACCES", where + ": peer pid " + p.pid() + " runs as uid " + p.uid()
                    + ", which is not allowed (allowed: " + allowed + "); disconnected");
        }
        return p;
    }
}
