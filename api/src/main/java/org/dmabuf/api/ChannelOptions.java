package org.dmabuf.api;

import java.util.Set;

/**
 * How a channel checks its peer. Immutable and thread-safe.
 *
 * @param allowedUids the user ids whose processes may connect or be connected to ({@code SO_PEERCRED}); empty
 *        means only this process's own uid
 */
public record ChannelOptions(Set<Integer> allowedUids) {
    /** Copies the set. */
    public ChannelOptions {
        allowedUids = Set.copyOf(allowedUids);
    }

    /**
     * The default: only processes of this process's own user.
     *
     * @return the options
     */
    public static ChannelOptions sameUser() {
        return new ChannelOptions(Set.of());
    }

    /**
     * Processes of these users (add this process's own uid if it should be allowed too).
     *
     * @param uids the user ids
     * @return the options
     */
    public static ChannelOptions allowUids(Integer... uids) {
        return new ChannelOptions(Set.of(uids));
    }
}
