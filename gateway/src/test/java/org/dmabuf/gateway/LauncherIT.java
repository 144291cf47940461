package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.FileTime;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The distribution's launchers ({@code bin/dmabuf-gateway}, {@code bin/dmabuf-consumer}, {@code bin/java-cds}) and
 * what {@code --run} starts: the class-data sharing archive is made by the first run of the job, used by the next
 * ones, made again when a jar is newer, and a damaged one or none costs nothing but the speed. Each test runs a copy
 * of the distribution, so that it may touch its jars.
 */
class LauncherIT {
    @TempDir
    Path tmp;
    private Path dist;

    private static Path built() {
        return Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar")).toAbsolutePath().getParent();
    }

    @BeforeEach
    void copyTheDistribution() throws Exception {
        dist = tmp.resolve("dist");
        Path from = built();
        for (String part : List.of("dmabuf-gateway.jar", "bin", "lib", "bundle")) {
            try (Stream<Path> s = Files.walk(from.resolve(part))) {
                for (Path p : s.toList()) {
                    Path to = dist.resolve(from.relativize(p).toString());
                    if (Files.isDirectory(p)) {
                        Files.createDirectories(to);
                    } else {
                        Files.createDirectories(to.getParent());
                        Files.copy(p, to, StandardCopyOption.COPY_ATTRIBUTES);
                    }
                }
            }
        }
    }

    /** What a launcher printed and its exit status. */
    private record Run(int status, String out) {
    }

    private Run launch(Map<String, String> env, String launcher, String... args) throws Exception {
        List<String> command = new ArrayList<>(List.of("sh", dist.resolve("bin").resolve(launcher).toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).redirectErrorStream(true);
        pb.environment().remove("JAVA_OPTS");
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        pb.environment().putAll(env);
        Process p = pb.start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).as(launcher + " exits").isTrue();
        return new Run(p.exitValue(), out);
    }

    private Run job(Map<String, String> env, String name) throws Exception {
        Path run = Files.createDirectories(tmp.resolve(name));
        return launch(env, "dmabuf-gateway", "--run", "--frames", "2", "--source", "pattern", "--socket",
                run.resolve("run/frames.sock").toString(), "--work", run.resolve("work").toString(), "--output",
                run.resolve("thumbnails").toString());
    }

    private List<Path> archives() throws Exception {
        Path cds = dist.resolve("work").resolve("cds");
        if (!Files.isDirectory(cds)) {
            return List.of();
        }
        try (Stream<Path> s = Files.list(cds)) {
            return s.sorted().toList();
        }
    }

    /** Where the JVM took a class from, as -Xlog:class+load says: "shared objects file (top)" is the archive. */
    private static String source(Path classLoadLog, String className) throws Exception {
        return Files.readAllLines(classLoadLog).stream().filter(l -> l.contains(" " + className + " source: "))
                .map(l -> l.substring(l.indexOf(" source: ") + 9)).findFirst().orElse("(not loaded)");
    }

    @Test
    void runLeavesOutExactlyTheShellsBundlesOfTheDistribution() throws Exception {
        List<String> left;
        try (Stream<Path> s = Files.list(built().resolve("bundle"))) {
            left = s.filter(Main::interactiveOnly).map(p -> p.getFileName().toString()).sorted().toList();
        }
        assertThat(left).containsExactly("org.apache.felix.gogo.command.jar", "org.apache.felix.gogo.runtime.jar",
                "org.apache.felix.gogo.shell.jar", "org.apache.felix.log.jar", "org.apache.felix.metatype.jar");
    }

