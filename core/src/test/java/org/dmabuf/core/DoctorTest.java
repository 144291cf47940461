package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.dmabuf.spi.MachineCheck;
import org.dmabuf.spi.MachineCheck.Finding;
import org.dmabuf.spi.MachineCheck.Status;
import org.junit.jupiter.api.Test;

/**
 * The machine check on this machine, whatever it has: the core's findings agree with what the files say (a heap
 * folder, a udmabuf node), memfd sealing works so the status is 0, and what is absent is named with what to do;
 * device checks are reported as given, a failing one as a finding; text a device or a file brings is printed
 * escaped, and the JSON is JSON (read back by Python's parser).
 */
class DoctorTest {
    /** A device check that reports what it is given. */
    private record Fixed(String area, List<Finding> found) implements MachineCheck {
        @Override
        public List<Finding> check() {
            return found;
        }
    }

    private record Report(int status, String out) {
    }

    private static Report run(List<String> args, List<? extends MachineCheck> checks) {
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        int status = Doctor.run(args, new PrintStream(bytes, true, StandardCharsets.UTF_8), checks);
        return new Report(status, bytes.toString(StandardCharsets.UTF_8));
    }

    @Test
    void theCoresFindingsAgreeWithTheMachineAndTheFallbackIsNamed() throws Exception {
        Report r = run(List.of(), List.of());
        assertThat(r.status()).as(r.out()).isZero();
        assertThat(r.out()).contains("kernel: Linux " + Files.readString(Path.of("/proc/sys/kernel/osrelease"))
                .strip()).containsPattern("\\[OK\\] +memfd +memfd: sealed memfds work")
                .contains("seals=shrink,grow,seal");
        if (!Files.isDirectory(Path.of("/dev/dma_heap"))) {
            assertThat(r.out()).containsPattern("\\[ABSENT\\] dma-heap +/dev/dma_heap: no dma-heaps")
                    .contains("dma-heap /dev/dma_heap: use a kernel with CONFIG_DMABUF_HEAPS_SYSTEM");
        }
        if (!Files.exists(Path.of("/dev/udmabuf"))) {
            assertThat(r.out()).containsPattern("\\[ABSENT\\] udmabuf +/dev/udmabuf: no udmabuf")
                    .contains("udmabuf /dev/udmabuf: use a kernel with CONFIG_UDMABUF");
        }
        if (!Files.isDirectory(Path.of("/dev/dma_heap")) && !Files.exists(Path.of("/dev/udmabuf"))) {
            assertThat(r.out()).as("no dma-buf to try sync_file on")
                    .containsPattern("\\[ABSENT\\] sync_file +DMA_BUF_IOCTL_EXPORT_SYNC_FILE: no dma-buf")
                    .contains("Result: buffers can be allocated and shared (memfd memfd); exit status 0");
        }
        assertThat(r.out()).as("without device checks, that is said").contains("devices DRM and V4L2: put the "
                + "exporter jars");
        String works = r.out().substring(r.out().indexOf("What works:"), r.out().indexOf("What does not:"));
        assertThat(works).contains("memfd memfd: sealed memfds work");
    }

    @Test
    void deviceChecksAreReportedAndOneThatThrowsIsAFindingOfItsOwn() {
        MachineCheck broken = new MachineCheck() {
            @Override
            public String area() {
                return "broken";
            }

            @Override
            public List<Finding> check() {
                throw new IllegalStateException("no luck");
            }
        };
        Fixed drm = new Fixed("drm", List.of(new Finding("drm", "/dev/dri/card9", Status.FAILED, "cannot be opened",
                Map.of("open", "EACCES"), "join group video")));
        Report r = run(List.of(), List.of(drm, broken));
        assertThat(r.out()).containsPattern("\\[FAILED\\] drm +/dev/dri/card9: cannot be opened")
                .contains("open=EACCES").contains("drm /dev/dri/card9: join group video")
                .containsPattern("\\[FAILED\\] broken +broken: the check failed: java.lang.IllegalStateException: no "
                        + "luck").doesNotContain("devices DRM and V4L2");
        assertThat(r.status()).as("memfd still works").isZero();
    }

    @Test
    void namesFromDevicesArePrintedEscapedAndTheJsonIsJson() throws Exception {
        String hostile = "card\u001b[2J\"q\\\n\u009bx\u2028";
        Fixed v4l2 = new Fixed("v4l2", List.of(new Finding("v4l2", "/dev/" + hostile, Status.OK, "driver " + hostile,
                Map.of("card", hostile), "")));
        Report text = run(List.of(), List.of(v4l2));
        assertThat(text.out()).doesNotContain("\u001b").doesNotContain("\u009b")
                .contains("/dev/card\\x1b[2J\"q\\\\x0a\\x9bx").contains("card=card\\x1b[2J");
        Report json = run(List.of("--json"), List.of(v4l2));
        assertThat(json.status()).isZero();
        assertThat(json.out()).doesNotContain("\u001b").doesNotContain("\n\"");
        String py = "import json,sys\n"
                + "d=json.load(sys.stdin)\n"
                + "f=[x for x in d['findings'] if x['area']=='v4l2'][0]\n"
                + "m=[x for x in d['findings'] if x['area']=='memfd'][0]\n"
                + "assert f['subject']=='/dev/'+sys.argv[1], f['subject']\n"
                + "assert f['facts']['card']==sys.argv[1]\n"
                + "print(d['status'], d['shareable'], m['status'], m['facts']['seals'], len(d['findings']))\n";
        Process p = new ProcessBuilder("python3", "-c", py, hostile.replace("\n", "\n")).start();
        p.getOutputStream().write(json.out().getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                + new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(60, TimeUnit.SECONDS)).isTrue();
        p.getOutputStream().close(); // the streams' fds now, not when the JVM's reaper gets to them
        p.getInputStream().close();
        p.getErrorStream().close();
        assertThat(p.exitValue()).as(out).isZero();
        assertThat(out.strip()).startsWith("0 True OK shrink,grow,seal ");
    }

    @Test
    void anUnknownArgumentIsStatusTwo() {
        Report r = run(List.of("--yaml"), List.of());
        assertThat(r.status()).isEqualTo(2);
        assertThat(r.out()).contains("doctor: unknown argument '--yaml' (only --json)");
    }

    @Test
    void theGogoCommandRunsTheRegisteredChecks() throws Exception {
        DmabufCommands commands = new DmabufCommands(null, null);
        commands.machineChecks = List.of(new Fixed("v4l2", List.of(new Finding("v4l2", "/dev/video7", Status.OK,
                "vivid: capture, streaming, EXPBUF and DMABUF import", Map.of("driver", "vivid"), ""))));
        try {
            String text = commands.doctor(false);
            assertThat(text).containsPattern("\\[OK\\] +v4l2 +/dev/video7: vivid: capture")
                    .contains("v4l2 /dev/video7: vivid").contains("memfd memfd: sealed memfds work")
                    .endsWith("exit status 0");
            assertThat(commands.doctor(true)).startsWith("{\"status\":0,\"shareable\":true,")
                    .contains("{\"area\":\"v4l2\",\"subject\":\"/dev/video7\",\"status\":\"OK\"");
        } finally {
            commands.deactivate();
        }
    }
}
