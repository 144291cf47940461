package org.dmabuf.gateway;

import java.io.File;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Hashtable;
import java.util.List;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.IntConsumer;
import java.util.stream.Stream;
import org.osgi.framework.Bundle;
import org.osgi.framework.BundleContext;
import org.osgi.framework.BundleException;
import org.osgi.framework.Constants;
import org.osgi.framework.InvalidSyntaxException;
import org.osgi.framework.ServiceReference;
import org.osgi.framework.launch.Framework;
import org.osgi.framework.launch.FrameworkFactory;

/**
 * The gateway launcher: starts Apache Felix with the distribution's bundles ({@code bundle/} next to this jar) and
 * this jar itself as a bundle (it carries the main job), then either opens the Gogo shell on the console
 * (interactive, the default) or, with {@code --run}, runs the main job and exits with its status ({@code --run}
 * leaves out the bundles only the shell uses, {@link #INTERACTIVE_ONLY}). Felix reads the bundles in place
 * ({@code reference:} locations): nothing is copied at start, and a jar of the distribution must not be rewritten
 * while the gateway runs (replace it by renaming a new file over it, as package managers do, or while it is
 * stopped), as for any jar a JVM runs from. The work folder ({@code work/} next to the jar, or
 * {@code --work DIR}) holds the Felix cache (cleaned at every start), JNA's unpacked native library, the
 * thumbnails and the frame socket. {@code bin/dmabuf-gateway} starts it with a class-data sharing archive of its
 * classes (made at the first run, in {@code work/cds}); {@code java -jar} starts it without.
 *
 * <p>Threads: {@link #main} runs on the JVM's main thread and waits there for the framework to stop
 * (interactive) or for the job's status ({@code --run}); the Gogo shell reads the console on its own thread and
 * stops the framework at end of input or {@code stop 0}; the job reports its status from its own thread through an
 * {@link IntConsumer} service; a shutdown hook stops the framework on SIGTERM or Ctrl-C, so every buffer is
 * released.
 */
public final class Main {
    /** Framework property: run the main job and exit. */
    static final String RUN = "dmabuf.gateway.run";
    /** Framework property: when the launcher started, in {@link System#nanoTime()}. */
    static final String START = "dmabuf.gateway.start.nanos";
    /**
     * System property: {@code true} prints, at the first frame, where the start's time went (the framework's
     * start, each bundle's start, the job's steps), in milliseconds since the launcher's {@code main}.
     */
    static final String TRACE = "dmabuf.gateway.trace.start";
    /**
     * System property: the start's steps so far, when {@link #TRACE} is set (a system property, because the job's
     * classes are the bundle's, not the launcher's: they share only the JVM's properties).
     */
    static final String STEPS = "dmabuf.gateway.trace.steps";
    /** Service property of the launcher's {@link IntConsumer} that takes the job's exit status. */
    static final String EXIT = "dmabuf.gateway.exit";
    /**
     * Framework property: the status page is on ({@code --status[=PORT]}: the port, or empty for the default or
     * the configuration file's); set by the launcher, read by {@link ConfigLoader}.
     */
    static final String STATUS = "dmabuf.gateway.status";
    /** The status page's configuration (its component's PID, and the file {@code conf/PID.cfg} that turns it on). */
    static final String STATUS_PID = "org.dmabuf.status";
    /** The status page's port unless {@code --status=PORT} or the configuration file's {@code port} says. */
    static final int STATUS_PORT = 8080;
    /** Felix HTTP's framework properties: the address it binds and its port. */
    static final String HTTP_HOST = "org.apache.felix.http.host";
    static final String HTTP_PORT = "org.osgi.service.http.port";
    /**
     * The bundles only the status page uses (the HTTP service and the servlet API, the page itself), by their jars'
     * names: installed only when the status page is on.
     */
    static final List<String> STATUS_ONLY = List.of("org.apache.felix.http.", "org.dmabuf.status.");
    /** The Gogo shell's bundle: started last, once every command is registered. */
    private static final String SHELL = "org.apache.felix.gogo.shell";
    /**
     * The bundles only the interactive gateway uses (the shell's runtime and commands, the metatype and log services
     * its commands and a management console read), by their jars' names: {@code --run} neither installs nor starts
     * them, so they cost its start nothing.
     */
    static final List<String> INTERACTIVE_ONLY = List.of("org.apache.felix.gogo.", "org.apache.felix.metatype.",
            "org.apache.felix.log.");

