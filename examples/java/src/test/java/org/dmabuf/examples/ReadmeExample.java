package org.dmabuf.examples;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.StringWriter;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import javax.tools.JavaCompiler;
import javax.tools.StandardJavaFileManager;
import javax.tools.ToolProvider;

/**
 * The README's plain-Java example, as a user would take it: the fenced {@code java} blocks of README.md marked with
 * {@code <!-- example: PATH -->} are written to their paths, compiled with {@code javax.tools} against the jars a
 * program puts on its path (the exporters with api, core and JNA: {@code target/example.classpath}), on the class
 * path or, with the README's {@code module-info.java}, on the module path, and run as two JVMs: {@code share} then
 * {@code check}. Stateless; one test thread.
 */
final class ReadmeExample {
    /** The README block's marker: an HTML comment naming the file. */
    private static final Pattern BLOCK = Pattern.compile("<!-- example: (\\S+) -->\\s*\\n```java\\n(.*?)\\n```",
            Pattern.DOTALL);
    static final String MAIN = "org.dmabuf.example.ShareExample";
    static final String MODULE = "org.dmabuf.example";

    private ReadmeExample() {
    }

    /** What one JVM printed. */
    record Output(int exit, String out, String err) {
        @Override
        public String toString() {
            return "exit " + exit + "\n--- stdout\n" + out + "--- stderr\n" + err;
        }
    }

    /** The two processes' outputs. */
    record Run(Output share, Output check) {
    }

    /** @return this module's target folder (the parent of the test classes) */
    static Path target() {
        try {
            return Path.of(ReadmeExample.class.getProtectionDomain().getCodeSource().getLocation().toURI())
                    .getParent();
        } catch (URISyntaxException e) {
            throw new AssertionError(e);
        }
    }

    /** @return the checkout's README.md */
    static Path readme() {
        Path p = target().getParent().getParent().getParent().resolve("README.md");
        assertThat(p).exists();
        return p;
    }

    /**
     * The marked blocks of a README.
     *
     * @param text the README's text
     * @return file path to source, in order
     */
    static Map<String, String> blocks(String text) {
        Map<String, String> out = new LinkedHashMap<>();
        Matcher m = BLOCK.matcher(text);
        while (m.find()) {
            out.put(m.group(1), m.group(2) + "\n");
        }
        return out;
    }

    /** @return the jars of {@code target/example.classpath} */
    static List<Path> jars() throws IOException {
        String cp = Files.readString(target().resolve("example.classpath")).trim();
        List<Path> jars = Arrays.stream(cp.split(":")).map(Path::of).toList();
        assertThat(jars).allMatch(j -> j.toString().endsWith(".jar"), "jars, not class folders (build with "
                + "install or verify, not test)");
        return jars;
    }

    /**
     * Extracts and compiles the README's example, unless the classes are newer than the README (the host's test
     * made them in the same build: the guest, whose Java is slow, reuses them).
     *
     * @param modulePath true to compile it as a module, with its module-info, against the jars as modules
     * @return the folder of its classes
     */
    static Path compile(boolean modulePath) throws IOException {
        Path readme = readme();
        Path root = target().resolve("readme-example").resolve(modulePath ? "module-path" : "class-path");
        Path classes = root.resolve("classes");
        Path stamp = root.resolve("compiled");
        if (Files.exists(stamp) && Files.getLastModifiedTime(stamp).compareTo(Files.getLastModifiedTime(readme)) > 0) {
            return classes;
        }
        Map<String, String> blocks = blocks(Files.readString(readme));
        assertThat(blocks).containsKeys("org/dmabuf/example/ShareExample.java", "module-info.java");
        List<String> files = new ArrayList<>();
        Path src = root.resolve("src");
        for (Map.Entry<String, String> b : blocks.entrySet()) {
            if (!modulePath && b.getKey().equals("module-info.java")) {
                continue;
            }
            Path f = src.resolve(b.getKey());
            Files.createDirectories(f.getParent());
            Files.writeString(f, b.getValue());
            files.add(f.toString());
        }
        Files.createDirectories(classes);
        String path = jars().stream().map(Path::toString).collect(Collectors.joining(":"));
        List<String> args = new ArrayList<>(List.of("-d", classes.toString(), "--release", "17", "-Xlint:all",
                "-Werror", "-Xlint:-requires-automatic", modulePath ? "--module-path" : "-classpath", path));
        JavaCompiler javac = ToolProvider.getSystemJavaCompiler();
        StringWriter diagnostics = new StringWriter();
        boolean ok;
        try (StandardJavaFileManager fm = javac.getStandardFileManager(null, null, StandardCharsets.UTF_8)) {
            ok = javac.getTask(diagnostics, fm, null, args, null, fm.getJavaFileObjectsFromStrings(files)).call();
        }
        assertThat(ok).as("javac %s %s:%n%s", args, files, diagnostics).isTrue();
        Files.writeString(stamp, "");
        return classes;
    }

    /**
     * Runs the example: {@code share} in one JVM, and once it waits for its peer, {@code check} in another.
     *
     * @param modulePath true for the module path (the jars and the example as modules), false for the class path
     * @param timeout how long each JVM may take at most (a guard against a hang, not a measure)
     * @return what each printed
     */
    static Run run(boolean modulePath, Duration timeout) throws Exception {
        return run(modulePath, false, timeout);
    }

