package org.dmabuf.core;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.List;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.DmaBufRegistry;
import org.dmabuf.api.FrameBuffer;
import org.dmabuf.api.InvalidArgumentException;

/**
 * A frame of one or more buffer handles with its layout, owning the handles: {@link #close()} puts each once.
 * Thread-safe; any thread.
 */
final class FrameBufferImpl implements FrameBuffer {
    private final BufferFormat format;
    private static final VarHandle CLOSED;

    static {
        try {
            CLOSED = MethodHandles.lookup().findVarHandle(FrameBufferImpl.class, "closed", boolean.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final List<DmaBuf> buffers;
    /** Set once by {@link #close()}; changed only through {@link #CLOSED}. */
    private volatile boolean closed;

    FrameBufferImpl(BufferFormat format, List<DmaBuf> buffers) {
        this.format = format;
        this.buffers = List.copyOf(buffers);
        if (format.buffers() != this.buffers.size()) {
            throw new IllegalArgumentException(this.buffers.size() + " buffers for " + format.describe());
        }
    }

    /**
     * Allocates a frame through a registry: one buffer holding every plane, whose own layout is the frame's, or one
     * buffer per plane of the request's layout, laid out for the request's alignments. Buffers allocated before a
     * failure are put.
     */
    static FrameBuffer allocate(DmaBufRegistry registry, BufferRequest request) {
        BufferFormat asked = request.format().orElseThrow(() -> new InvalidArgumentException("allocateFrame",
                "the request has no format: use BufferRequest.ofFormat"));
        if (asked.buffers() == 1) {
            DmaBuf b = registry.allocate(request);
            BufferFormat made = b.format().orElse(asked);
            return new FrameBufferImpl(made, List.of(b));
        }
        // the layout asked for where it meets the request's alignment (a driver's, padded lines and all), else the
        // one laid out for it
        boolean relayout = asked.isLinear() && request.constraints().unmetBy(asked).isPresent();
        BufferFormat layout = relayout ? asked.pixelFormat()
                .map(pf -> BufferFormat.layout(pf, asked.width(), asked.height(), request.constraints()))
                .orElse(asked) : asked;
        java.util.ArrayList<DmaBuf> made = new java.util.ArrayList<>();
        try {
            for (int i = 0; i < layout.buffers(); i++) {
                BufferRequest one = BufferRequest.ofSize(layout.bufferSize(i)).constraints(request.constraints());
                if (!request.name().isEmpty()) {
                    one = one.name(request.name());
                }
                if (request.exporter().isPresent()) {
                    one = one.exporter(request.exporter().get());
                }
                made.add(registry.allocate(one));
            }
        } catch (RuntimeException e) {
            made.forEach(DmaBuf::close);
            throw e;
        }
        return new FrameBufferImpl(layout, made);
    }

    @Override
    public BufferFormat format() {
        return format;
    }

    @Override
    public List<DmaBuf> buffers() {
        return buffers;
    }

    @Override
    public void close() {
        if (CLOSED.compareAndSet(this, false, true)) {
            for (DmaBuf b : buffers) {
                b.close();
            }
        }
    }

    @Override
    public String toString() {
        return "FrameBuffer[" + format.describe() + ", " + buffers.size() + " buffer(s)]";
    }

}