    private Main() {
    }

    private static final String USAGE = String.join("\n",
            "usage: java -jar dmabuf-gateway.jar [--run [options]]",
            "       java -jar dmabuf-gateway.jar --doctor [--json]",
            "       java -jar dmabuf-gateway.jar --dump [--json] [--pid PID]",
            "  --doctor [--json]     check what this machine offers (kernel, dma-heaps and their permissions,",
            "                        udmabuf, memfd, sync_file, DRM and V4L2 nodes) and say what works, what does not",
            "                        and what to do; exit status 0 if buffers can be allocated and shared at all (a",
            "                        sealed memfd counts), 1 if not; --json: as one JSON object. Starts no framework",
            "  --dump                every dma-buf and shared memfd of the machine, the processes that hold it (by fd",
            "                        or mapping) and totals per process and per exporter, as Android's dmabuf_dump;",
            "                        --json for JSON; --pid PID for one process; run as root to see every process.",
            "                        Starts no framework",
            "  (no --run)            start the gateway with the Gogo shell on the console (commands: dmabuf:exporters,",
            "                        dmabuf:bufinfo, ...; end of input or 'stop 0' stops it)",
            "  --run                 run the frame pipeline and exit with its status",
            "  --frames N            frames to process (default 30)",
            "  --every N             a JPEG thumbnail of every Nth frame (default 10)",
            "  --output DIR          where thumbnails go (default work/thumbnails next to the jar)",
            "  --socket FILE         where frames are offered to other processes (default work/run/frames.sock)",
            "  --consumers N         wait for N consumers before producing (default 0)",
            "  --source auto|camera|pattern  auto: a configured V4L2 camera if there is one at start, else the",
            "                        test pattern; camera: wait for the configured camera",
            "  --exporter NAME       the exporter of the test pattern's buffers (default: the best ranked)",
            "  --format FMT          the test pattern's pixel format: YUYV, UYVY, NV12, NV21, NV16, NV12M, NV21M, YUV420,",
            "                        YUV420M, GREY, RGB24, BGR24, XBGR32, XRGB32, or a V4L2 fourcc of one of them",
            "                        (default XBGR32, V4L2's XR24); the M formats have a buffer per plane",
            "  --size WxH            the test pattern's width and height in pixels (default 320x240)",
            "  --pattern bars|bytes  what the test pattern writes: moving colour bars (default), or the byte pattern",
            "                        of docs/wire-format.md that a consumer checks byte by byte against the tag",
            "  --stride-align N      lay the test pattern's lines out for a device that needs strides that are a",
            "                        multiple of N bytes (a power of two; default 1: tight lines)",
            "  --fps N               the test pattern's frame rate (default 30; 0: as fast as it can)",
            "  --queue N             frames that may wait for each consumer or be held by it (sent and not yet",
            "                        released); beyond that, frames are dropped for that consumer alone (counted",
            "                        and reported), never waited for (default 8)",
            "  --name TEXT           the test pattern's buffers' name, numbered per buffer (default pattern)",
            "  --status[=PORT]       serve the status page (http://127.0.0.1:PORT/dmabuf/, default port 8080):",
            "                        exporters, live buffers, the pipeline's figures and latest thumbnail; no",
            "                        authentication. Also on when the conf folder has org.dmabuf.status.cfg (port=,",
            "                        host=; host 127.0.0.1 unless set there)",
            "  --conf DIR            ConfigAdmin files PID.cfg / FACTORYPID~NAME.cfg (default conf next to the jar)",
            "  --work DIR            the Felix cache (cleaned at start), JNA's native library and the job's output",
            "                        (default work next to the jar)",
            "  --timeout SECONDS     give up after this long (default 120)");

