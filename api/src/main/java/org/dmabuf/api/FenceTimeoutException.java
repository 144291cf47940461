package org.dmabuf.api;

/**
 * A wait on a fence, or on a buffer's implicit fences, ran out of time ({@code ETIME}, the errno the kernel's fence
 * waits return). The message names the fence or the buffer and the time waited.
 *
 * @since 1.3
 */
public class FenceTimeoutException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that waited, for example {@code "await"}
     * @param message which fence or buffer, and how long
     */
    public FenceTimeoutException(String call, String message) {
        super(call, "ETIME", message);
    }
}
