package org.dmabuf.api;

import java.util.Objects;

/**
 * The base of every error the API reports. It names the call that failed (for example {@code "map"} or
 * {@code "ioctl(DMA_HEAP_IOCTL_ALLOC)"}) and, where the kernel has one, the errno by name ({@code "EBUSY"}).
 *
 * <p>Instances are immutable and may be passed between threads.
 */
public class DmaBufException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final String call;
    private final String errno;

    /**
     * Creates an exception.
     *
     * @param call the call that failed, never null
     * @param errno the errno name the kernel uses for this failure ({@code "EINVAL"}), or null where none fits
     * @param message what happened and what it concerns; the call and errno are prefixed to it
     */
    public DmaBufException(String call, String errno, String message) {
        this(call, errno, message, null);
    }

    /**
     * Creates an exception with a cause.
     *
     * @param call the call that failed, never null
     * @param errno the errno name, or null
     * @param message what happened
     * @param cause the underlying failure, or null
     */
    public DmaBufException(String call, String errno, String message, Throwable cause) {
        super(call + ": " + (errno == null ? "" : errno + ": ") + message, cause);
        this.call = Objects.requireNonNull(call, "call");
        this.errno = errno;
    }

    /**
     * The call that failed.
     *
     * @return for example {@code "attach"} or {@code "ioctl(DMA_BUF_IOCTL_SYNC)"}
     */
    public String call() {
        return call;
    }

    /**
     * The errno, by name, that the kernel returns for this failure.
     *
     * @return for example {@code "EBUSY"}, or null where no errno applies
     */
    public String errno() {
        return errno;
    }
}
