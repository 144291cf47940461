package org.dmabuf.itests;

/**
 * The JUnit 4 category of the integration tests that need the kernel's dma-buf drivers: failsafe excludes them
 * on the host, and the kernel guest runs them (the JUnit Platform sees the category as the tag
 * {@code org.dmabuf.itests.KernelTests}).
 */
public interface KernelTests {
}
