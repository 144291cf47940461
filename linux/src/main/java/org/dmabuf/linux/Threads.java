package org.dmabuf.linux;

/**
 * Thread helpers for the owners of the project's threads (a channel's reader, a capture's refill thread). Stateless;
 * any thread.
 *
 * @since 1.1
 */
public final class Threads {
    private Threads() {
    }

    /**
     * Waits for a thread to end, whatever interrupts the caller meanwhile: an owner stopping its thread must not
     * leave it running because it was interrupted. The caller's interrupt status is set again afterwards if it was
     * interrupted.
     *
     * @param thread the thread, already told to stop
     */
    public static void joinUninterruptibly(Thread thread) {
        boolean interrupted = false;
        while (true) {
            try {
                thread.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }
}
