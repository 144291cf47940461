package org.dmabuf.testkit;

import java.util.Objects;
import java.util.Optional;

/**
 * One check of the {@link ExporterContract}: a sentence-like name ("a new buffer of 10000 bytes reads as zeros") and
 * the code that checks it, throwing an {@link AssertionError} that names the check, the exporter and what the kernel
 * says when the exporter fails it. A check the exporter cannot take (a capability it declared it lacks) is
 * {@linkplain #skipReason() skipped with a reason}; running it throws {@link Skipped} with that reason, never passes
 * silently. A check may also find out while running that it does not apply (a recycled driver buffer the exporter
 * declared it does not clear) and throw {@link Skipped} saying why.
 *
 * <p>Checks are independent: each opens and releases what it needs. Not thread-safe: run a check from one thread at
 * a time.
 */
public final class ContractCheck {

    /** The code of a check. */
    @FunctionalInterface
    public interface Body {
        /**
         * Runs the check.
         *
         * @throws Exception on failure ({@link AssertionError} when the exporter broke the contract)
         */
        void run() throws Exception;
    }

    /** Thrown by {@link ContractCheck#run()} of a skipped check: its message says why it was skipped. */
    public static final class Skipped extends RuntimeException {
        private static final long serialVersionUID = 1L;

        /**
         * A skip.
         *
         * @param message the check's name and why it does not apply
         */
        public Skipped(String message) {
            super(message);
        }
    }

    private final String name;
    private final Body body;
    private final String skipReason;

    private ContractCheck(String name, Body body, String skipReason) {
        this.name = Objects.requireNonNull(name, "name");
        this.body = body;
        this.skipReason = skipReason;
    }

    /**
     * A check.
     *
     * @param name what it checks, as a sentence
     * @param body the code
     * @return the check
     */
    public static ContractCheck of(String name, Body body) {
        return new ContractCheck(name, Objects.requireNonNull(body, "body"), null);
    }

    /**
     * A check that does not apply to this exporter.
     *
     * @param name what it would check
     * @param reason why it does not apply (the option that says so)
     * @return the skipped check
     */
    public static ContractCheck skipped(String name, String reason) {
        return new ContractCheck(name, null, Objects.requireNonNull(reason, "reason"));
    }

    /**
     * What this check checks.
     *
     * @return a sentence
     */
    public String name() {
        return name;
    }

    /**
     * Why this check is skipped.
     *
     * @return the reason, or empty when the check runs
     */
    public Optional<String> skipReason() {
        return Optional.ofNullable(skipReason);
    }

    /**
     * Runs the check.
     *
     * @throws Skipped when the check is skipped, saying why
     * @throws Exception when the check fails ({@link AssertionError} naming the check and the exporter)
     */
    public void run() throws Exception {
        if (skipReason != null) {
            throw new Skipped(name + ": skipped: " + skipReason);
        }
        body.run();
    }

    @Override
    public String toString() {
        return skipReason == null ? name : name + " (skipped: " + skipReason + ")";
    }
}
