package org.dmabuf.core;

import java.util.List;
import org.jetbrains.lincheck.datastructures.ModelCheckingOptions;

/**
 * What the {@code *ScheduleTest} classes share: Lincheck's model checker (org.jetbrains.lincheck:lincheck), sized
 * per class for CI or by system properties for the long run. They run in a surefire execution of their own
 * ({@code schedules}, core/pom.xml), in a JVM whose classes Lincheck's agent instruments.
 *
 * <p>Lincheck's model checking runs each scenario (operations spread over threads, chosen at random from the test
 * class's {@code @Operation} methods) under many schedules: it switches threads at every shared-memory access, lock,
 * wait and park it instruments, systematically, and replays a failing schedule to print it step by step. Native
 * calls (JNA: {@code fstat}, {@code recvmsg}, {@code mmap}) are atomic steps for it: it cannot switch threads inside
 * them nor wake a thread blocked in one, so the tests arrange that none blocks.
 *
 * <p>What the checker needs of a test class, learnt on this code base: state in fields, not arrays or collections
 * made for the test; no thread the checker does not manage joined inside a schedule (the registry's leak reaper,
 * started in the constructor, is left to end by itself); no identity-hashed entry made in the constructor and looked
 * up inside a schedule (the checker's identity hash codes differ); and no JDK path with lambdas it cannot snapshot
 * (the log's caller lookup: the core's INFO lines are turned off here). A failing schedule is printed with every
 * step of every thread; breaking {@code BufferObject.tryRef} on purpose (taking a reference of a released object)
 * makes {@link GetFdScheduleTest} print the get that lands between the last put and the registry's forget.
 *
 * <p>CI runs each class's own small figures (about 50 seconds in all, the agent's start included); the long
 * run is one command (about 3 minutes on 2 cores), the same figures for every class:
 * <pre>
 * ./mvnw -B -ntp -o test-compile surefire:test@schedules -pl core -Dconcurrency.iterations=10 -Dconcurrency.invocations=200
 * </pre>
 * Each class prints its scenarios, threads, operations, schedules per scenario and the time taken.
 */
final class ScheduleSupport {
    /** Scenarios per test class, for the long run: {@code -Dconcurrency.iterations}; else each class's CI figure. */
    static final Integer ITERATIONS = Integer.getInteger("concurrency.iterations");
    /** Schedules per scenario at most, for the long run: {@code -Dconcurrency.invocations}. */
    static final Integer INVOCATIONS = Integer.getInteger("concurrency.invocations");

    private static final String COUNTER = "concurrency.schedules.";

    /**
     * Counts one schedule checked (its state validated), for the figures printed. The count is kept in a system
     * property: the JDK's, which the checker neither instruments nor restores between schedules, as it does a static
     * field of the test's own.
     */
    static void scheduleChecked(Class<?> testClass) {
        String key = COUNTER + testClass.getSimpleName();
        synchronized (COUNTER) {
            System.setProperty(key, Long.toString(Long.parseLong(System.getProperty(key, "0")) + 1));
        }
    }

    /** The core's logger, held so that the level set on it stays. */
    private static final java.util.logging.Logger CORE_LOG = java.util.logging.Logger.getLogger("org.dmabuf.core");

    private ScheduleSupport() {
    }

    /**
     * Runs the model checker on a test class, sized for CI or by the properties, after one plain sequential pass of
     * its operations (so that every class they use is initialised outside the checker); throws Lincheck's error, with the
     * failing scenario and its schedule step by step, if a schedule fails.
     */
    static void check(Class<?> testClass, int threads, int actorsPerThread, int ciIterations, int ciInvocations,
            Runnable sequentialPass) {
        warmUp();
        sequentialPass.run();
        int iterations = ITERATIONS == null ? ciIterations : ITERATIONS;
        int invocations = INVOCATIONS == null ? ciInvocations : INVOCATIONS;
        ModelCheckingOptions options = new ModelCheckingOptions().iterations(iterations)
                .invocationsPerIteration(invocations).threads(threads).actorsPerThread(actorsPerThread)
                .actorsBefore(0).actorsAfter(0);
        String counter = COUNTER + testClass.getSimpleName();
        System.clearProperty(counter);
        long start = System.nanoTime();
        options.check(testClass);
        System.out.printf("%s: %d scenarios of %d threads x %d operations (up to %d schedules each): %s schedules"
                + " checked in %d ms%n", testClass.getSimpleName(), iterations, threads, actorsPerThread, invocations,
                System.getProperty(counter, "0"), (System.nanoTime() - start) / 1_000_000);
    }

    /**
     * Initialises, outside the checker, the classes that the code under test reaches only on rare paths (the log,
     * time zones, Lincheck's own result classes): a class initialiser that first runs inside the checker's
     * instrumentation fails there.
     */
    static void warmUp() {
        System.getLogger("org.dmabuf.core").log(System.Logger.Level.INFO, "model checking starts at {0}",
                java.time.ZonedDateTime.now());
        // the registry's INFO lines (a client closed with references) are not published under the checker: the log
        // record finds its caller with a stack walk whose lambdas the checker cannot snapshot
        CORE_LOG.setLevel(java.util.logging.Level.WARNING);
        for (String c : List.of("ExceptionResult", "ValueResult", "VoidResult")) {
            try {
                Class.forName("org.jetbrains.kotlinx.lincheck.util." + c, true, ScheduleSupport.class.getClassLoader());
            } catch (ClassNotFoundException e) {
                throw new AssertionError(e);
            }
        }
    }
}
