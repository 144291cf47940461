package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.felix.gogo.runtime.CommandProcessorImpl;
import org.apache.felix.gogo.runtime.threadio.ThreadIOImpl;
import org.apache.felix.service.command.CommandSession;
import org.dmabuf.api.BufferFormat;
import org.dmabuf.api.BufferId;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.InvalidArgumentException;
import org.dmabuf.api.PixelFormat;
import org.dmabuf.api.Plane;
import org.dmabuf.linux.Fd;
import org.dmabuf.linux.Sys;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The Gogo commands on a registry of test exporters: bufinfo's FORMAT column, info's planes, and frames allocated
 * from the shell.
 */
class DmabufCommandsTest extends RegistryFixture {
    private DmabufCommands commands;

    @BeforeEach
    void commands() {
        commands = new DmabufCommands(scope, null);
    }

    @AfterEach
    void stopCommands() {
        commands.deactivate();
    }

    /** The bufinfo line of the buffer with this name. */
    private String line(String name) {
        return commands.bufinfo().lines().filter(l -> l.contains(" " + name + " ")).findFirst().orElseThrow();
    }

    @Test
    void bufinfoShowsEachBuffersFormatAndModifierOrADash() {
        try (DmaBuf nv12 = scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 640, 480).name("nv12-buf"));
             DmaBuf plain = scope.allocate(BufferRequest.ofSize(65536).name("plain-buf"))) {
            String all = commands.bufinfo();
            assertThat(all.lines().findFirst().orElseThrow()).containsPattern("OWNER\\s+FORMAT\\s+ATTACHED");
            assertThat(line("nv12-buf")).containsPattern("nv12-buf\\s+test\\s+NV12 640x480 LINEAR(\\s|$)");
            assertThat(line("plain-buf")).containsPattern("plain-buf\\s+test\\s+-(\\s|$)");
            assertThat(all).contains("Total 2 objects");
        }
    }

    @Test
    void aTiledModifierAndAShortFourccArePrintedAsTheyAre() {
        BufferFormat tiled = new BufferFormat(PixelFormat.XBGR32.drmFourcc(), 0x0100000000000001L, 64, 16,
                List.of(new Plane(0, 4096, 256)));
        try (DmaBuf t = scope.allocate(BufferRequest.ofSize(4096).format(tiled).name("tiled-buf"));
             DmaBuf grey = scope.allocate(BufferRequest.ofFormat(PixelFormat.GREY, 16, 16).name("grey-buf"))) {
            assertThat(line("tiled-buf")).contains("XR24 64x16 0x0100000000000001");
            assertThat(line("grey-buf")).contains(" R8 16x16 LINEAR");
        }
    }

    @Test
    void infoPrintsEveryPlaneOfTheLayout() {
        try (DmaBuf nv12 = scope.allocate(BufferRequest.ofFormat(PixelFormat.NV12, 640, 480).name("nv12-info"))) {
            BufferFormat f = nv12.format().orElseThrow();
            String info = commands.info(nv12.id().toString());
            assertThat(info).contains("id " + nv12.id()).contains("name nv12-info")
                    .contains("format " + f.describe())
                    .contains("fourcc NV12 (0x3231564e), NV12, modifier LINEAR (0x0000000000000000)")
                    .contains("plane 0: buffer 0 offset 0 length 307200 stride 640")
                    .contains("plane 1: buffer 0 offset 307200 length 153600 stride 640");
            assertThat(commands.info(Long.toString(nv12.inode()))).as("by inode alone").isEqualTo(info);
        }
        try (DmaBuf plain = scope.allocate(BufferRequest.ofSize(4096).name("plain-info"))) {
            assertThat(commands.info(plain.id().toString())).contains("name plain-info").endsWith("format -");
        }
        assertThat(commands.info("0:0/1")).isEqualTo("no live buffer with id or inode 0:0/1");
    }

    @Test
    void allocframeHoldsEveryBufferOfTheFrameUntilReleased() {
        String out = commands.allocframe("NV12M", 64, 32, "frame-buf");
        assertThat(out).startsWith("allocated frame NV12 64x32 LINEAR [0:0+2048/64 1:0+1024/64]");
        Matcher m = Pattern.compile("allocated inode \\d+ size \\d+ exporter system kind memfd exp_name \\S* id "
                + "(\\S+)").matcher(out);
        List<String> ids = m.results().map(r -> r.group(1)).toList();
        assertThat(ids).hasSize(2);
        assertThat(scope.bufinfo()).hasSize(2).allSatisfy(i -> assertThat(i.refCount()).isEqualTo(1));
        for (String id : ids) {
            assertThat(commands.release(id)).startsWith("released inode");
        }
        assertThat(scope.bufinfo()).isEmpty();

        String one = commands.allocframe("nv12", 64, 32, "one-buf", "cma");
        assertThat(one).startsWith("allocated frame NV12 64x32 LINEAR [0:0+2048/64 0:2048+1024/64]")
                .contains("exporter cma").contains("format NV12 64x32 LINEAR");
        assertThatThrownBy(() -> commands.allocframe("NV99", 64, 32, "x"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("no pixel format 'NV99'");
    }

    @Test
    void dumpListsTheMachinesBuffersAsTableOrJson() {
        long self = ProcessHandle.current().pid();
        try (Fd fd = Sys.memfd("dmabuf:gogo-dump", 0)) {
            Sys.ftruncate(fd.get(), 8192);
            BufferId id = Sys.fstat(fd.get()).id();
            Map<String, Object> doc = JsonReader.object(commands.dump(true, 0));
            assertThat(doc).containsEntry("pid", null);
            assertThat(SystemBuffersTest.buffer(doc, id)).as("this JVM's memfd").isNotNull()
                    .containsEntry("size", 8192L).containsEntry("name", "dmabuf:gogo-dump");
            assertThat(SystemBuffersTest.holder(SystemBuffersTest.buffer(doc, id), self))
                    .containsEntry("fds", List.of((long) fd.get()));
            String table = commands.dump(false, (int) self);
            assertThat(table).startsWith("dma-bufs and shared memfds held by pid " + self + "\n")
                    .containsPattern("(?m)^" + Pattern.quote(id.toString())
                            + "\\s+memfd\\s+8192 memfd\\s+dmabuf:gogo-dump$")
                    .contains("    pid " + self + " (").contains("): fd " + fd.get() + "\n")
                    .contains("\nper process\n").contains("\nper exporter\n");
        }
    }

    /** The Gogo runtime itself binds {@code dmabuf:dump}'s options: {@code --json} and {@code --pid N}. */
    @Test
    void dumpRunsInTheGogoRuntimeWithItsOptions() throws Exception {
        long self = ProcessHandle.current().pid();
        ThreadIOImpl io = new ThreadIOImpl();
        io.start();
        try (Fd fd = Sys.memfd("dmabuf:gogo-runtime", 0)) {
            CommandProcessorImpl gogo = new CommandProcessorImpl(io);
            gogo.addCommand("dmabuf", commands, "dump");
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            try (CommandSession s = gogo.createSession(
                    InputStream.nullInputStream(), out, out)) {
                Object json = s.execute("dmabuf:dump --json --pid " + self);
                Map<String, Object> doc = JsonReader.object((String) json);
                assertThat(doc).containsEntry("pid", self);
                assertThat(SystemBuffersTest.buffer(doc, Sys.fstat(fd.get()).id())).isNotNull()
                        .containsEntry("name", "dmabuf:gogo-runtime");
                assertThat((String) s.execute("dmabuf:dump")).startsWith("dma-bufs and shared memfds\n");
            }
        } finally {
            io.stop();
        }
    }
}
