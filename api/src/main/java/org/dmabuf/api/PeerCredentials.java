package org.dmabuf.api;

/**
 * Who is at the other end of a channel, as the kernel recorded it at connect ({@code SO_PEERCRED}). Immutable.
 *
 * @param pid the peer's process id at connect time
 * @param uid its user id
 * @param gid its group id
 */
public record PeerCredentials(int pid, int uid, int gid) {
}
