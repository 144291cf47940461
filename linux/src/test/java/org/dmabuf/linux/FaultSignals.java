package org.dmabuf.linux;

import com.sun.jna.Library;
import com.sun.jna.Native;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * Signals that interrupt system calls, for the fault tests: the JVM installs its own handlers with
 * {@code SA_RESTART} (a restarted call never shows {@code EINTR}), so this installs a no-op handler for a real-time
 * signal ({@code SIGRTMIN + 4}, which neither the JVM nor the C library uses) <em>without</em> {@code SA_RESTART},
 * from a small C library built with gcc and loaded with JNA; {@link #interrupting} sends that
 * signal to one thread ({@code tgkill(2)}) again and again from a thread of its own. A blocking call the signal
 * lands in returns {@code EINTR}; {@link #retried()} counts the calls the project's Linux layer repeated.
 * Static state is the loaded library only; any thread.
 */
public final class FaultSignals {
    private static final String SOURCE = String.join("\n",
            "#define _GNU_SOURCE",
            "#include <signal.h>",
            "#include <string.h>",
            "#include <unistd.h>",
            "#include <sys/syscall.h>",
            "static volatile long handled;",
            "static void noop(int sig) { (void) sig; __atomic_add_fetch(&handled, 1, __ATOMIC_RELAXED); }",
            "int fault_signal(void) { return SIGRTMIN + 4; }",
            "int fault_install(void) {",
            "  struct sigaction sa; memset(&sa, 0, sizeof sa);",
            "  sa.sa_handler = noop; sa.sa_flags = 0; /* no SA_RESTART: interrupted calls return EINTR */",
            "  sigemptyset(&sa.sa_mask);",
            "  return sigaction(SIGRTMIN + 4, &sa, NULL);",
            "}",
            "int fault_tid(void) { return (int) syscall(SYS_gettid); }",
            "int fault_tgkill(int tid) { return (int) syscall(SYS_tgkill, getpid(), tid, SIGRTMIN + 4); }",
            "long fault_handled(void) { return __atomic_load_n(&handled, __ATOMIC_RELAXED); }",
            "");

    /** The C library's functions. */
    interface Lib extends Library {
        int fault_signal();

        int fault_install();

        int fault_tid();

        int fault_tgkill(int tid);

        long fault_handled();
    }

    private static Lib lib;

    private FaultSignals() {
    }

    /**
     * Builds (once per source text, into {@code target/fault-signals}) and loads the library, and installs the
     * handler.
     *
     * @return the library
     */
    public static synchronized Lib lib() {
        if (lib == null) {
            try {
                // built once per source text (the kernel guest's JVMs share the folder, and gcc is slow there)
                Path dir = Files.createDirectories(Path.of("target/fault-signals").toAbsolutePath());
                String version = Integer.toHexString(SOURCE.hashCode());
                Path so = dir.resolve("libfault_signals-" + version + ".so");
                if (!Files.exists(so)) {
                    Path c = dir.resolve("fault_signals-" + ProcessHandle.current().pid() + ".c");
                    Path made = dir.resolve("libfault_signals-" + ProcessHandle.current().pid() + ".so");
                    Files.writeString(c, SOURCE, StandardCharsets.UTF_8);
                    Process gcc = new ProcessBuilder("gcc", "-O2", "-shared", "-fPIC", "-o", made.toString(),
                            c.toString()).redirectErrorStream(true).start();
                    String out = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
                    if (!gcc.waitFor(120, TimeUnit.SECONDS) || gcc.exitValue() != 0) {
                        throw new AssertionError("gcc failed: " + out);
                    }
                    Files.delete(c);
                    // renamed into place whole: another JVM building it at the same time loads one or the other
                    Files.move(made, so, java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                            java.nio.file.StandardCopyOption.REPLACE_EXISTING);
                }
                Lib l = Native.load(so.toString(), Lib.class);
                if (l.fault_install() != 0) {
                    throw new AssertionError("sigaction failed");
                }
                lib = l;
            } catch (IOException e) {
                throw new AssertionError(e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new AssertionError(e);
            }
        }
        return lib;
    }

    /**
     * Calls the Linux layer repeated because the kernel answered {@code EINTR} or {@code EAGAIN}, since the
     * process started.
     *
     * @return the count
     */
    public static long retried() {
        return Sys.RETRIED.sum();
    }

    /**
     * Signals the handler ran, since the process started.
     *
     * @return the count
     */
    public static long handled() {
        return lib().fault_handled();
    }

    /**
     * The calling thread's kernel thread id.
     *
     * @return the tid
     */
    public static int tid() {
        return lib().fault_tid();
    }

    /**
     * Starts a thread that sends the signal to the thread {@code tid} every {@code periodMicros} until closed.
     *
     * @param tid the target
     * @param periodMicros the pause between two signals
     * @return the sender; {@link Sender#close()} stops and joins it
     */
    public static Sender interrupting(int tid, long periodMicros) {
        return new Sender(lib(), tid, periodMicros);
    }

    /** A thread sending the signal in a loop; owned by whoever started it, which closes (stops and joins) it. */
    public static final class Sender implements AutoCloseable {
        private final Thread thread;
        private volatile boolean running = true;
        private volatile long sent;

        Sender(Lib lib, int tid, long periodMicros) {
            thread = new Thread(() -> {
                while (running) {
                    if (lib.fault_tgkill(tid) == 0) {
                        sent++;
                    }
                    LockSupport.parkNanos(periodMicros * 1000);
                }
            }, "fault-signals to " + tid);
            thread.setDaemon(true);
            thread.start();
        }

        /**
         * Signals sent so far.
         *
         * @return the count
         */
        public long sent() {
            return sent;
        }

        @Override
        public void close() throws InterruptedException {
            running = false;
            thread.join();
        }
    }
}
