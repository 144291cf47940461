package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.dmabuf.api.BufferChannel;
import org.dmabuf.api.BufferKind;
import org.dmabuf.api.BufferRequest;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.ReceivedBuffer;
import org.dmabuf.linux.DmaBufUapi;
import org.dmabuf.linux.FdInfo;
import org.dmabuf.linux.Sys;
import org.dmabuf.linux.TestSupport;
import org.dmabuf.linux.UnixSocket;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Security guarantees that need real dma-bufs, in the kernel guest: a peer names a system-heap dma-buf with
 * {@code DMA_BUF_SET_NAME} so that the kernel's fdinfo holds lines that look like other keys, and sends it; the
 * receiving registry reports what the kernel says of the buffer (exporter, size, identity), and the name as the
 * peer set it, as a name.
 */
@Tag("kernel")
class SecurityKernelTest {
    @TempDir
    Path tmp;

    @Test
    void aDmaBufNamedToForgeFdinfoKeysIsReportedAsTheKernelSaysEndToEnd() throws Exception {
        long fdsBefore = Leaks.openFds();
        String[] forged = {"x\nexp_name:\tudmabuf\nsize:\t1", "\nsize:\tz\nino:\t1\ncount:\t7", "y\nname:\tz\n"};
        try (StandaloneRegistry alice = new StandaloneRegistry("alice").addExporter(
                    new TestSupport.RawSystemHeap(), TestSupport.RawSystemHeap.properties(1));
             StandaloneRegistry bob = new StandaloneRegistry("bob");
             ChannelListener listener = bob.channels().listen(tmp.resolve("run/forge.sock"), ChannelOptions.sameUser());
             UnixSocket hostile = UnixSocket.connect(listener.path());
             BufferChannel in = listener.accept(Duration.ofSeconds(10))) {
            for (String name : forged) {
                try (DmaBuf b = alice.allocate(BufferRequest.ofSize(8192))) {
                    DmaBufUapi.setName(b.fd(), name); // the raw ioctl: the kernel takes newlines
                    String kernel = Files.readString(Path.of("/proc/self/fdinfo/" + b.fd()));
                    assertThat(kernel).as("the kernel prints the name as it is, newlines and all")
                            .contains("exp_name:\tsystem\n").endsWith("name:\t" + name + "\n");
                    long size = FdInfo.read(b.fd()).size();
                    hostile.send(WireFormat.encode(b.size(), 1, "forged", "system", null), b.fd());
                    try (ReceivedBuffer r = in.receive(Duration.ofSeconds(10))) {
                        DmaBuf got = r.buffer();
                        assertThat(got.kind()).contains(BufferKind.DMA_BUF);
                        assertThat(got.exporterName()).as("the kernel's exp_name").contains("system");
                        assertThat(got.size()).as("the kernel's size").isEqualTo(b.size()).isEqualTo(size);
                        assertThat(got.id()).as("the same buffer").isEqualTo(Sys.fstat(b.fd()).id());
                        assertThat(got.inode()).isEqualTo(Sys.fstat(b.fd()).inode());
                        assertThat(got.name()).as("the peer's name, as a name").isEqualTo(name);
                        assertThat(FdInfo.read(got.fd())).isEqualTo(FdInfo.read(b.fd()));
                        assertThat(bob.bufinfo()).singleElement().satisfies(i -> {
                            assertThat(i.expName()).isEqualTo("system");
                            assertThat(i.size()).isEqualTo(b.size());
                            assertThat(i.name()).isEqualTo(name);
                            assertThat(i.id()).isEqualTo(got.id());
                        });
                    }
                }
            }
            assertThat(bob.bufinfo()).isEmpty();
        }
        assertThat(Leaks.openFds()).as("fds left: %s", Leaks.openFdList()).isEqualTo(fdsBefore);
    }
}