    @Test
    void theFirstRunOfTheJobMakesTheArchiveAndTheNextRunMapsTheLaunchersAndTheBundlesClassesFromIt()
            throws Exception {
        Run help = launch(Map.of(), "dmabuf-gateway", "--help");
        assertThat(help.status()).as(help.out()).isZero();
        Run failed = launch(Map.of(), "dmabuf-gateway", "--run", "--format", "NV99");
        assertThat(failed.status()).as(failed.out()).isEqualTo(2);
        assertThat(archives()).as("no archive from --help nor from a run that failed").isEmpty();

        Run first = job(Map.of(), "first");
        assertThat(first.status()).as(first.out()).isZero();
        assertThat(first.out()).contains("bufinfo after release: 0 buffer(s)").doesNotContain("[warning]");
        assertThat(archives()).hasSize(1);
        Path archive = archives().get(0);
        assertThat(archive.getFileName().toString()).matches("dmabuf-gateway-\\d+\\.jsa");

        Path log = tmp.resolve("class-load.txt");
        Run second = job(Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + log + " -D" + Main.TRACE + "=true"),
                "second");
        assertThat(second.status()).as(second.out()).isZero();
        // the start's steps, launcher's and job's, in order, up to the first frame handed to the consumers (the
        // gateway bundle's own start ends while the job runs: its step may fall anywhere after "job")
        assertThat(second.out()).containsPattern("start \\(ms since main\\): main \\d+, framework init \\d+, "
                + "bundles installed \\d+, framework started \\d+, .*org\\.apache\\.felix\\.scr \\d+, .*job \\d+, "
                + ".*exporters \\d+, .*source \\d+, .*listening \\d+, .*consumers \\d+, .*first frame \\d+, "
                + ".*offered \\d+\n");
        assertThat(source(log, "org.dmabuf.gateway.Main")).as("the launcher's class").isEqualTo(
                "shared objects file (top)");
        assertThat(source(log, "org.dmabuf.gateway.MainJob")).as("the job's class, from its bundle's class loader")
                .isEqualTo("shared objects file (top)");
        assertThat(source(log, "org.apache.felix.gogo.runtime.activator.Activator")).as("--run: no shell")
                .isEqualTo("(not loaded)");
        assertThat(archives()).containsExactly(archive);
    }

    @Test
    void anArchiveOlderThanAJarIsMadeAgainAndADamagedOneIsPassedOverSilently() throws Exception {
        assertThat(job(Map.of(), "first").status()).isZero();
        Path archive = archives().get(0);
        FileTime made = Files.getLastModifiedTime(archive);

        // what a run killed while it made the archive left behind (its shell, the file's pid, is gone)
        Path left = archive.resolveSibling(archive.getFileName() + ".2147483646.tmp");
        Files.write(left, new byte[4096]);

        // a newer jar in bundle/ (an updated bundle): the next run of the job makes the archive again
        Path core = dist.resolve("bundle").resolve("org.dmabuf.core.jar");
        Files.setLastModifiedTime(core, FileTime.fromMillis(made.toMillis() + 10_000));
        Run stale = job(Map.of(), "stale");
        assertThat(stale.status()).as(stale.out()).isZero();
        assertThat(archives()).containsExactly(archive);
        assertThat(Files.getLastModifiedTime(archive)).as("made again").isGreaterThan(made);
        assertThat(left).as("the killed run's file, removed by the run that made the archive again").doesNotExist();

        // damaged, and newer than every jar: the JVM refuses it and starts without it, saying nothing
        Files.delete(archive);
        Files.write(archive, new byte[4096]);
        Files.setLastModifiedTime(archive, FileTime.fromMillis(System.currentTimeMillis() + 60_000));
        Path log = tmp.resolve("class-load.txt");
        Run damaged = job(Map.of("JAVA_OPTS", "-Xlog:class+load=info:file=" + log), "damaged");
        assertThat(damaged.status()).as(damaged.out()).isZero();
        assertThat(damaged.out()).contains("bufinfo after release: 0 buffer(s)").doesNotContain("[warning]")
                .doesNotContainIgnoringCase("shared archive");
        assertThat(source(log, "org.dmabuf.gateway.Main")).startsWith("file:");

        // DMABUF_CDS=off: no archive used or made
        Files.delete(archive);
        Path off = tmp.resolve("off.txt");
        Run none = job(Map.of("DMABUF_CDS", "off", "JAVA_OPTS", "-Xlog:class+load=info:file=" + off), "off");
        assertThat(none.status()).as(none.out()).isZero();
        assertThat(source(off, "org.dmabuf.gateway.Main")).startsWith("file:");
        assertThat(archives()).isEmpty();
    }

    @Test
    void theConsumersLauncherReceivesTheFramesAndMakesItsOwnArchive() throws Exception {
        Path run = Files.createDirectories(tmp.resolve("run"));
        Path socket = run.resolve("run/frames.sock"); // the gateway makes its folder, for this user only
        ProcessBuilder pb = new ProcessBuilder("sh", dist.resolve("bin").resolve("dmabuf-consumer").toString(),
                socket.toString(), "60").redirectErrorStream(true);
        pb.environment().remove("JAVA_OPTS");
        pb.environment().put("JAVA", Path.of(System.getProperty("java.home"), "bin", "java").toString());
        Process consumer = pb.start();
        Run gateway = launch(Map.of(), "dmabuf-gateway", "--run", "--frames", "5", "--consumers", "1", "--source",
                "pattern", "--socket", socket.toString(), "--work", run.resolve("work").toString(), "--output",
                run.resolve("thumbnails").toString());
        String seen = new String(consumer.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(consumer.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(gateway.status()).as(gateway.out()).isZero();
        assertThat(consumer.exitValue()).as(seen).isZero();
        assertThat(seen).contains("consumer: received 5 frames (5 pattern frames verified), 0 refused");
        assertThat(archives()).extracting(p -> p.getFileName().toString().replaceAll("-\\d+\\.jsa$", ""))
                .containsExactly("dmabuf-consumer", "dmabuf-gateway");
    }
}
