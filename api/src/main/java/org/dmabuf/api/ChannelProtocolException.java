package org.dmabuf.api;

/**
 * A frame that breaks the channel's wire format was refused, every fd that came with it closed and the buffer it
 * turned into put; the channel stays usable. {@code EPROTO} for a malformed frame, a wrong fd count or a frame that
 * does not match its buffer, {@code EMSGSIZE} for one too long.
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

    /**
     * Creates an exception with a cause.
     *
     * @param errno {@code "EPROTO"} or {@code "EMSGSIZE"}
     * @param message what was wrong with the frame
     * @param cause what failed while the frame was read
     * @since 1.1
     */
    public ChannelProtocolException(String errno, String message, Throwable cause) {
        super("receive", errno, message, cause);
    }
}
