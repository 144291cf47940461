package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import java.io.IOException;
import java.io.OutputStream;
import java.net.ConnectException;
import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.NetworkInterface;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.dmabuf.core.JsonReader;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * The status page in a real browser: the distribution started as a user would ({@code java -jar
 * dmabuf-gateway.jar --run --status=PORT}) with the test pattern in sealed memfds and a consumer that never reads,
 * and Debian's headless Chromium driven by Selenium through chromium-driver, asserting what the page shows against
 * what the gateway's JSON endpoint and the machine's own accounting ({@code --dump --json}, from {@code /proc})
 * say. Chromium and chromium-driver come from the distribution's packages ({@code apt-get install chromium
 * chromium-driver}): without them the test fails in CI ({@code CI=true}) and is skipped elsewhere.
 */
class StatusPageIT {
    private static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    private static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");
    /** A buffer name a peer might choose: markup that runs script if a page ever reads it as HTML. */
    private static final String HOSTILE = "<img src=x onerror=pwn=1>";
    private static final Duration PATIENCE = Duration.ofSeconds(30);

    @TempDir
    Path tmp;

    private static Path jar() {
        Path jar = Path.of(System.getProperty("gateway.jar", "target/dmabuf-gateway.jar"));
        assertThat(jar).isRegularFile();
        return jar;
    }

    private static String java() {
        return Path.of(System.getProperty("java.home"), "bin", "java").toString();
    }

