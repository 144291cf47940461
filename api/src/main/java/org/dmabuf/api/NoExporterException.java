package org.dmabuf.api;

/**
 * No exporter can provide storage for a buffer: none is registered, the one requested by name is absent, none
 * satisfies the attached devices' constraints, or every candidate failed to allocate (the failures are attached as
 * suppressed exceptions). {@code ENODEV} when no exporter fits; when the ones that fit failed, the errno they all
 * failed with ({@code EMFILE} when no fd was left, {@code ENOMEM} when memory ran out), or {@code ENOMEM} when
 * their errnos differ.
 */
public class NoExporterException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param call the call that needed storage
     * @param errno {@code "ENODEV"}, or the exporters' errno ({@code "ENOMEM"}, {@code "EMFILE"}...)
     * @param message which exporters were considered and why each was not used
     */
    public NoExporterException(String call, String errno, String message) {
        super(call, errno, message);
    }
}
