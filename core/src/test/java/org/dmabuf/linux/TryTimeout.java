package org.dmabuf.linux;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import net.jqwik.api.lifecycle.AroundTryHook;
import net.jqwik.api.lifecycle.PropagationMode;
import net.jqwik.api.lifecycle.TryExecutionResult;
import net.jqwik.api.lifecycle.TryExecutor;
import net.jqwik.api.lifecycle.TryLifecycleContext;
import net.jqwik.api.statistics.Statistics;

/**
 * A jqwik hook (<code>@AddLifecycleHook(TryTimeout.class)</code>) that runs every try of a fuzzing property on one
 * thread of its own and fails the try, naming its input and where the thread is, if it has not returned after
 * {@link #LIMIT}: a hang is a failure with its input, not a stuck build. The limit only separates "returned" from
 * "hung" (a try takes microseconds); it is no measure of speed. {@code -Dfuzz.try.timeout.seconds=N} changes it.
 *
 * <p>Threads: jqwik calls the hook on its thread, one try at a time; the tries run on the hook's one daemon thread,
 * which lives as long as the test JVM (a thread stuck in a hung try cannot be joined: it is interrupted and
 * left behind, and the next tries get a new thread).
 */
public final class TryTimeout implements AroundTryHook {
    /** How long a try may take before it counts as hung. */
    public static final Duration LIMIT = Duration.ofSeconds(Long.getLong("fuzz.try.timeout.seconds", 30));
    /** The thread tries run on; replaced when a try hangs on it, so that the next properties still run. */
    private static volatile ExecutorService runner = newRunner();
    private static volatile Thread current;
    /** What the current try reported with {@link #outcome}, collected on jqwik's thread once it returned. */
    private static volatile String outcome;

    private static ExecutorService newRunner() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-try");
            t.setDaemon(true);
            return t;
        });
    }

    /** jqwik makes it. */
    public TryTimeout() {
    }

    /**
     * Reports what a try came to (accepted, refused and why), for jqwik's statistics under the label
     * {@code outcome}: they show which paths the inputs reached. Called by the try.
     *
     * @param what a short description without the input's numbers
     */
    public static void outcome(String what) {
        outcome = what;
    }

    /** On a class, the hook applies to its properties. */
    @Override
    public PropagationMode propagateTo() {
        return PropagationMode.ALL_DESCENDANTS;
    }

    @Override
    public TryExecutionResult aroundTry(TryLifecycleContext context, TryExecutor aTry, List<Object> parameters)
            throws Throwable {
        Future<TryExecutionResult> f = runner.submit(() -> {
            current = Thread.currentThread();
            return aTry.execute(parameters);
        });
        try {
            TryExecutionResult r = f.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
            String o = outcome;
            if (o != null) {
                outcome = null;
                Statistics.label("outcome").collect(o); // on jqwik's thread, as jqwik requires
            }
            return r;
        } catch (TimeoutException e) {
            StringBuilder where = new StringBuilder();
            Thread t = current;
            if (t != null) {
                ThreadInfo i = ManagementFactory.getThreadMXBean().getThreadInfo(t.getId(), 64);
                for (StackTraceElement s : i == null ? new StackTraceElement[0] : i.getStackTrace()) {
                    where.append("\n\tat ").append(s);
                }
            }
            f.cancel(true);
            runner.shutdownNow();
            runner = newRunner();
            throw new AssertionError("the try did not return within " + LIMIT + " (hung) with input " + parameters
                    + "; the try's thread is at:" + where);
        } catch (ExecutionException e) {
            throw e.getCause();
        }
    }
}
