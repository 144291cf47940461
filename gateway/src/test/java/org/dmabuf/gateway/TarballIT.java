package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.jar.JarFile;
import java.util.stream.Stream;
import org.dmabuf.spi.ExporterConfiguration;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The gateway tarball ({@code dmabuf-gateway-VERSION.tar.gz}) as an operator gets it: extracted into an empty
 * folder, its start script finds Java through {@code JAVA_HOME} or {@code PATH}, refuses a Java older than 17 in
 * one clear line, runs the machine check and the frame pipeline with the tarball's configuration examples, runs as
 * a service (no console) until SIGTERM, and its systemd unit passes {@code systemd-analyze verify}.
 */
class TarballIT {
    @TempDir
    Path tmp;
    private Path home;

    private static final String JAVA_HOME = System.getProperty("java.home");

    @BeforeEach
    void extract() throws Exception {
        Path tarball = Path.of(System.getProperty("gateway.tarball", "target/dmabuf-gateway-"
                + System.getProperty("gateway.version") + ".tar.gz")).toAbsolutePath();
        assertThat(tarball).as("the tarball the package phase makes").isRegularFile();
        Run tar = run(new ProcessBuilder("tar", "-xzf", tarball.toString(), "-C", tmp.toString()));
        assertThat(tar.status()).as(tar.out()).isZero();
        try (Stream<Path> s = Files.list(tmp)) {
            List<Path> top = s.toList();
            assertThat(top).as("one folder at the top").hasSize(1);
            home = top.get(0);
        }
        assertThat(home.getFileName().toString()).isEqualTo(
                tarball.getFileName().toString().replaceAll("\\.tar\\.gz$", ""));
    }

    /** What a process printed (standard output and error) and its exit status. */
    private record Run(int status, String out) {
    }

