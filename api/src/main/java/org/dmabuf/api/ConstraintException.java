package org.dmabuf.api;

/**
 * An attachment the buffer's committed storage cannot serve: the kernel's {@code -EBUSY} from an exporter's
 * attach op after late allocation chose storage for the devices attached earlier. The message names the unmet
 * constraint, the device and the storage.
 */
public class ConstraintException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that was refused
     * @param message the unmet constraint, the device and the storage
     */
    public ConstraintException(String call, String message) {
        super(call, "EBUSY", message);
    }
}
