package org.dmabuf.exporter.v4l2;

import java.util.Optional;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ImporterDevice;

/**
 * A V4L2 capture node as the importer of the buffers a capture fills with {@code V4L2_MEMORY_DMABUF}
 * ({@link V4l2Capture#into}). The import itself is the capture's {@code VIDIOC_QBUF}, at which videobuf2 attaches
 * the dma-buf to the device until the queue is freed ({@code VIDIOC_REQBUFS} with count 0); the capture holds one
 * attachment of this device per buffer for that same time. Whether the kernel lists the device under "Attached
 * Devices" depends on videobuf2's memory allocator: {@code videobuf2_dma_contig} and {@code videobuf2_dma_sg} call
 * {@code dma_buf_attach}, {@code videobuf2_vmalloc} (vivid, uvcvideo) only maps the buffer and attaches nothing.
 * {@link #kernelName()} follows: the device's {@code dev_name} (for example {@code rkisp1}) where the allocator
 * attaches, empty where it does not ({@link V4l2Device#queueAttachesDmaBufs()}). Immutable; any thread.
 */
final class V4l2Importer implements ImporterDevice {
    private final String name;
    private final Optional<String> kernelName;

    /**
     * The importer of a node.
     *
     * @param device the node
     * @param attaches whether its queue attaches the dma-bufs it is given
     */
    V4l2Importer(V4l2Device device, boolean attaches) {
        String node = device.path().substring(device.path().lastIndexOf('/') + 1);
        this.name = "v4l2:" + device.driver() + ":" + node;
        this.kernelName = attaches ? device.kernelName() : Optional.empty();
    }

    @Override
    public String name() {
        return name;
    }

    /** Nothing to do here: the capture queues the buffer ({@code VIDIOC_QBUF}) and frees the queue. */
    @Override
    public AutoCloseable importBuffer(DmaBuf buffer, int fd) {
        return () -> {
        };
    }

    /** The kernel's name of the device where its queue makes kernel attachments; else empty. */
    @Override
    public Optional<String> kernelName() {
        return kernelName;
    }

    @Override
    public String toString() {
        return "V4L2 importer " + name;
    }
}
