package org.dmabuf.api;

/**
 * A call on a handle that was already {@link DmaBuf#put put}, on a buffer that was released, or on an attachment,
 * mapping or CPU access that has ended. The kernel's {@code EBADF} for a closed fd.
 */
public class BufferReleasedException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that was refused
     * @param message which object was used after its end
     */
    public BufferReleasedException(String call, String message) {
        super(call, "EBADF", message);
    }
}
