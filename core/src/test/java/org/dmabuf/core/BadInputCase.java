package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Supplier;
import org.dmabuf.api.DmaBufException;
import org.dmabuf.linux.TestSupport;

/**
 * One row of the bad-input table ({@code docs/bad-input.md}): an input the project must refuse (or, where the row
 * says {@code accepted}, take in a stated way), the typed error, the call it names and errno. The rows are data
 * ({@link BadInputTable#ROWS}), so that the host test that writes the table sees the guest's rows too; each module's
 * {@code BadInput*Test} gives every row of its module a body ({@link Body}) and runs it with {@link #run}. Immutable;
 * any thread.
 *
 * @param id the row's id, e.g. {@code fd-08}: unique, the body's key
 * @param module the Maven module whose test runs it
 * @param where {@code host} or {@code guest} (the kernel guest: real drivers)
 * @param area API, SPI, fd import, ioctl, wire, config
 * @param input what is given, in a few words
 * @param error the exception's simple class name, {@link #ACCEPTED} when the input is taken as the row says, or
 *        {@link #STATUS_2} for a command-line tool's bad argument (printed, not thrown)
 * @param call the call the error names (its {@code DmaBufException.call()} for the project's errors; the tool's
 *        name, as its message starts, for a tool)
 * @param errno the errno by name, or {@link #NO_ERRNO}
 * @param fragments more text the message must hold (besides call, errno and what the body adds: the fd or path)
 * @param reference where another test already runs the case (class#method), or null when a body here runs it
 */
