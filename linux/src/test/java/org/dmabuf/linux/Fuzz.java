package org.dmabuf.linux;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The fuzzers' seeded input loop and generators. A property is a generator (a {@link Gen}: inputs from a seeded
 * {@link SplittableRandom}) and a check; {@link #check} runs the check on {@link #INPUTS} inputs, each under the
 * hang limit {@link #LIMIT}, and fails on the first input whose check throws or hangs, naming the property, the
 * input's index, the input itself (bytes in hex, text escaped) and the seed with the command line that gives the
 * same inputs again.
 *
 * <p>Settings (system properties, passed on by surefire from Maven's {@code -D}): {@code fuzz.seed} (default: a
 * fresh random seed, printed at every run), {@code fuzz.inputs} (inputs per property, default 2000), and
 * {@code fuzz.try.timeout.seconds} (the hang limit, default 30). Input {@code i} of property {@code p} comes from a
 * random of its own, derived from the seed, {@code p} and {@code i}: the same seed gives the same inputs whatever
 * the number of inputs, and {@code -Dfuzz.only=i} runs input {@code i} alone.
 *
 * <p>Generators lean towards edge values ({@link #anyLong}, {@link #between}) the way a hand-written table would.
 * The hang limit only separates "returned" from "hung" (an input takes microseconds to milliseconds); it is no
 * measure of speed.
 *
 * <p>Threads: {@link #check} is called by the test's thread, one property at a time; it runs the checks on one
 * daemon thread of its own (a thread stuck in a hung check cannot be joined: it is interrupted and left behind,
 * and the property fails). {@link #outcome} is called by the check.
 */
public final class Fuzz {
    /** The seed of every property's inputs. */
    public static final long SEED = Long.getLong("fuzz.seed", new SecureRandom().nextLong());
    /** Inputs per property. */
    public static final int INPUTS = Integer.getInteger("fuzz.inputs", 2000);
    /** Only this input, when set (-1: all). */
    private static final int ONLY = Integer.getInteger("fuzz.only", -1);
    /** How long one input's check may take before it counts as hung. */
    public static final Duration LIMIT = Duration.ofSeconds(Long.getLong("fuzz.try.timeout.seconds", 30));
    /** The inputs checked in this JVM, all properties together. */
    private static final AtomicLong TOTAL = new AtomicLong();
    /** What the current check reported with {@link #outcome}, counted per kind. */
    private static final Map<String, Long> OUTCOMES = new ConcurrentHashMap<>();
    private static volatile Thread current;

    static {
        System.out.println("fuzz: seed " + SEED + ", " + INPUTS + " inputs per property (reproduce with -Dfuzz.seed="
                + SEED + " -Dfuzz.inputs=" + INPUTS + ")");
    }

    private Fuzz() {
    }

    /** Makes one input from a seeded random. */
    @FunctionalInterface
    public interface Gen<T> {
        /**
         * @param r the input's random
         * @return an input
         */
        T next(SplittableRandom r);

        /**
         * @param f what to make of the input
         * @param <U> what it becomes
         * @return a generator of {@code f} of this generator's inputs
         */
        default <U> Gen<U> map(Function<? super T, ? extends U> f) {
            return r -> f.apply(next(r));
        }
    }

    /** A check of one input that may throw anything. */
    @FunctionalInterface
    public interface Check<T> {
        /**
         * @param input the input
         * @throws Exception if the check fails
         */
        void accept(T input) throws Exception;
    }

    /**
     * Reports what the current input came to (accepted, refused and why), counted per kind and printed with the
     * property's summary: it shows which paths the inputs reached.
     *
     * @param what a short description without the input's numbers
     */
    public static void outcome(String what) {
        OUTCOMES.merge(what, 1L, Long::sum);
    }

    /**
     * Checks a property on {@link #INPUTS} inputs (or the one of {@code -Dfuzz.only}).
     *
     * @param property the property's name, as in a failure message (the test class and method)
     * @param gen the inputs
     * @param show how an input is printed in a failure message
     * @param check the property: returns, or throws for an input that breaks it
     * @param <T> the inputs' type
     */
    public static <T> void check(String property, Gen<T> gen, Function<? super T, String> show, Check<T> check) {
        OUTCOMES.clear();
        ExecutorService runner = Executors.newSingleThreadExecutor(task -> {
            Thread t = new Thread(task, "fuzz-check");
            t.setDaemon(true);
            return t;
        });
        long start = System.nanoTime();
        int from = ONLY >= 0 ? ONLY : 0;
        int to = ONLY >= 0 ? ONLY + 1 : INPUTS;
        try {
            for (int i = from; i < to; i++) {
                T input = gen.next(random(property, i));
                Future<?> f = runner.submit(() -> {
                    current = Thread.currentThread();
                    check.accept(input);
                    return null;
                });
                try {
                    f.get(LIMIT.toMillis(), TimeUnit.MILLISECONDS);
                } catch (TimeoutException e) {
                    String where = where(current);
                    f.cancel(true);
                    throw new AssertionError(failure(property, i, "did not return within " + LIMIT + " (hung)",
                            show.apply(input)) + "\nthe check's thread is at:" + where);
                } catch (ExecutionException e) {
                    throw new AssertionError(failure(property, i, "failed: " + e.getCause(), show.apply(input)),
                            e.getCause());
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new AssertionError(property + " interrupted", e);
                }
                TOTAL.incrementAndGet();
            }
        } finally {
            runner.shutdownNow();
        }
        long ms = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
        System.out.println("fuzz: " + property + ": " + (to - from) + " inputs passed in " + ms + " ms (seed " + SEED
                + ", " + TOTAL.get() + " inputs in this JVM so far)" + (OUTCOMES.isEmpty() ? ""
                        : "; outcomes: " + new TreeMap<>(OUTCOMES)));
    }

    private static String failure(String property, int index, String what, String input) {
        return property + ": input " + index + " of " + INPUTS + " " + what + "\ninput: " + input
                + "\nreproduce with -Dfuzz.seed=" + SEED + " -Dfuzz.inputs=" + INPUTS + " (or -Dfuzz.only=" + index
                + ")";
    }

    private static String where(Thread t) {
        StringBuilder where = new StringBuilder();
        ThreadInfo info = t == null ? null : ManagementFactory.getThreadMXBean().getThreadInfo(t.getId(), 64);
        for (StackTraceElement s : info == null ? new StackTraceElement[0] : info.getStackTrace()) {
            where.append("\n\tat ").append(s);
        }
        return where.toString();
    }

    /** The random of input {@code i} of a property: from the seed, the property's name and {@code i}. */
    static SplittableRandom random(String property, int i) {
        long h = SEED;
        for (char c : property.toCharArray()) {
            h = h * 31 + c;
        }
        return new SplittableRandom(new SplittableRandom(h).nextLong() + 0x9e3779b97f4a7c15L * (i + 1L));
    }

    // ---- printing inputs

    /**
     * @param b bytes
     * @return their hex, with their length
     */
    public static String hex(byte[] b) {
        return b.length + " bytes: " + HexFormat.of().formatHex(b);
    }

    /**
     * @param s text, or null
     * @return the text quoted, with every character outside printable ASCII as {@code \}uXXXX
     */
    public static String escape(String s) {
        if (s == null) {
            return "null";
        }
        StringBuilder b = new StringBuilder("\"");
        for (char c : s.toCharArray()) {
            if (c >= 0x20 && c < 0x7f && c != '\\' && c != '"') {
                b.append(c);
            } else {
                b.append(String.format("\\u%04x", (int) c));
            }
        }
        return b.append('"').toString();
    }

    // ---- generators

    private static final long[] EDGE_LONGS = {0, 1, -1, 2, Long.MAX_VALUE, Long.MIN_VALUE, Long.MAX_VALUE - 1,
        Long.MIN_VALUE + 1, Integer.MAX_VALUE, Integer.MIN_VALUE};

    /**
     * @param r a random
     * @return any long, an edge value (0, ±1, 2, the ends of int and long) one time in eight
     */
    public static long anyLong(SplittableRandom r) {
        return r.nextInt(8) == 0 ? EDGE_LONGS[r.nextInt(EDGE_LONGS.length)] : r.nextLong();
    }

    /**
     * @param r a random
     * @param min the least
     * @param max the greatest
     * @return from {@code min} to {@code max}, each end one time in ten
     */
    public static int between(SplittableRandom r, int min, int max) {
        int k = r.nextInt(10);
        return k == 0 ? min : k == 1 ? max : (int) (min + (long) (r.nextDouble() * ((long) max - min + 1)));
    }

    /**
     * @param r a random
     * @param min the least
     * @param max the greatest
     * @return from {@code min} to {@code max}, each end one time in ten
     */
    public static long between(SplittableRandom r, long min, long max) {
        int k = r.nextInt(10);
        if (k == 0 || k == 1) {
            return k == 0 ? min : max;
        }
        return max - min + 1 <= 0 ? r.nextLong() : min + r.nextLong(max - min + 1);
    }

    /**
     * @param r a random
     * @param max the greatest length
     * @return a length from 0 to {@code max}, short ones (0, 1) more often than uniform
     */
    public static int length(SplittableRandom r, int max) {
        int k = r.nextInt(10);
        return k == 0 ? 0 : k == 1 ? Math.min(1, max) : r.nextInt(max + 1);
    }

    /**
     * @param r a random
     * @param max the greatest length
     * @return random bytes, 0 to {@code max} of them
     */
    public static byte[] bytes(SplittableRandom r, int max) {
        byte[] b = new byte[length(r, max)];
        r.nextBytes(b);
        return b;
    }

    /**
     * @param r a random
     * @param values the choice
     * @param <T> their type
     * @return one of them
     */
    @SafeVarargs
    public static <T> T oneOf(SplittableRandom r, T... values) {
        return values[r.nextInt(values.length)];
    }

    /**
     * @param r a random
     * @param values the choice
     * @param <T> their type
     * @return one of them
     */
    public static <T> T oneOf(SplittableRandom r, List<T> values) {
        return values.get(r.nextInt(values.size()));
    }

    /**
     * @param r a random
     * @param gens generators
     * @param <T> their inputs' type
     * @return the input of one of them
     */
    @SafeVarargs
    public static <T> T anyOf(SplittableRandom r, Gen<? extends T>... gens) {
        return gens[r.nextInt(gens.length)].next(r);
    }

    /**
     * @param r a random
     * @param chars the characters to take from
     * @param min the least length
     * @param max the greatest length
     * @return text of those characters
     */
    public static String string(SplittableRandom r, String chars, int min, int max) {
        int n = min + length(r, max - min);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append(chars.charAt(r.nextInt(chars.length())));
        }
        return b.toString();
    }

    /**
     * @param r a random
     * @param from the least character
     * @param to the greatest character
     * @param min the least length
     * @param max the greatest length
     * @return text of characters from {@code from} to {@code to}
     */
    public static String string(SplittableRandom r, char from, char to, int min, int max) {
        int n = min + length(r, max - min);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) (from + r.nextInt(to - from + 1)));
        }
        return b.toString();
    }

    /**
     * @param r a random
     * @param min the least length
     * @param max the greatest length
     * @return text of any UTF-16 units (controls, NUL, lone surrogates, U+FFFF...), ASCII more often
     */
    public static String anyString(SplittableRandom r, int min, int max) {
        int n = min + length(r, max - min);
        StringBuilder b = new StringBuilder(n);
        for (int i = 0; i < n; i++) {
            b.append((char) (r.nextInt(3) == 0 ? r.nextInt(0x80) : r.nextInt(0x10000)));
        }
        return b.toString();
    }

    /** ASCII's letters. */
    public static final String ALPHA = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
    /** Decimal digits. */
    public static final String DIGITS = "0123456789";

    /**
     * @param r a random
     * @param min the least size
     * @param max the greatest size
     * @param gen the elements
     * @param <T> their type
     * @return a list of {@code min} to {@code max} elements
     */
    public static <T> List<T> list(SplittableRandom r, int min, int max, Gen<T> gen) {
        int n = min + length(r, max - min);
        java.util.ArrayList<T> l = new java.util.ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            l.add(gen.next(r));
        }
        return l;
    }

    /**
     * @param r a random
     * @param gen a generator
     * @param ok what its input must be
     * @param <T> the type
     * @return the first input of {@code gen} that is {@code ok}
     */
    public static <T> T filter(SplittableRandom r, Gen<T> gen, java.util.function.Predicate<T> ok) {
        for (int i = 0; i < 10_000; i++) {
            T t = gen.next(r);
            if (ok.test(t)) {
                return t;
            }
        }
        throw new IllegalStateException("the filter refuses nearly every input");
    }

    /**
     * @param r a random
     * @param oneIn null one time in this
     * @param value makes the value otherwise
     * @param <T> its type
     * @return null or the value
     */
    public static <T> T orNull(SplittableRandom r, int oneIn, Supplier<T> value) {
        return r.nextInt(oneIn) == 0 ? null : value.get();
    }
}
