/**
 * The soak ({@link org.dmabuf.reliability.Soak}, its peer process {@link org.dmabuf.reliability.SoakPeer}) and the
 * process figures it compares ({@link org.dmabuf.reliability.Snapshot}). Not a bundle: run with
 * {@code reliability/soak}.
 */
package org.dmabuf.reliability;