    /**
     * Runs the example as {@link #run(boolean, Duration)} does, or with {@code check} in this JVM (the guest, whose
     * JVMs start slowly, saves one): loaded from its classes over this JVM's class path, its standard output
     * captured, and the fds of buffers and devices this JVM holds counted before and after.
     *
     * @param modulePath true for the module path; false for the class path
     * @param checkHere true to run {@code check} in this JVM (class path only)
     * @param timeout how long each side may take at most
     * @return what each printed ({@code check}'s stderr: the fds it left open, if any)
     */
    static Run run(boolean modulePath, boolean checkHere, Duration timeout) throws Exception {
        Path classes = compile(modulePath);
        String jars = jars().stream().map(Path::toString).collect(Collectors.joining(":"));
        Path work = Files.createTempDirectory(target(), "run-");
        Path dir = Files.createTempDirectory(Path.of("/tmp"), "dmabuf-example-");
        Path socket = dir.resolve("share.sock");
        List<String> java = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java")
                .toString(), "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-Djna.tmpdir=" + work.resolve("jna")));
        if (modulePath) {
            java.addAll(List.of("-p", classes + ":" + jars, "-m", MODULE + "/" + MAIN));
        } else {
            java.addAll(List.of("-cp", classes + ":" + jars, MAIN));
        }
        Process share = start(java, "share", socket, work);
        Process check = null;
        try {
            Path shareOut = work.resolve("share.out");
            await().atMost(timeout).until(() -> !share.isAlive()
                    || Files.readString(shareOut).contains("waiting for the peer"));
            assertThat(share.isAlive()).as("share stopped before waiting: %s", output(share, work, "share"))
                    .isTrue();
            Output checked;
            if (checkHere) {
                checked = checkHere(classes, socket);
            } else {
                check = start(java, "check", socket, work);
                assertThat(check.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)).as("check ended").isTrue();
                checked = output(check, work, "check");
            }
            assertThat(share.waitFor(timeout.toSeconds(), TimeUnit.SECONDS)).as("share ended").isTrue();
            return new Run(output(share, work, "share"), checked);
        } finally {
            share.destroyForcibly();
            if (check != null) {
                check.destroyForcibly();
            }
            Files.deleteIfExists(socket);
            Files.deleteIfExists(dir);
        }
    }

    /** Runs {@code check} in this JVM: its stdout captured, the fds this JVM holds compared before and after. */
    private static Output checkHere(Path classes, Path socket) throws Exception {
        long fds = org.dmabuf.linux.TestSupport.bufferFds();
        java.io.ByteArrayOutputStream out = new java.io.ByteArrayOutputStream();
        java.io.PrintStream stdout = System.out;
        try (java.net.URLClassLoader loader = new java.net.URLClassLoader(new java.net.URL[] {classes.toUri().toURL()},
                ReadmeExample.class.getClassLoader())) {
            System.setOut(new java.io.PrintStream(out, true, StandardCharsets.UTF_8));
            loader.loadClass(MAIN).getMethod("main", String[].class)
                    .invoke(null, (Object) new String[] {"check", socket.toString()});
        } finally {
            System.setOut(stdout);
        }
        long left = org.dmabuf.linux.TestSupport.bufferFds() - fds;
        return new Output(0, out.toString(StandardCharsets.UTF_8), left == 0 ? "" : "leak: " + left + " fds of "
                + "buffers or devices left open: " + org.dmabuf.linux.TestSupport.openFdTargets());
    }

    private static Process start(List<String> java, String mode, Path socket, Path work) throws IOException {
        List<String> cmd = new ArrayList<>(java);
        cmd.add(mode);
        cmd.add(socket.toString());
        return new ProcessBuilder(cmd).redirectOutput(work.resolve(mode + ".out").toFile())
                .redirectError(work.resolve(mode + ".err").toFile()).start();
    }

    private static Output output(Process p, Path work, String mode) throws IOException {
        return new Output(p.isAlive() ? -1 : p.exitValue(),
                Files.readString(work.resolve(mode + ".out"), StandardCharsets.UTF_8),
                Files.readString(work.resolve(mode + ".err"), StandardCharsets.UTF_8));
    }

    /**
     * Checks what the two JVMs printed: the bytes the sharer wrote were right in the other process, the answer
     * written there came back, each side ends with no live buffer, and no reference had to be released for them
     * (the registry says so on stderr when it does) nor was a handle dropped without release.
     *
     * @param run the outputs
     * @param exporter the kernel's exp_name the buffer is expected from
     */
    static void assertShared(Run run, String exporter) {
        assertThat(run.share().exit()).as("share: %s", run.share()).isZero();
        assertThat(run.check().exit()).as("check: %s", run.check()).isZero();
        assertThat(run.share().out()).as("share: %s", run.share())
                .contains("allocated example from " + exporter + "; waiting for the peer")
                .contains("came back: every byte incremented by the peer")
                .contains("live buffers: 0");
        assertThat(run.check().out()).as("check: %s", run.check())
                .contains("received example from " + exporter + ": every byte right")
                .contains("live buffers: 0");
        for (Output o : List.of(run.share(), run.check())) {
            assertThat(o.err()).as("%s", o).doesNotContain("stopped holding").doesNotContain("leak")
                    .doesNotContain("still referenced").doesNotContain("Exception");
        }
    }
}