    /**
     * Starts the gateway.
     *
     * @param args see {@code --help}
     */
    public static void main(String[] args) throws Exception {
        long start = System.nanoTime();
        if (args.length > 0 && args[0].equals("--dump")) { // no framework: the core's classes on the class path
            System.exit(org.dmabuf.core.SystemBuffers.run(List.of(args).subList(1, args.length), System.out));
            return;
        }
        if (args.length > 0 && args[0].equals("--doctor")) { // the core and the exporters' checks on the class path
            System.exit(org.dmabuf.core.Doctor.run(List.of(args).subList(1, args.length), System.out));
            return;
        }
        Args a;
        try {
            a = parse(args);
        } catch (RuntimeException e) {
            System.err.println("dmabuf-gateway: " + e.getMessage() + "\n" + USAGE);
            System.exit(2);
            return;
        }
        if (a.help()) {
            System.out.println(USAGE);
            return;
        }
        System.exit(new Main().launch(a.run(), a.timeout(), start, a.work(), a.options()));
    }

    /**
     * The command line, parsed.
     *
     * @param run {@code --run}
     * @param timeout {@code --timeout}, seconds
     * @param work {@code --work}, or null
     * @param options the framework properties the options set
     * @param help {@code --help}
     */
    record Args(boolean run, long timeout, Path work, Map<String, String> options, boolean help) {
    }

    /**
     * Parses the command line.
     *
     * @param args the arguments
     * @return what they ask for
     * @throws RuntimeException naming the bad argument (an unknown option, a number that is none, a pixel format
     *         the project does not have, a missing value)
     */
    static Args parse(String[] args) {
        Map<String, String> options = new HashMap<>();
        boolean run = false;
        long timeout = 120;
        Path work = null;
        for (int i = 0; i < args.length; i++) {
            String arg = args[i];
            if (arg.equals("--status") || arg.startsWith("--status=")) {
                options.put(STATUS, arg.equals("--status") ? "" : Integer.toString(port(arg.substring(9))));
                continue;
            }
            if (arg.startsWith("--") && !arg.equals("--run") && !arg.equals("--help") && i + 1 >= args.length) {
                throw new IllegalArgumentException(arg + " needs a value");
            }
            switch (arg) {
                case "--run" -> run = true;
                case "--timeout" -> timeout = Long.parseLong(args[++i]);
                case "--frames" -> options.put(MainJob.FRAMES, Integer.toString(Integer.parseInt(args[++i])));
                case "--every" -> options.put(MainJob.EVERY, Integer.toString(Integer.parseInt(args[++i])));
                case "--consumers" -> options.put(MainJob.CONSUMERS, Integer.toString(Integer.parseInt(args[++i])));
                case "--output" -> options.put(MainJob.OUTPUT, Path.of(args[++i]).toAbsolutePath().toString());
                case "--socket" -> options.put(MainJob.SOCKET, Path.of(args[++i]).toAbsolutePath().toString());
                case "--source" -> options.put(MainJob.SOURCE, args[++i]);
                case "--exporter" -> options.put(MainJob.EXPORTER, args[++i]);
                case "--format" -> options.put(MainJob.FORMAT, PatternSource.pixelFormat(args[++i]).name());
                case "--pattern" -> options.put(MainJob.PATTERN, patternKind(args[++i]));
                case "--size" -> options.put(MainJob.SIZE, size(args[++i]));
                case "--stride-align" -> options.put(MainJob.STRIDE_ALIGN, Integer.toString(
                        org.dmabuf.api.DeviceConstraints.builder().strideAlignment(Integer.parseInt(args[++i])).build()
                                .strideAlignment()));
                case "--name" -> options.put(MainJob.NAME, org.dmabuf.api.BufferRequest.checkName("--name",
                        args[++i]));
                case "--fps" -> options.put(MainJob.FPS, Integer.toString(Integer.parseInt(args[++i])));
                case "--queue" -> options.put(MainJob.QUEUE, Integer.toString(Integer.parseInt(args[++i])));
                case "--conf" -> options.put(ConfigLoader.CONF, Path.of(args[++i]).toAbsolutePath().toString());
                case "--work" -> work = Path.of(args[++i]).toAbsolutePath();
                case "--help", "-h" -> {
                    return new Args(run, timeout, work, options, true);
                }
                default -> throw new IllegalArgumentException("unknown argument " + arg);
            }
        }
        return new Args(run, timeout, work, options, false);
    }

