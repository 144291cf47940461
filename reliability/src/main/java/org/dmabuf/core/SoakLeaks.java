package org.dmabuf.core;

/**
 * The registry's count of leaked handles for the soak, a plain Java program: handles dropped without
 * {@code put()} that the registry's leak reaper has reported and put. The count is package-private in the core, so
 * this class, in its package on the class path, reads it. Not part of any bundle. Any thread.
 */
public final class SoakLeaks {
    private SoakLeaks() {
    }

    /**
     * @param registry the registry
     * @return its leaked handles so far
     */
    public static long of(DmaBufs registry) {
        return registry.scope.registry().leakCount();
    }

    /**
     * @param registry the registry
     * @return its leaked handles so far
     */
    public static long of(StandaloneRegistry registry) {
        return registry.scope.registry().leakCount();
    }
}
