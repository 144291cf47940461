package org.dmabuf.api;

import java.util.Objects;
import java.util.OptionalInt;
import java.util.Set;

/**
 * How a channel checks its peer, and who can reach a listener's socket file. Immutable and thread-safe.
 *
 * <p>File modes decide who can connect at all, the uid check who is kept: without a group, a listener's socket file
 * is {@code 0600} in a folder of mode {@code 0700}, so only this process's user (and root, whom modes do not stop)
 * can connect. To admit another user, give a group both users belong to ({@link #withGroup}): the folder is then
 * {@code 0750} and the socket file {@code 0660}, both in that group, and the kernel lets the group's members
 * connect; the allowed uids are then checked at accept. Listening with an allowed uid other than this process's own
 * and root's but no group is refused ({@code EINVAL}): nobody with that uid could ever connect.
 *
 * @param allowedUids the user ids whose processes may connect or be connected to ({@code SO_PEERCRED}); empty
 *        means only this process's own uid
 * @param groupId the group whose members may reach a listener's socket file; empty for none
 * @param wireVersion the wire format version this side's channels send ({@code docs/wire-format.md}):
 *        {@link #WIRE_VERSION} (the default), or 1 for peers that speak only version 1; a channel receives both
 *        whatever this says
 * @param releases whether this side's channels ask their peer to return every frame they send
 *        ({@code RELEASE_WANTED}) and hold each frame's buffers until it does: see {@link #withReleases()};
 *        default false
 */
public record ChannelOptions(Set<Integer> allowedUids, OptionalInt groupId, int wireVersion, boolean releases) {
    /**
     * The wire format version channels send by default, and the newest they receive.
     *
     * @since 1.2
     */
    public static final int WIRE_VERSION = 2;

    /**
     * Copies the set and checks the values.
     *
     * @throws InvalidArgumentException if the group id is negative, the wire version is not 1 or 2, or releases
     *         are asked with version 1 (which cannot carry them)
     */
    public ChannelOptions {
        allowedUids = Set.copyOf(allowedUids);
        Objects.requireNonNull(groupId, "groupId");
        if (groupId.isPresent() && groupId.getAsInt() < 0) {
            throw new InvalidArgumentException("ChannelOptions", "group id " + groupId.getAsInt()
                    + " is negative");
        }
        if (wireVersion != 1 && wireVersion != WIRE_VERSION) {
            throw new InvalidArgumentException("ChannelOptions", "wire format version " + wireVersion
                    + " is not 1 or " + WIRE_VERSION);
        }
        if (releases && wireVersion != WIRE_VERSION) {
            throw new InvalidArgumentException("ChannelOptions", "releases need wire format version "
                    + WIRE_VERSION + ", not " + wireVersion);
        }
    }

    /**
     * Options without releases.
     *
     * @param allowedUids the user ids whose processes may connect or be connected to; empty means this process's
     *        own uid only
     * @param groupId the group whose members may reach a listener's socket file; empty for none
     * @param wireVersion the wire format version this side's channels send: 1 or {@link #WIRE_VERSION}
     * @since 1.2
     */
    public ChannelOptions(Set<Integer> allowedUids, OptionalInt groupId, int wireVersion) {
        this(allowedUids, groupId, wireVersion, false);
    }

    /**
     * Options that send the newest wire format version.
     *
     * @param allowedUids the user ids whose processes may connect or be connected to; empty means this process's
     *        own uid only
     * @param groupId the group whose members may reach a listener's socket file; empty for none
     */
    public ChannelOptions(Set<Integer> allowedUids, OptionalInt groupId) {
        this(allowedUids, groupId, WIRE_VERSION);
    }

    /**
     * Options without a group.
     *
     * @param allowedUids the user ids whose processes may connect or be connected to; empty means this process's
     *        own uid only
     */
    public ChannelOptions(Set<Integer> allowedUids) {
        this(allowedUids, OptionalInt.empty());
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
     * Processes of these users (add this process's own uid if it should be allowed too; a uid given twice counts
     * once). A user other than this
     * process's own and root can only reach a listener through a group: see {@link #withGroup}.
     *
     * @param uids the user ids
     * @return the options
     */
    public static ChannelOptions allowUids(Integer... uids) {
        return new ChannelOptions(new java.util.HashSet<>(java.util.Arrays.asList(uids)));
    }

    /**
     * These options with a group that may reach a listener's socket file: folder {@code 0750} and socket file
     * {@code 0660} in that group. This process must be allowed to give files that group (be a member, or root).
     *
     * @param gid the group id
     * @return the options
     * @since 1.1
     */
    public ChannelOptions withGroup(int gid) {
        return new ChannelOptions(allowedUids, OptionalInt.of(gid), wireVersion, releases);
    }

    /**
     * These options with the wire format version that channels send: 1 for a peer that speaks only version 1.
     * A version 1 frame carries one buffer with a linear layout whose planes follow from one stride; sending a
     * frame it cannot express is refused ({@code EINVAL}) and sends nothing. Channels receive versions 1 and 2
     * whatever this says.
     *
     * @param version 1 or {@link #WIRE_VERSION}
     * @return the options
     * @throws InvalidArgumentException for another version
     * @since 1.2
     */
    public ChannelOptions withWireVersion(int version) {
        return new ChannelOptions(allowedUids, groupId, version, releases);
    }

    /**
     * These options with releases: every frame a channel sends carries {@code RELEASE_WANTED}, asking the peer to
     * send a RELEASE for it once done with every buffer of it ({@code docs/wire-format.md}), and the channel holds
     * its own reference ({@link DmaBuf#get()}) on each buffer of each frame until that RELEASE arrives or the
     * connection ends (peer closed or died, or the channel closed): so the sender can tell when no peer holds a
     * buffer any more ({@link BufferChannel#framesOut()}, {@link BufferChannel#onRelease}). Such a channel has a
     * reader thread of its own that reads every message the peer sends (see {@link BufferChannel}).
     * Only for a peer that takes releases: one that does not refuses every such frame ({@code EPROTO}, flags).
     * Needs wire format version 2.
     *
     * @return the options
     * @throws InvalidArgumentException if these options send version 1
     * @since 1.2
     */
    public ChannelOptions withReleases() {
        return new ChannelOptions(allowedUids, groupId, wireVersion, true);
    }
}