public record BadInputCase(String id, String module, String where, String area, String input, String error,
        String call, String errno, List<String> fragments, String reference) {
    /** The {@link #error} of a row whose input is taken: the body asserts how. */
    public static final String ACCEPTED = "accepted";
    /**
     * The {@link #error} of a command-line tool's bad argument: the tool prints a line starting with its name (the
     * row's {@link #call}) and the usage, and exits with status 2; the body checks it with {@link Check#exits}.
     */
    public static final String STATUS_2 = "status 2";
    /** The {@link #errno} of an error without one ({@code IndexOutOfBoundsException}). */
    public static final String NO_ERRNO = "—";

    /** A row checked by a body of its module's bad-input test. */
    static BadInputCase of(String id, String module, String where, String area, String input, String error,
            String call, String errno, String... fragments) {
        return new BadInputCase(id, module, where, area, input, error, call, errno, List.of(fragments), null);
    }

    /** A row another test checks already: named, not run twice. */
    static BadInputCase ref(String id, String module, String where, String area, String input, String error,
            String call, String errno, String reference) {
        return new BadInputCase(id, module, where, area, input, error, call, errno, List.of(), reference);
    }

    /** The test column of the table. */
    String test() {
        String cls = switch (module) {
            case "core" -> "BadInputTest";
            case "gateway" -> "BadInputConfigTest";
            default -> where.equals("guest") ? "BadInputKernelTest" : "BadInputConfigTest";
        };
        return reference != null ? reference + " (" + module + ", " + where + ")"
                : cls + "#" + id + " (" + module + ", " + where + ")";
    }

    /** The case's body: makes the bad input, and hands the call that must fail to {@link Check#fails}. */
    @FunctionalInterface
    public interface Body {
        /**
         * Runs the case.
         *
         * @param check what the case reports
         * @throws Exception anything unexpected: the case fails
         */
        void run(Check check) throws Exception;
    }

    /** A call expected to fail; it returns what it made, if it did not fail (the case then fails and closes it). */
    @FunctionalInterface
    public interface Call {
        /**
         * Makes the call.
         *
         * @return what it returned, or null
         * @throws Exception the expected error
         */
        Object call() throws Exception;
    }

    /** A command-line tool run with a bad argument: what it prints goes to {@code out}. */
    @FunctionalInterface
    public interface Tool {
        /**
         * Runs the tool.
         *
         * @param out where it prints
         * @return its exit status
         * @throws Exception anything unexpected: the case fails
         */
        int run(PrintStream out) throws Exception;
    }

    /** What a body reports: the failing call, or that the input was accepted as the row says. */
    public final class Check {
        private int checked;

        /**
         * Makes the call and checks its error against the row: the class, {@code call()} and errno by name (for
         * {@link DmaBufException}s), and the message naming the call, errno, the row's fragments and {@code names}
         * (the fd or path, known only when the case runs).
         *
         * @param call the call
         * @param names text the message must hold: {@code "fd 12"}, a path
         * @return the error
         */
        public Throwable fails(Call call, String... names) {
            Throwable thrown = null;
            Object made = null;
            try {
                made = call.call();
            } catch (Throwable t) {
                thrown = t;
            }
            if (thrown == null) {
                if (made instanceof AutoCloseable c) {
                    try {
                        c.close();
                    } catch (Exception e) {
                        // the case fails below anyway
                    }
                }
                throw new AssertionError(id + ": " + input + " was accepted (" + made + "); expected "
                        + error + " from " + call() + " " + errno);
            }
            checked++;
            assertThat(thrown).as("%s: %s", id, input).satisfies(t -> assertThat(isA(t, error))
                    .as("%s: %s is a %s", id, t, error).isTrue());
            String m = String.valueOf(thrown.getMessage());
            if (thrown instanceof DmaBufException d) {
                assertThat(d.call()).as("%s: the call named by %s", id, m).isEqualTo(BadInputCase.this.call());
                assertThat(d.errno()).as("%s: the errno of %s", id, m)
                        .isEqualTo(errno.equals(NO_ERRNO) ? null : errno);
                assertThat(m).as("%s", id).startsWith(BadInputCase.this.call() + ": "
                        + (errno.equals(NO_ERRNO) ? "" : errno + ": "));
            } else {
                assertThat(m).as("%s: the message names the call", id).contains(BadInputCase.this.call());
            }
            for (String f : fragments) {
                assertThat(m).as("%s: the message", id).contains(f);
            }
            for (String f : names) {
                assertThat(m).as("%s: the message names the fd or path", id).contains(f);
            }
            return thrown;
        }

        /**
         * Opens a device node read-write and checks that {@code get} of its fd in a registry of its own fails as the
         * row says, naming the fd; the node's fd and the registry are closed whatever happens.
         *
         * @param node the node's path, e.g. {@code /dev/video0}
         */
        public void getOfNodeFails(String node) {
            try (org.dmabuf.linux.Fd fd = org.dmabuf.linux.Sys.open(node, org.dmabuf.linux.LibC.O_RDWR);
                 StandaloneRegistry r = new StandaloneRegistry("bad-input")) {
                fails(() -> r.get(fd.get()), "fd " + fd.get());
            }
        }

        /**
         * Runs a command-line tool with the row's bad argument and checks it exits with status 2 having printed the
         * error: text starting with the tool's name (the row's {@link BadInputCase#call()}, {@code dump: }) and
         * holding the row's fragments (the argument, the usage) and {@code names}.
         *
         * @param tool the tool's run
         * @param names more text the output must hold
         * @return what it printed
         * @throws Exception what the tool threw: the case fails
         */
        public String exits(Tool tool, String... names) throws Exception {
            assertThat(error).as("%s is a row of a tool's bad argument", id).isEqualTo(STATUS_2);
            ByteArrayOutputStream bytes = new ByteArrayOutputStream();
            int status;
            try (PrintStream out = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
                status = tool.run(out);
            }
            String printed = bytes.toString(StandardCharsets.UTF_8);
            checked++;
            assertThat(status).as("%s: the exit status of %s; it printed:%n%s", id, input, printed).isEqualTo(2);
            assertThat(printed).as("%s: the output starts with the tool's name", id)
                    .startsWith(BadInputCase.this.call() + ": ");
            for (String f : fragments) {
                assertThat(printed).as("%s: the output", id).contains(f);
            }
            for (String f : names) {
                assertThat(printed).as("%s: the output", id).contains(f);
            }
            return printed;
        }

        /**
         * Says the input was taken, as a row with {@link #ACCEPTED} says; the body asserts how.
         *
         * @param how the body's assertions
         */
        public void accepted(Runnable how) {
            assertThat(error).as("%s is a row of an accepted input", id).isEqualTo(ACCEPTED);
            how.run();
            checked++;
        }
    }

    private static boolean isA(Throwable t, String simpleName) {
        for (Class<?> c = t.getClass(); c != null; c = c.getSuperclass()) {
            if (c.getSimpleName().equals(simpleName)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Runs a body: counts this process's open fds by kind ({@link TestSupport#openFdTargets()}) and its mappings
     * of buffers and devices before and after, and fails if the body did not check its call once or left anything.
     *
     * @param body the body
     * @param mappingMarkers what a buffer's mapping line in /proc/self/maps holds ({@code "/memfd:"},
     *        {@code "/dmabuf:"}, {@code "/dev/dri/"}...)
     * @throws Exception what the body threw
     */
    public void run(Body body, String... mappingMarkers) throws Exception {
        assertThat(reference).as("%s is run by %s", id, reference).isNull();
        List<String> fdsBefore = kinds(TestSupport.openFdTargets());
        long mapsBefore = TestSupport.mappings(mappingMarkers);
        Check check = new Check();
        body.run(check);
        assertThat(check.checked).as("%s: the body checked one call", id).isEqualTo(1);
        Supplier<String> now = () -> String.join(", ", TestSupport.openFdTargets());
        assertThat(kinds(TestSupport.openFdTargets())).as("%s: open fds by kind after the case (%s)", id, now.get())
                .containsExactlyInAnyOrderElementsOf(fdsBefore);
        assertThat(TestSupport.mappings(mappingMarkers)).as("%s: mappings of %s left", id,
                Arrays.toString(mappingMarkers)).isEqualTo(mapsBefore);
    }

    /** Each fd's kind: its link target without the inode number ({@code pipe:}, {@code /memfd:name}...). */
    private static List<String> kinds(List<String> fds) {
        List<String> out = new ArrayList<>();
        for (String f : fds) {
            String t = f.substring(f.indexOf(" -> ") + 4);
            int bracket = t.indexOf(":[");
            out.add(bracket >= 0 ? t.substring(0, bracket + 1) : t.replaceAll(" \\(deleted\\)$", ""));
        }
        return out;
    }
}
