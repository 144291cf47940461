package org.dmabuf.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;

/**
 * {@code dmabuf-gateway.jar --doctor} in the kernel guest, where everything is: the system heap allocates, udmabuf
 * with its limit, vgem's card0 with dumb buffers and PRIME, vivid's video0 and video1 with capture, streaming,
 * EXPBUF and DMABUF import, and sync_file export. The JSON is read with Python's parser, and each finding is checked
 * against the kernel's own view: {@code uname -r}, {@code stat}, {@code size_limit_mb} in sysfs, the driver
 * name {@code DRM_IOCTL_VERSION} gives Python, and {@code v4l2-ctl --all}.
 */
@Tag("kernel")
class DoctorKernelTest {
    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(300, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("%s said:%n%s", cmd, out).isZero();
        return out;
    }

    private static List<String> doctor(String... args) throws Exception {
        Path testClasses = Path.of(DoctorKernelTest.class.getProtectionDomain().getCodeSource().getLocation().toURI());
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:-UsePerfData", "-XX:TieredStopAtLevel=1", "-jar",
                testClasses.resolveSibling("dmabuf-gateway.jar").toString(), "--doctor"));
        cmd.addAll(List.of(args));
        return cmd;
    }

    /** The JSON report as {@code subject -> key -> value}, with {@code status}, {@code area} and {@code summary}. */
    private static Map<String, Map<String, String>> findings(String json) throws Exception {
        String py = "import json,sys\n"
                + "d=json.load(sys.stdin)\n"
                + "print('\\t'.join(['_','status',str(d['status'])]))\n"
                + "for f in d['findings']:\n"
                + "  for k in ('area','status','summary','advice'): print('\\t'.join([f['subject'],k,f[k]]))\n"
                + "  for k,v in f['facts'].items(): print('\\t'.join([f['subject'],k,v]))\n";
        Process p = new ProcessBuilder("python3", "-c", py).redirectErrorStream(true).start();
        p.getOutputStream().write(json.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as("python read the JSON: %s%n%s", out, json).isZero();
        Map<String, Map<String, String>> m = new HashMap<>();
        for (String line : out.split("\n")) {
            String[] f = line.split("\t", 3);
            m.computeIfAbsent(f[0], k -> new HashMap<>()).put(f[1], f.length > 2 ? f[2] : "");
        }
        return m;
    }

    private static String stat(String format, String path) throws Exception {
        return run(List.of("stat", "-L", "-c", format, path)).strip();
    }

    private static String sysfs(String path) throws Exception {
        return Files.readString(Path.of(path)).strip();
    }

    /** A line's value in {@code v4l2-ctl --all}'s Driver Info, e.g. {@code Driver name}. */
    private static String v4l2(String all, String key) {
        return all.lines().filter(l -> l.strip().startsWith(key)).findFirst().orElseThrow().split(":", 2)[1].strip();
    }

    @Test
    void everythingTheGuestHasIsFoundAsTheKernelSeesIt() throws Exception {
        Map<String, Map<String, String>> f = findings(run(doctor("--json")));
        assertThat(f.get("_")).containsEntry("status", "0");
        assertThat(f.get("kernel")).containsEntry("release", run(List.of("uname", "-r")).strip())
                .containsEntry("machine", run(List.of("uname", "-m")).strip());

        Map<String, String> heap = f.get("/dev/dma_heap/system");
        assertThat(heap).containsEntry("status", "OK").containsEntry("alloc_4k", "yes").containsEntry("open", "yes")
                .containsEntry("owner", stat("%U(%u)", "/dev/dma_heap/system"))
                .containsEntry("group", stat("%G(%g)", "/dev/dma_heap/system"))
                .containsEntry("mode", stat("%A", "/dev/dma_heap/system"));

        Map<String, String> udmabuf = f.get("/dev/udmabuf");
        String limit = sysfs("/sys/module/udmabuf/parameters/size_limit_mb");
        assertThat(udmabuf).containsEntry("status", "OK").containsEntry("create_4k", "yes")
                .containsEntry("size_limit_mb", limit).containsEntry("mode", stat("%A", "/dev/udmabuf"));
        assertThat(udmabuf.get("summary")).contains("at most " + limit + " MiB a buffer");

        assertThat(f.get("memfd")).containsEntry("status", "OK").containsEntry("seals", "shrink,grow,seal");
        assertThat(f.get("DMA_BUF_IOCTL_EXPORT_SYNC_FILE")).containsEntry("status", "OK")
                .containsEntry("export", "yes");

        String driver = drmVersionName("/dev/dri/card0");
        assertThat(drmVersionName("/dev/dri/renderD128")).isEqualTo(driver);
        assertThat(f.get("/dev/dri/card0")).containsEntry("area", "drm").containsEntry("status", "OK")
                .containsEntry("driver", driver).containsEntry("node", "primary")
                .containsEntry("prime", "import,export").containsEntry("mode", stat("%A", "/dev/dri/card0"));
        assertThat(f.get("/dev/dri/card0").get("dumb")).startsWith("yes");
        assertThat(f.get("/dev/dri/renderD128")).containsEntry("status", "OK").containsEntry("driver", driver)
                .containsEntry("node", "render");

        for (String video : List.of("/dev/video0", "/dev/video1")) {
            String all = run(List.of("v4l2-ctl", "--all", "-d", video));
            String deviceCaps = all.substring(all.indexOf("Device Caps"));
            deviceCaps = deviceCaps.substring(0, deviceCaps.indexOf("Media Driver Info") > 0
                    ? deviceCaps.indexOf("Media Driver Info") : deviceCaps.length());
            Map<String, String> v = f.get(video);
            assertThat(v).as(video).containsEntry("area", "v4l2").containsEntry("status", "OK")
                    .containsEntry("driver", v4l2(all, "Driver name")).containsEntry("card", v4l2(all, "Card type"))
                    .containsEntry("device_caps", v4l2(all, "Device Caps"))
                    .containsEntry("streaming", deviceCaps.contains("\tStreaming") ? "yes" : "no")
                    .containsEntry("expbuf", "yes (buffer 0 exported)").containsEntry("dmabuf_import", "yes")
                    .containsEntry("mmap", "yes");
            assertThat(v.get("capture")).isEqualTo(deviceCaps.contains("Video Capture Multiplanar")
                    ? "yes (multi-planar)" : deviceCaps.contains("Video Capture") ? "yes" : "no");
        }
        assertThat(f.get("/dev/video0").get("capture")).isEqualTo("yes");
        assertThat(f.get("/dev/video1").get("capture")).isEqualTo("yes (multi-planar)");
        assertThat(f.values().stream().filter(m -> m.containsKey("area")).map(m -> m.get("status")))
                .as("nothing fails or is absent here").containsOnly("OK");
    }

    /**
     * The driver's name as the kernel answers {@code DRM_IOCTL_VERSION} to Python's {@code fcntl.ioctl} (not this
     * project's code): vgem's device is bound to no driver in sysfs, so there is no {@code device/driver} link.
     */
    static String drmVersionName(String node) throws Exception {
        String py = "import ctypes,fcntl,os,sys\n"
                + "class V(ctypes.Structure):\n"
                + "  _fields_=[('a',ctypes.c_int),('b',ctypes.c_int),('c',ctypes.c_int),('nl',ctypes.c_size_t),"
                + "('n',ctypes.c_void_p),('dl',ctypes.c_size_t),('d',ctypes.c_void_p),('sl',ctypes.c_size_t),"
                + "('s',ctypes.c_void_p)]\n"
                + "fd=os.open(sys.argv[1],os.O_RDWR)\n"
                + "buf=ctypes.create_string_buffer(64)\n"
                + "v=V(); v.nl=63; v.n=ctypes.addressof(buf)\n"
                + "fcntl.ioctl(fd,0xC0406400,v)\n" // DRM_IOWR(0x00, struct drm_version), 64 bytes
                + "print(buf.value.decode())\n";
        Process p = new ProcessBuilder("python3", "-c", py, node).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        org.assertj.core.api.Assertions.assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        org.assertj.core.api.Assertions.assertThat(p.exitValue()).as(out).isZero();
        return out;
    }
}
