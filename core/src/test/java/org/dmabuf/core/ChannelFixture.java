package org.dmabuf.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Files;
import java.nio.file.Path;
import org.dmabuf.api.ChannelListener;
import org.dmabuf.api.ChannelOptions;
import org.dmabuf.api.CpuAccess;
import org.dmabuf.api.DmaBuf;
import org.dmabuf.api.SyncDirection;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two registries in one process (two "processes" as far as buffers go), "alice" and "bob", each with a memfd
 * exporter, and bob listening on a real Unix-domain socket. After each test: the socket file removed, no fd and no
 * mapping left.
 */
abstract class ChannelFixture {
    @TempDir
    Path tmp;
    Path socketPath;
    StandaloneRegistry alice;
    StandaloneRegistry bob;
    ChannelListener listener;
    private long fdsBefore;
    private long mapsBefore;

    @BeforeEach
    void open() {
        fdsBefore = Leaks.openFds();
        mapsBefore = Leaks.memfdMappings();
        Path dir = tmp.resolve("run");
        socketPath = dir.resolve("channel.sock");
        alice = registry("alice");
        bob = registry("bob");
        listener = bob.channels().listen(socketPath, ChannelOptions.sameUser());
    }

    static StandaloneRegistry registry(String owner) {
        TestExporter e = new TestExporter("system", 100);
        return new StandaloneRegistry(owner).addExporter(e, e.props);
    }

    @AfterEach
    void nothingLeft() {
        listener.close();
        alice.close();
        bob.close();
        assertThat(Files.exists(socketPath)).as("the socket file is removed").isFalse();
        assertThat(Leaks.openFds()).as("buffer fds left").isEqualTo(fdsBefore);
        assertThat(Leaks.memfdMappings()).as("mappings left").isEqualTo(mapsBefore);
    }

    static void fill(DmaBuf b, long tag) {
        try (CpuAccess a = b.beginCpuAccess(SyncDirection.WRITE)) {
            byte[] all = new byte[(int) b.size()];
            for (int i = 0; i < all.length; i++) {
                all[i] = PeerMain.pattern(i, tag);
            }
            a.write(0, all, 0, all.length);
        }
    }
}
