package org.dmabuf.linux;

import org.dmabuf.api.DmaBufException;

/**
 * A system call failed: names the call, what it was made on (an fd, a path, or both) and the errno by name and
 * description, for example {@code ioctl(DMA_HEAP_IOCTL_ALLOC): ENOMEM: /dev/dma_heap/system (fd 7): Cannot
 * allocate memory}. Immutable; any thread.
 */
public class LinuxException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    private final int errnoValue;
    private final String target;

    /**
     * Creates an exception.
     *
     * @param call the call, for example {@code "ioctl(DMA_BUF_IOCTL_SYNC)"}
     * @param target what it was made on, for example {@code "fd 12"} or {@code "/dev/udmabuf (fd 5)"}
     * @param errno the errno value the call returned
     */
    public LinuxException(String call, String target, int errno) {
        super(call, Errno.name(errno), target + ": " + Errno.describe(errno));
        this.errnoValue = errno;
        this.target = target;
    }

    /**
     * Creates an exception with more to say after the errno's description: why, and what to do (as
     * {@link NodeAccess#explain} says of a device node the process may not open).
     *
     * @param call the call, for example {@code "open"}
     * @param target what it was made on, for example {@code "/dev/dma_heap/system"}
     * @param errno the errno value the call returned
     * @param detail what follows {@code "; "} after the description, or empty for nothing
     */
    public LinuxException(String call, String target, int errno, String detail) {
        super(call, Errno.name(errno), target + ": " + Errno.describe(errno)
                + (detail == null || detail.isEmpty() ? "" : "; " + detail));
        this.errnoValue = errno;
        this.target = target;
    }

    /**
     * The errno value.
     *
     * @return for example {@link Errno#ENOTTY}
     */
    public int errnoValue() {
        return errnoValue;
    }

    /**
     * What the call was made on.
     *
     * @return an fd, a path, or both
     */
    public String target() {
        return target;
    }
}
