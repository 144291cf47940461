package org.dmabuf.api;

/**
 * A call made in the wrong order, refused as {@code dma-buf.c} refuses it: {@code map} of an attachment that is
 * not attached to this buffer ({@code EINVAL}), {@code detach} while the attachment is still mapped
 * ({@code EBUSY}), a second {@code unmap} ({@code EINVAL}).
 */
public class BufferStateException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that was refused
     * @param errno {@code "EINVAL"} or {@code "EBUSY"}
     * @param message which rule was broken and by what
     */
    public BufferStateException(String call, String errno, String message) {
        super(call, errno, message);
    }
}