    /**
     * A {@code --size} argument, checked: {@code WIDTHxHEIGHT}, both positive.
     *
     * @param value the argument
     * @return the size, as {@code WIDTHxHEIGHT}
     * @throws org.dmabuf.api.InvalidArgumentException naming the argument
     */
    static String size(String value) {
        String[] wh = value.strip().toLowerCase(java.util.Locale.ROOT).split("x", -1);
        try {
            if (wh.length == 2 && Integer.parseInt(wh[0]) > 0 && Integer.parseInt(wh[1]) > 0) {
                return Integer.parseInt(wh[0]) + "x" + Integer.parseInt(wh[1]);
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new org.dmabuf.api.InvalidArgumentException("--size", "'" + value
                + "' is no size: WIDTHxHEIGHT in pixels, e.g. 1920x1080");
    }

    /**
     * A {@code --status=PORT} argument, checked.
     *
     * @param value the port
     * @return it, 1 to 65535
     * @throws org.dmabuf.api.InvalidArgumentException naming the argument
     */
    static int port(String value) {
        try {
            int port = Integer.parseInt(value.strip());
            if (port > 0 && port <= 65535) {
                return port;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new org.dmabuf.api.InvalidArgumentException("--status", "'" + value
                + "' is no TCP port: 1 to 65535");
    }

    /** A {@code --pattern} argument, checked. */
    private static String patternKind(String value) {
        if (!"bars".equals(value) && !"bytes".equals(value)) {
            throw new org.dmabuf.api.InvalidArgumentException("--pattern", "'" + value
                    + "' is no test pattern: bars or bytes");
        }
        return value;
    }

    private int launch(boolean run, long timeoutSeconds, long start, Path workDir, Map<String, String> options)
            throws Exception {
        PrintStream out = System.out; // the console's, before Gogo's ThreadIO multiplexes System.out
        Path home = distribution();
        Path work = workDir != null ? workDir : home.resolve("work");
        Files.createDirectories(work);
        System.setProperty("jna.tmpdir", work.resolve("jna").toString());
        // one line per log record (the bundles log through System.Logger, which is java.util.logging here)
        System.setProperty("java.util.logging.SimpleFormatter.format", "%4$s: %3$s: %5$s%6$s%n");
        System.setProperty("java.awt.headless", "true");

        Map<String, String> props = new HashMap<>();
        props.put(Constants.FRAMEWORK_STORAGE, work.resolve("felix-cache").toString());
        props.put(Constants.FRAMEWORK_STORAGE_CLEAN, Constants.FRAMEWORK_STORAGE_CLEAN_ONFIRSTINIT);
        props.put(START, Long.toString(start));
        props.put(RUN, Boolean.toString(run));
        props.put(MainJob.OUTPUT, work.resolve("thumbnails").toString());
        Path socket = work.resolve("run").resolve("frames.sock");
        if (socket.toString().length() > 100) { // sun_path holds 107 bytes
            socket = Path.of(System.getProperty("java.io.tmpdir"), "dmabuf-gateway-" + ProcessHandle.current().pid(),
                    "frames.sock");
        }
        props.put(MainJob.SOCKET, socket.toString());
        props.put(ConfigLoader.CONF, home.resolve("conf").toString());
        props.put("java.awt.headless", "true");
        props.putAll(options);
        boolean statusPage = status(props);
        props.put("felix.log.level", "1");
        // interactive: the shell reads the console and stops the framework at end of input (--run has no shell);
        // -Dgosh.args=--nointeractive (a service, no console): no shell reads, the framework runs until stopped
        props.put("gosh.args", System.getProperty("gosh.args", ""));
        Framework framework = ServiceLoader.load(FrameworkFactory.class).iterator().next().newFramework(props);
        step(start, "main");
        framework.init();
        step(start, "framework init");
        Runtime.getRuntime().addShutdownHook(new Thread(() -> stop(framework), "dmabuf-gateway-shutdown"));
        BundleContext ctx = framework.getBundleContext();

        CompletableFuture<Integer> status = new CompletableFuture<>();
        Hashtable<String, Object> exitProps = new Hashtable<>();
        exitProps.put(EXIT, Boolean.TRUE);
        ctx.registerService(IntConsumer.class, status::complete, exitProps);

        List<Bundle> installed = new ArrayList<>();
        Bundle shell = null;
        for (Path jar : bundles(home.resolve("bundle"))) {
            boolean isShell = jar.getFileName().toString().startsWith(SHELL);
            if (run && interactiveOnly(jar) || !statusPage && statusOnly(jar)) {
                continue;
            }
            Bundle b = ctx.installBundle(reference(jar));
            if (isShell) {
                shell = b;
            } else {
                installed.add(b);
            }
        }
        installed.add(ctx.installBundle(reference(self())));
        if (shell != null) {
            installed.add(shell); // last: its console must not run before the commands exist
        }
        step(start, "bundles installed");
        framework.start();
        step(start, "framework started");
        for (Bundle b : installed) {
            if (b.getHeaders().get(Constants.FRAGMENT_HOST) == null) {
                try {
                    b.start();
                    step(start, b.getSymbolicName());
                } catch (BundleException e) {
                    out.println("dmabuf-gateway: bundle " + b.getSymbolicName() + " did not start: " + e.getMessage());
                    if (run) {
                        stop(framework);
                        return 1;
                    }
                }
            }
        }
        if (!run) {
            if (shell == null) {
                out.println("dmabuf-gateway: no Gogo shell in " + home.resolve("bundle") + "; stop with Ctrl-C");
            }
            framework.waitForStop(0);
            return 0;
        }
        try {
            return status.get(timeoutSeconds, TimeUnit.SECONDS);
        } catch (TimeoutException e) {
            out.println("dmabuf-gateway: FAILED: the main job did not finish within " + timeoutSeconds
                    + " s; missing services: " + missing(ctx));
            return 1;
        } finally {
            stop(framework);
        }
    }

    /**
     * Notes a step of the start, when {@link #TRACE} is set.
     *
     * @param start the launcher's start, {@link System#nanoTime()}
     * @param what the step that just ended
     */
    static void step(long start, String what) {
        if (Boolean.getBoolean(TRACE)) {
            synchronized (STEPS) {
                String before = System.getProperty(STEPS, "");
                System.setProperty(STEPS, before + (before.isEmpty() ? "" : ", ") + what + " "
                        + (System.nanoTime() - start) / 1_000_000);
            }
        }
    }

    private static String missing(BundleContext ctx) {
        List<String> missing = new ArrayList<>();
        for (String type : List.of("org.dmabuf.api.DmaBufRegistry", "org.dmabuf.spi.DmaBufExporter")) {
            ServiceReference<?>[] refs;
            try {
                refs = ctx.getAllServiceReferences(type, null); // all: the launcher does not import their packages
            } catch (InvalidSyntaxException e) {
                throw new IllegalStateException(e);
            }
            if (refs == null) {
                missing.add(type);
            }
        }
        return missing.isEmpty() ? "none (the job hung)" : String.join(", ", missing);
    }

    private static void stop(Framework framework) {
        try {
            if ((framework.getState() & (Bundle.ACTIVE | Bundle.STARTING)) != 0) {
                framework.stop();
                framework.waitForStop(TimeUnit.SECONDS.toMillis(30));
            }
        } catch (BundleException | InterruptedException e) {
            System.err.println("dmabuf-gateway: stopping the framework: " + e);
        }
    }

    private static List<Path> bundles(Path dir) throws IOException {
        if (!Files.isDirectory(dir)) {
            throw new IOException("the bundle folder " + dir + " is missing: run the gateway from its distribution");
        }
        try (Stream<Path> s = Files.list(dir)) {
            return s.filter(p -> p.toString().endsWith(".jar")).sorted(Comparator.comparing(Path::toString))
                    .toList();
        }
    }

    /**
     * Whether the status page is on ({@code --status}, or {@code org.dmabuf.status.cfg} in the configuration
     * folder), and if so, the HTTP service's address in the framework properties: the port from
     * {@code --status=PORT}, else the file's {@code port}, else {@link #STATUS_PORT}; the host from the file's
     * {@code host}, else the system property {@value #HTTP_HOST}, else {@code 127.0.0.1} (this machine only).
     *
     * @param props the framework properties so far ({@link #STATUS} set by {@code --status}); the address is added
     * @return true if the status page is on
     * @throws IOException if the configuration file cannot be read
     */
    static boolean status(Map<String, String> props) throws IOException {
        Path file = Path.of(props.getOrDefault(ConfigLoader.CONF, "conf")).resolve(STATUS_PID + ".cfg");
        Map<String, Object> cfg = Files.isRegularFile(file)
                ? org.dmabuf.spi.ExporterConfiguration.read(file).properties() : null;
        String option = props.get(STATUS);
        if (option == null && cfg == null) {
            return false;
        }
        String port = option != null && !option.isEmpty() ? option
                : cfg != null && cfg.get("port") != null ? Integer.toString(port(cfg.get("port").toString()))
                : Integer.toString(STATUS_PORT);
        String host = cfg != null && cfg.get("host") != null ? cfg.get("host").toString()
                : System.getProperty(HTTP_HOST, "127.0.0.1");
        props.put(STATUS, port);
        props.put(HTTP_PORT, port);
        props.put(HTTP_HOST, host);
        props.put("org.apache.felix.http.enable", "true");
        props.put("org.apache.felix.https.enable", "false");
        return true;
    }

    /**
     * Whether a bundle of the distribution serves the status page only ({@link #STATUS_ONLY}).
     *
     * @param jar the bundle's jar
     * @return true if it is installed only when the status page is on
     */
    static boolean statusOnly(Path jar) {
        String name = jar.getFileName().toString();
        return STATUS_ONLY.stream().anyMatch(name::startsWith);
    }

    /**
     * Whether a bundle of the distribution serves the interactive gateway only ({@link #INTERACTIVE_ONLY}).
     *
     * @param jar the bundle's jar
     * @return true if {@code --run} leaves it out
     */
    static boolean interactiveOnly(Path jar) {
        String name = jar.getFileName().toString();
        return INTERACTIVE_ONLY.stream().anyMatch(name::startsWith);
    }

    /**
     * A bundle location that Felix reads in place ({@code reference:file:...}) rather than copying the jar into
     * its cache at every start.
     */
    static String reference(Path jar) {
        return "reference:" + jar.toUri();
    }

    private static Path self() throws URISyntaxException {
        return Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    }

    /** The distribution's folder: where this jar is. */
    static Path distribution() throws URISyntaxException {
        Path jar = self();
        return jar.getParent() == null ? new File(".").toPath() : jar.getParent();
    }
}
