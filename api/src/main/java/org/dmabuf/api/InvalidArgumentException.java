package org.dmabuf.api;

/**
 * An argument no buffer can have: a size that is zero, negative or larger than any exporter serves, an alignment
 * that is not a power of two, a name too long for {@code DMA_BUF_SET_NAME}. The kernel's {@code EINVAL}.
 */
public class InvalidArgumentException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that was refused
     * @param message which argument, its value and the allowed range
     */
    public InvalidArgumentException(String call, String message) {
        super(call, "EINVAL", message);
    }
}
