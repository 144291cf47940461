package org.dmabuf.api;

/**
 * A frame that breaks the channel's wire format was refused, and every fd that came with it was closed.
 * {@code EPROTO} for a malformed frame or wrong fd count, {@code EMSGSIZE} for one too long.
 */
public class ChannelProtocolException extends DmaBufException {
    private static final long serialVersionUID = 1L;

    /**
     * Creates an exception.
     *
     * @param errno {@code "EPROTO"} or {@code "EMSGSIZE"}
     * @param message what was wrong with the frame
     */
    public ChannelProtocolException(String errno, String message) {
        super("receive", errno, message);
    }
}
