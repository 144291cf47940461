package org.dmabuf.linux;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Compiles a C probe with gcc against the system's UAPI headers, runs it, and returns its {@code NAME value}
 * lines. Fails loudly, naming the missing package, where gcc or the headers are absent.
 */
public final class CProbe {
    private CProbe() {
    }

    /**
     * Compiles and runs one probe.
     *
     * @param source the C file
     * @param outDir where the binary goes (under target/)
     * @param extraArgs more gcc arguments, for example {@code -I/usr/include/libdrm}
     * @return the values by name, in the probe's order
     */
    public static Map<String, Long> run(Path source, Path outDir, String... extraArgs)
            throws IOException, InterruptedException {
        Files.createDirectories(outDir);
        Path bin = outDir.resolve(source.getFileName().toString().replace(".c", ""));
        List<String> cc = new java.util.ArrayList<>(List.of("gcc", "-Wall", "-Werror", "-o", bin.toString(),
                source.toString()));
        cc.addAll(List.of(extraArgs));
        String compiled = exec(cc);
        Map<String, Long> values = new LinkedHashMap<>();
        for (String line : exec(List.of(bin.toString())).split("\n")) {
            int sp = line.lastIndexOf(' ');
            if (sp > 0) {
                values.put(line.substring(0, sp), Long.parseUnsignedLong(line.substring(sp + 1)));
            }
        }
        if (values.isEmpty()) {
            throw new AssertionError("the probe " + bin + " printed nothing; gcc said: " + compiled);
        }
        return values;
    }

    /**
     * Compiles a C program with gcc.
     *
     * @param source the C file
     * @param outDir where the binary goes (under target/)
     * @param extraArgs more gcc arguments
     * @return the binary
     */
    public static Path compile(Path source, Path outDir, String... extraArgs) throws IOException, InterruptedException {
        Files.createDirectories(outDir);
        Path bin = outDir.resolve(source.getFileName().toString().replace(".c", ""));
        List<String> cc = new java.util.ArrayList<>(List.of("gcc", "-Wall", "-Werror", "-o", bin.toString(),
                source.toString()));
        cc.addAll(List.of(extraArgs));
        exec(cc);
        return bin;
    }

    private static String exec(List<String> cmd) throws IOException, InterruptedException {
        Process p;
        try {
            p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        } catch (IOException e) {
            throw new AssertionError("cannot run " + cmd.get(0) + " (install gcc and linux-libc-dev): " + e, e);
        }
        String out;
        boolean exited;
        try {
            out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            exited = p.waitFor(60, TimeUnit.SECONDS);
        } finally {
            // the pipes to the child: the JDK closes them only when its reaper thread gets to it, so a test counting
            // fds right after would see them go
            p.getOutputStream().close();
            p.getInputStream().close();
            p.getErrorStream().close();
        }
        if (!exited || p.exitValue() != 0) {
            throw new AssertionError(String.join(" ", cmd) + " failed (are gcc, linux-libc-dev and, for DRM, libdrm-dev installed?):\n"
                    + out);
        }
        return out;
    }
}