    private static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
            return s.getLocalPort();
        }
    }

    private WebDriver browser() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            String why = "the status page's browser test needs " + CHROMIUM + " and " + CHROMEDRIVER
                    + ": apt-get install -y chromium chromium-driver";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        // --no-sandbox: CI runs as root, where Chromium's sandbox refuses to start
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--user-data-dir=" + tmp.resolve("chromium"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort()
                .withLogFile(tmp.resolve("chromedriver.log").toFile()).build();
        return new ChromeDriver(service, options);
    }

    private static String get(HttpClient http, String url) throws Exception {
        HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create(url)).build(),
                HttpResponse.BodyHandlers.ofString());
        assertThat(r.statusCode()).as(url).isEqualTo(200);
        return r.body();
    }

    /** Reads the gateway's JSON with Python's {@code json.loads} and prints an expression of it. */
    private static String python(String json, String expression) throws Exception {
        Process p = new ProcessBuilder("python3", "-c", "import json,sys\nd = json.loads(sys.stdin.read())\n"
                + "print(json.dumps(" + expression + ", ensure_ascii=True, sort_keys=True))").start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(json.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("python3 on %s", json).isZero();
        return out;
    }

    /**
     * The texts of a table's column as the page shows them now, read in one go (the page replaces its tables'
     * rows at every refresh).
     */
    @SuppressWarnings("unchecked")
    private static List<String> column(WebDriver page, String table, String cls) {
        return (List<String>) js(page, "return Array.from(document.querySelectorAll('#" + table + " tbody td."
                + cls + "')).map(td => td.innerText);");
    }

    private static Object js(WebDriver page, String script) {
        return ((JavascriptExecutor) page).executeScript(script);
    }

    /**
     * The local addresses and ports of the TCP sockets a process listens on, from {@code /proc/PID/fd} and
     * {@code /proc/net/tcp} and {@code tcp6}, as the kernel prints them (hex, {@code 0100007F:1F90} for
     * 127.0.0.1:8080).
     */
    private static List<String> listening(long pid) throws IOException {
        Set<String> inodes = new HashSet<>();
        try (Stream<Path> fds = Files.list(Path.of("/proc", Long.toString(pid), "fd"))) {
            for (Path fd : fds.toList()) {
                try {
                    String target = Files.readSymbolicLink(fd).toString();
                    if (target.startsWith("socket:[")) {
                        inodes.add(target.substring(8, target.length() - 1));
                    }
                } catch (IOException e) {
                    // closed since the listing
                }
            }
        }
        List<String> found = new ArrayList<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table)).subList(1, Files.readAllLines(Path.of(table))
                    .size())) {
                String[] f = line.trim().split("\\s+");
                // sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
                if (f[3].equals("0A") && inodes.contains(f[9])) {
                    found.add(f[1]);
                }
            }
        }
        return found;
    }

    @Test
    void thePageShowsTheRunningPipelinesExportersBuffersConsumersAndThumbnailAndNoPeerMarkup() throws Exception {
        int port = freePort();
        Path socket = tmp.resolve("run/frames.sock");
        Process gateway = new ProcessBuilder(java(), "-jar", jar().toString(), "--run", "--frames", "100000",
                "--every", "10", "--fps", "30", "--consumers", "1", "--queue", "4", "--status=" + port, "--name", HOSTILE,
                "--socket", socket.toString(), "--output", tmp.resolve("thumbs").toString(),
                "--work", tmp.resolve("work").toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("gateway.out").toFile()).start();
        HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
        String base = "http://127.0.0.1:" + port + "/dmabuf/";
        try {
            await().atMost(PATIENCE).until(() -> Files.exists(socket) || !gateway.isAlive());
            assertThat(gateway.isAlive()).as("the gateway runs; it said:%n%s",
                    Files.readString(tmp.resolve("gateway.out"))).isTrue();
            // a consumer that connects and never reads: every frame beyond the bound (--queue 4) is dropped for it
            WebDriver page = browser();
            try (UnixSocket stalled = UnixSocket.connect(socket)) {
                long me = ProcessHandle.current().pid();
                await().atMost(PATIENCE).ignoreExceptions()
                        .until(() -> python(get(http, base + "status.json"), "d['pipeline']['running']")
                                .equals("true"));
                page.get(base);

                // the exporters: this machine's embedded default alone
                await().atMost(PATIENCE).until(() -> column(page, "exporters", "name").equals(List.of("memfd")));
                assertThat(column(page, "exporters", "kind")).containsExactly("memfd");
                assertThat(column(page, "exporters", "ranking")).containsExactly("100");

                // the live buffers: the ring of the test pattern, as the registry and the kernel see them
                String json = get(http, base + "status.json");
                List<String> ids = List.of(python(json, "sorted(b['id'] for b in d['buffers'])")
                        .replaceAll("[\\[\\]\"]", "").split(", "));
                assertThat(ids).hasSize(6); // --queue 4 for one consumer, and two for the pipeline
                Map<String, Object> dump = JsonReader.object(dump(gateway.pid()));
                @SuppressWarnings("unchecked")
                List<String> held = ((List<Map<String, Object>>) dump.get("buffers")).stream()
                        .map(b -> (String) b.get("id")).sorted().toList();
                assertThat(held).as("the buffers the gateway process holds, from /proc").isEqualTo(ids);
                await().atMost(PATIENCE).until(() -> column(page, "buffers", "id").stream().sorted().toList(),
                        shown -> shown.equals(ids));
                assertThat(column(page, "buffers", "owner")).allSatisfy(o -> assertThat(o)
                        .matches("org\\.dmabuf\\.gateway \\[\\d+\\]"))
                        .containsOnly(python(json, "d['buffers'][0]['owner']").replace("\"", ""));
                assertThat(column(page, "buffers", "format")).containsOnly("XR24 LINEAR 320×240 [0:0+307200/1280]");
                assertThat(column(page, "buffers", "exp-name")).containsOnly("memfd");
                assertThat(column(page, "buffers", "size")).containsOnly("307200");
                // the peer-chosen name: shown as the text it is, no element made of it, no script run
                List<String> names = column(page, "buffers", "name");
                assertThat(names).hasSize(6).allSatisfy(n -> assertThat(n).matches("\\Q" + HOSTILE + "\\E-\\d"));
                assertThat(page.findElements(By.cssSelector("#buffers img"))).isEmpty();
                assertThat(js(page, "return typeof window.pwn")).isEqualTo("undefined");

                // the pipeline: frames/s, the frame counter going on, drops for the consumer that never reads
                await().atMost(PATIENCE).until(() -> Double.parseDouble(page.findElement(By.id("fps")).getText()),
                        fps -> fps > 0);
                long frames = Long.parseLong(page.findElement(By.id("frames")).getText());
                await().atMost(PATIENCE).until(() -> Long.parseLong(page.findElement(By.id("frames")).getText()),
                        n -> n > frames);
                await().atMost(PATIENCE).until(() -> column(page, "consumers", "pid").equals(
                        List.of(Long.toString(me))) && Long.parseLong(column(page, "consumers", "dropped").get(0)) > 0);

                // the thumbnail: loaded, and a new one with new content
                String firstPixels = await().atMost(PATIENCE).until(() -> pixels(page), p -> p != null);
                assertThat(js(page, "return document.getElementById('thumbnail').naturalWidth")).isEqualTo(160L);
                await().atMost(PATIENCE).until(() -> pixels(page), p -> p != null && !p.equals(firstPixels));
            } finally {
                page.quit();
            }
            // bound to this machine's loopback only, as no option said otherwise
            List<String> listening = listening(gateway.pid());
            assertThat(listening).as("the gateway's listening TCP sockets").isNotEmpty()
                    .allSatisfy(a -> assertThat(a).isIn(String.format("0100007F:%04X", port),
                            String.format("0000000000000000FFFF00000100007F:%04X", port)));
            for (InetAddress other : otherLocalAddresses()) {
                assertThatThrownBy(() -> {
                    try (Socket s = new Socket()) {
                        s.connect(new InetSocketAddress(other, port), 5000);
                    }
                }).as("the status page on %s", other).isInstanceOf(ConnectException.class);
            }
        } finally {
            gateway.destroy();
            assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).as("the gateway stops on SIGTERM").isTrue();
        }
    }

    /** A sample of the thumbnail's pixels as drawn in the page, or null while none is loaded. */
    private static String pixels(WebDriver page) {
        return (String) js(page, "const img = document.getElementById('thumbnail');"
                + "if (!img.complete || img.naturalWidth === 0) { return null; }"
                + "const c = document.createElement('canvas'); c.width = img.naturalWidth; c.height = img.naturalHeight;"
                + "const g = c.getContext('2d'); g.drawImage(img, 0, 0);"
                + "return Array.from(g.getImageData(0, c.height >> 1, c.width, 1).data).join(',');");
    }

    private static List<InetAddress> otherLocalAddresses() throws IOException {
        List<InetAddress> found = new ArrayList<>();
        for (NetworkInterface n : Collections.list(NetworkInterface.getNetworkInterfaces())) {
            if (n.isUp()) {
                for (InetAddress a : Collections.list(n.getInetAddresses())) {
                    if (a instanceof Inet4Address && !a.isLoopbackAddress()) {
                        found.add(a);
                    }
                }
            }
        }
        return found;
    }

    private static String dump(long pid) throws Exception {
        Process p = new ProcessBuilder(java(), "-jar", jar().toString(), "--dump", "--json", "--pid",
                Long.toString(pid)).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("--dump --json: %s", out).isZero();
        return out;
    }

    @Test
    void withoutStatusTheGatewayServesNoPageAndListensOnNoTcpPort() throws Exception {
        Path socket = tmp.resolve("run/frames.sock");
        Process gateway = new ProcessBuilder(java(), "-jar", jar().toString(), "--run", "--frames", "100000",
                "--socket", socket.toString(), "--output", tmp.resolve("thumbs").toString(),
                "--work", tmp.resolve("work").toString()).redirectErrorStream(true)
                .redirectOutput(tmp.resolve("gateway.out").toFile()).start();
        try {
            await().atMost(PATIENCE).until(() -> Files.exists(socket) || !gateway.isAlive());
            assertThat(gateway.isAlive()).as("the gateway runs; it said:%n%s",
                    Files.readString(tmp.resolve("gateway.out"))).isTrue();
            assertThat(listening(gateway.pid())).as("the gateway's listening TCP sockets").isEmpty();
            assertThatThrownBy(() -> {
                try (Socket s = new Socket()) {
                    s.connect(new InetSocketAddress(InetAddress.getLoopbackAddress(), Main.STATUS_PORT), 5000);
                }
            }).as("the status page's default port").isInstanceOf(ConnectException.class);
            assertThat(Files.readString(tmp.resolve("gateway.out"))).doesNotContain("status page", "Jetty");
        } finally {
            gateway.destroy();
            assertThat(gateway.waitFor(60, TimeUnit.SECONDS)).as("the gateway stops on SIGTERM").isTrue();
        }
    }
}