    private static Run run(ProcessBuilder pb) throws Exception {
        Process p = pb.redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(new java.io.File(
                "/dev/null"))).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(150, TimeUnit.SECONDS)).as("exits: " + pb.command()).isTrue();
        return new Run(p.exitValue(), out);
    }

    /**
     * The start script run as an operator would: {@code bin/dmabuf-gateway ARGS}, executed directly (its mode and
     * #! line), with the environment given and no JAVA, JAVA_HOME or JAVA_OPTS of the build's.
     */
    private ProcessBuilder gateway(Map<String, String> env, String... args) {
        List<String> command = new ArrayList<>(List.of(home.resolve("bin/dmabuf-gateway").toString()));
        command.addAll(List.of(args));
        ProcessBuilder pb = new ProcessBuilder(command).directory(tmp.toFile());
        pb.environment().keySet().removeAll(List.of("JAVA", "JAVA_HOME", "JAVA_OPTS", "DMABUF_CDS"));
        pb.environment().put("PATH", "/usr/bin:/bin");
        pb.environment().putAll(env);
        return pb;
    }

    @Test
    void theTarballHoldsTheJarWhatItsClassPathNamesTheConfigurationTheUnitAndTheLicence() throws Exception {
        for (String f : List.of("bin/dmabuf-gateway", "bin/dmabuf-consumer", "bin/java-cds")) {
            assertThat(Files.getPosixFilePermissions(home.resolve(f))).as(f)
                    .contains(PosixFilePermission.OWNER_EXECUTE, PosixFilePermission.OTHERS_EXECUTE);
        }
        assertThat(home.resolve("systemd/dmabuf-gateway.service")).isRegularFile();
        assertThat(home.resolve("LICENSE")).content().contains("Apache License", "Version 2.0");
        assertThat(home.resolve("NOTICE")).isRegularFile();
        assertThat(home.resolve("README.md")).isRegularFile();
        assertThat(home.resolve("conf/README")).isRegularFile();
        try (JarFile jar = new JarFile(home.resolve("dmabuf-gateway.jar").toFile())) {
            String classPath = jar.getManifest().getMainAttributes().getValue("Class-Path");
            assertThat(classPath).isNotBlank();
            for (String entry : classPath.trim().split("\\s+")) {
                assertThat(home.resolve(entry)).as("Class-Path entry " + entry).isRegularFile();
            }
        }
        // every configuration example reads as the gateway reads a .cfg file
        try (Stream<Path> s = Files.list(home.resolve("conf"))) {
            List<Path> examples = s.filter(p -> p.toString().endsWith(".cfg.example")).toList();
            assertThat(examples).extracting(p -> p.getFileName().toString()).contains(
                    "org.dmabuf.core.registry.cfg.example", "org.dmabuf.exporter.heap.cfg.example",
                    "org.dmabuf.exporter.drm~card0.cfg.example", "org.dmabuf.exporter.drm.discovery.cfg.example",
                    "org.dmabuf.exporter.v4l2~camera.cfg.example");
            for (Path example : examples) {
                Path cfg = tmp.resolve(example.getFileName().toString().replace(".cfg.example", ".cfg"));
                Files.copy(example, cfg);
                assertThat(ExporterConfiguration.read(cfg).properties()).as(example.toString()).isNotEmpty();
            }
        }
    }

    @Test
    void theMachineCheckRunsWithTheJavaOfJavaHome() throws Exception {
        Run doctor = run(gateway(Map.of("JAVA_HOME", JAVA_HOME), "--doctor"));
        assertThat(doctor.status()).as(doctor.out()).isZero();
        assertThat(doctor.out()).contains("[OK]     memfd").contains("Result: buffers can be allocated and shared");
    }

    @Test
    void aShortPipelineRunsWithTheJavaOnThePathAndTheTarballsConfiguration() throws Exception {
        for (String pid : List.of("org.dmabuf.core.registry", "org.dmabuf.exporter.heap")) {
            Files.copy(home.resolve("conf/" + pid + ".cfg.example"), home.resolve("conf/" + pid + ".cfg"));
        }
        Path work = tmp.resolve("work");
        Run job = run(gateway(Map.of("PATH", JAVA_HOME + "/bin:/usr/bin:/bin"), "--run", "--frames", "3",
                "--source", "pattern", "--work", work.toString(), "--socket", work.resolve("run/frames.sock")
                        .toString()));
        assertThat(job.status()).as(job.out()).isZero();
        assertThat(job.out()).contains("configuration org.dmabuf.core.registry loaded from " + home.resolve("conf"))
                .contains("configuration org.dmabuf.exporter.heap loaded from").contains("done: 3 frames")
                .contains("bufinfo after release: 0 buffer(s)").doesNotContain("did not start");
    }

    /** A {@code java} that says it is the version given, and notes every call's arguments in {@code calls}. */
    private Path fakeJava(Path dir, String version) throws IOException {
        Path java = Files.createDirectories(dir.resolve("bin")).resolve("java");
        Files.writeString(java, "#!/bin/sh\necho \"$@\" >> '" + dir.resolve("calls") + "'\n"
                + "echo 'openjdk version \"" + version + "\" 2024-01-16' >&2\n"
                + "echo 'OpenJDK Runtime Environment (build " + version + "+7)' >&2\n");
        java.toFile().setExecutable(true);
        return java;
    }

    @Test
    void anOlderJavaIsRefusedInOneLineThatSaysWhichAndWhatToDo() throws Exception {
        // on PATH, no release file beside it: its version is asked, and it is never given the gateway to run
        Path onPath = tmp.resolve("jdk-11");
        fakeJava(onPath, "11.0.22");
        Run refused = run(gateway(Map.of("PATH", onPath.resolve("bin") + ":/usr/bin:/bin"), "--doctor"));
        assertThat(refused.status()).as(refused.out()).isEqualTo(1);
        assertThat(refused.out()).contains("dmabuf-gateway: Java 17 or later is needed, and java (" + onPath
                + "/bin/java) is Java 11.0.22: set JAVA_HOME to a Java 17 or later installation");
        assertThat(onPath.resolve("calls")).content().isEqualTo("-version\n");

        // JAVA_HOME with a release file: read, no JVM started at all
        Path javaHome = tmp.resolve("jdk-8");
        fakeJava(javaHome, "1.8.0_402");
        Files.writeString(javaHome.resolve("release"), "IMPLEMENTOR=\"Test\"\nJAVA_VERSION=\"1.8.0_402\"\n");
        Run old = run(gateway(Map.of("JAVA_HOME", javaHome.toString()), "--run"));
        assertThat(old.status()).as(old.out()).isEqualTo(1);
        assertThat(old.out()).contains("is Java 1.8.0_402: set JAVA_HOME");
        assertThat(javaHome.resolve("calls")).doesNotExist();

        // none at all
        Run none = run(gateway(Map.of("JAVA", tmp.resolve("nowhere/bin/java").toString()), "--doctor"));
        assertThat(none.status()).isEqualTo(1);
        assertThat(none.out()).contains("dmabuf-gateway: no java found (tried " + tmp.resolve("nowhere/bin/java")
                + "): install Java 17 or later");
    }

    @Test
    void asAServiceItRunsWithoutAConsoleUntilSigtermThenStopsTheFramework() throws Exception {
        // as the unit starts it: no standard input, no shell reading it (-Dgosh.args=--nointeractive)
        Path work = tmp.resolve("service");
        Process p = gateway(Map.of("JAVA_HOME", JAVA_HOME, "JAVA_OPTS", "-Dgosh.args=--nointeractive"), "--work",
                work.toString()).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.from(
                        new java.io.File("/dev/null"))).start();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Thread reader = new Thread(() -> copy(p.getInputStream(), out), "service-output");
        reader.start();
        try {
            // the exporters register before the shell starts (it is started last); a shell that read the console
            // would meet its end at once and stop the framework ("gosh: stopping shell and framework", exit 0)
            await().atMost(Duration.ofSeconds(60)).until(() -> text(out).contains("exporters registered")
                    || !p.isAlive());
            assertThat(p.toHandle().children().findAny()).as("the script exec'd java: no child").isEmpty();
            // SIGTERM, as systemctl stop (ProcessHandle's: Process.destroy would close the output being read)
            assertThat(p.toHandle().destroy()).as("running when stopped: " + text(out)).isTrue();
            assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
            reader.join();
            assertThat(p.exitValue()).as(text(out)).isEqualTo(143); // 128 + SIGTERM: SuccessExitStatus=143
            assertThat(text(out)).doesNotContain("gosh: stopping shell").doesNotContain("did not start");
        } finally {
            p.destroyForcibly();
            reader.join();
        }
    }

    private static void copy(InputStream in, ByteArrayOutputStream out) {
        byte[] buf = new byte[4096];
        try {
            for (int n; (n = in.read(buf)) > 0; ) {
                synchronized (out) {
                    out.write(buf, 0, n);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private static String text(ByteArrayOutputStream out) {
        synchronized (out) {
            return out.toString(StandardCharsets.UTF_8);
        }
    }

    @Test
    void theSystemdUnitVerifiesWithTheTarballsPaths() throws Exception {
        Path analyze = Stream.of("/usr/bin/systemd-analyze", "/bin/systemd-analyze").map(Path::of)
                .filter(Files::isExecutable).findFirst().orElse(null);
        Assumptions.assumeTrue(analyze != null, "systemd-analyze is not installed here");
        String unit = Files.readString(home.resolve("systemd/dmabuf-gateway.service"));
        assertThat(unit).contains("SupplementaryGroups=video render", "Restart=on-failure",
                "ExecStart=/opt/dmabuf-gateway/bin/dmabuf-gateway ", "DeviceAllow=char-dma_heap rw",
                "DeviceAllow=/dev/udmabuf rw", "DeviceAllow=char-drm rw", "DeviceAllow=char-video4linux rw");
        // the unit as installed from this tarball: its paths where the tarball was extracted
        Path installed = tmp.resolve("dmabuf-gateway.service");
        Files.writeString(installed, unit.replace("/opt/dmabuf-gateway/", home + "/"));
        Run verify = run(new ProcessBuilder(analyze.toString(), "verify", installed.toString()));
        assertThat(verify.status()).as(verify.out()).isZero();
        assertThat(verify.out()).as("no remark on the unit").doesNotContain("dmabuf-gateway.service");
    }
}
